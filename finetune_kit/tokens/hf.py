"""Hugging Face models: a ``tokenizer.json`` and the model's Jinja chat template.

[`HFChatTokenizer`][finetune_kit.HFChatTokenizer] renders an example with the model's chat
template (Jinja, in a sandbox, with the same settings as ``transformers``: blocks trimmed,
``loopcontrols``, a ``tojson`` that keeps non-ASCII text) and counts the rendered text with the
``tokenizers`` library (``add_special_tokens=False``: the template writes the special tokens
itself). Trainable spans come from the template:

* a template with ``{% generation %}`` blocks (the tags ``transformers`` uses for
  ``return_assistant_tokens_mask``) marks them itself: the k-th block is the k-th assistant
  message;
* otherwise the example is rendered prefix by prefix: the span of assistant message *i* runs
  from the end of ``render(messages[:i], add_generation_prompt=True)`` (the assistant header is
  not trained) to the end of ``render(messages[:i + 1])`` (its end-of-turn tokens are).

A token belongs to the span its first character falls in. Tokens of a message whose ``weight``
is 0 are not trainable.

A tokenizer comes from a local folder (``tokenizer.json`` + ``tokenizer_config.json`` or
``chat_template.jinja``), a ``tokenizer.json`` file (the template from the files beside it), or
a hub id: files are taken from the Hugging Face cache, and downloaded when online. Offline with
no cached copy the error names ``--tokenizer``; finetune-kit never falls back on tiktoken.
Needs the ``hf`` extra (``tokenizers``, ``jinja2``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune_kit.errors import ConfigError, DataError, TokenizerUnavailable
from finetune_kit.tokens.chat import (
    ChatFormat,
    ExampleTokens,
    RenderedExample,
    Segment,
    example_messages,
    trains,
)

if TYPE_CHECKING:
    import jinja2
    import tokenizers

__all__ = ["HFChatTokenizer"]

_GEN_START = "\ue000"  # private-use characters mark {% generation %} blocks while rendering
_GEN_END = "\ue001"
_GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")
_SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token")
_INSTALL_HINT = "pip install 'finetune-kit[hf]'"


def _imports() -> tuple[Any, Any]:
    try:
        import jinja2
        import tokenizers
    except ImportError as exc:
        raise TokenizerUnavailable(
            "Hugging Face tokenizers need the tokenizers and jinja2 packages",
            hint=_INSTALL_HINT,
        ) from exc
    return jinja2, tokenizers


def _environment() -> jinja2.Environment:
    jinja2, _ = _imports()
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Generation(Extension):
        tags = {"generation"}  # noqa: RUF012  (jinja2 declares it a set)

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            call = self.call_method("_mark")
            return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

        def _mark(self, caller: Any) -> str:
            return f"{_GEN_START}{caller()}{_GEN_END}"

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        value: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: Sequence[str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        seps = tuple(separators) if separators is not None else None
        return json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            indent=indent,
            separators=seps,  # type: ignore[arg-type]
            sort_keys=sort_keys,
        )

    def strftime_now(fmt: str) -> str:
        import datetime as dt

        return dt.datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_Generation, "jinja2.ext.loopcontrols"],
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {path}: {exc}", hint="pass a valid tokenizer folder"
        ) from exc


def _pick_template(raw: Any, where: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):  # [{"name": "default", "template": ...}, ...]
        named = {t.get("name"): t.get("template") for t in raw if isinstance(t, dict)}
        chosen = named.get("default")
        if isinstance(chosen, str):
            return chosen
    raise ConfigError(
        f"{where} has no usable chat template",
        hint="give a tokenizer folder whose tokenizer_config.json has a chat_template "
        "(or a chat_template.jinja file)",
    )


class HFChatTokenizer:
    """Counts examples in a Hugging Face model's tokens, rendered with its chat template.

    Build one with [`load`][finetune_kit.HFChatTokenizer.load], or directly from a
    ``tokenizers.Tokenizer`` and a template string.

    Args:
        tokenizer: The ``tokenizers.Tokenizer``.
        chat_template: The Jinja chat template.
        model: The model name.
        special_tokens: Values for the template's ``bos_token``, ``eos_token``, ... variables.
        max_length: The maximum training length (``None``: no cut).

    Raises:
        ConfigError: The template does not compile.
        TokenizerUnavailable: ``tokenizers`` or ``jinja2`` is not installed.
    """

    chat_format: ChatFormat = "hf"

    def __init__(
        self,
        tokenizer: tokenizers.Tokenizer,
        chat_template: str,
        *,
        model: str = "local",
        special_tokens: Mapping[str, str] | None = None,
        max_length: int | None = None,
    ) -> None:
        jinja2, _ = _imports()
        self.model = model
        self.max_length = max_length
        self.chat_template = chat_template
        self._tokenizer = tokenizer
        self._special = dict(special_tokens or {})
        self._uses_generation = _GENERATION_TAG.search(chat_template) is not None
        try:
            self._template = _environment().from_string(chat_template)
        except jinja2.exceptions.TemplateError as exc:
            raise ConfigError(
                f"the chat template of {model} does not compile: {exc}",
                hint="check the template (tokenizer_config.json chat_template)",
            ) from exc
        self._source: str | None = None

    def __repr__(self) -> str:
        return f"<HFChatTokenizer {self.model!r} max_length={self.max_length}>"

    @classmethod
    def load(
        cls, source: str | Path, *, model: str | None = None, max_length: int | None = None
    ) -> HFChatTokenizer:
        """Load a tokenizer and its chat template from a folder, a file or a hub id.

        Args:
            source: A folder with ``tokenizer.json`` (and ``tokenizer_config.json`` or
                ``chat_template.jinja``), a ``tokenizer.json`` file, or a hub id such as
                ``Qwen/Qwen3-8B`` (from the Hugging Face cache; downloaded when online).
            model: The model name (default: ``source``).
            max_length: The maximum training length.

        Returns:
            The tokenizer.

        Raises:
            TokenizerUnavailable: The hub id cannot be had offline (the message names
                ``--tokenizer``), or ``tokenizers`` / ``jinja2`` is missing.
            ConfigError: The folder or file has no tokenizer or no chat template.
        """
        _, tokenizers = _imports()
        path = Path(source).expanduser()
        name = model or str(source)
        if path.exists():
            folder = path if path.is_dir() else path.parent
            tok_file = path / "tokenizer.json" if path.is_dir() else path
            files: dict[str, Path | None] = {
                "tokenizer.json": tok_file,
                "tokenizer_config.json": folder / "tokenizer_config.json",
                "chat_template.jinja": folder / "chat_template.jinja",
            }
        else:
            if str(source).count("/") != 1 or str(source).startswith((".", "/", "~")):
                raise ConfigError(
                    f"no tokenizer at {source}",
                    hint="pass a folder or tokenizer.json file that exists, or a hub id "
                    "like org/model",
                )
            files = _hub_files(str(source), name)
        tok_path = files["tokenizer.json"]
        if tok_path is None or not tok_path.is_file():
            raise ConfigError(
                f"no tokenizer.json in {source}",
                hint="--tokenizer takes a folder holding tokenizer.json, or that file",
            )
        try:
            tok = tokenizers.Tokenizer.from_file(str(tok_path))
        except Exception as exc:  # the Rust side raises plain Exception on a bad file
            raise ConfigError(
                f"cannot load {tok_path}: {exc}",
                hint="pass a tokenizer.json written by the tokenizers library",
            ) from exc
        config: dict[str, Any] = {}
        config_path = files["tokenizer_config.json"]
        if config_path is not None and config_path.is_file():
            loaded = _read_json(config_path)
            config = loaded if isinstance(loaded, dict) else {}
        template_path = files["chat_template.jinja"]
        if template_path is not None and template_path.is_file():
            template = template_path.read_text("utf-8")
        else:
            template = _pick_template(config.get("chat_template"), str(source))
        special = {k: t for k in _SPECIAL_KEYS if (t := _token_text(config.get(k))) is not None}
        out = cls(tok, template, model=name, special_tokens=special, max_length=max_length)
        out._source = str(source)
        return out

    # -- rendering ------------------------------------------------------------------------------

    def _render(self, messages: list[Any], tools: Any, *, generation_prompt: bool) -> str:
        jinja2, _ = _imports()
        try:
            return self._template.render(
                messages=messages,
                tools=tools or None,
                add_generation_prompt=generation_prompt,
                **self._special,
            )
        except jinja2.exceptions.TemplateError as exc:
            raise DataError(
                f"the chat template of {self.model} rejects the example: {exc}",
                hint="make the example fit the model's chat format (roles, order, tools)",
            ) from exc

    def _spans(
        self, obj: Mapping[str, Any], fmt: str
    ) -> tuple[str, list[tuple[int, int, int]], list[tuple[int, int]]]:
        """The rendered text, each message's character span, and the trainable spans."""
        msgs, first = example_messages(obj, fmt)
        conv = obj.get("input") if fmt == "preference" else obj
        tools = conv.get("tools") if isinstance(conv, dict) else None
        clean = [
            {k: v for k, v in m.items() if k != "weight"} if isinstance(m, dict) else m
            for m in msgs
        ]
        marked = self._render(clean, tools, generation_prompt=False)
        text, blocks = _strip_markers(marked)
        ends: list[int] = []
        for j in range(len(clean)):
            prefix = self._render(clean[: j + 1], tools, generation_prompt=False)
            prefix, _ = _strip_markers(prefix)
            if not text.startswith(prefix):
                raise ConfigError(
                    f"the chat template of {self.model} renders message {j} differently when "
                    "later messages follow, so its tokens cannot be attributed",
                    hint="use a template with {% generation %} blocks, or split the example",
                )
            ends.append(len(prefix))
        owners = [(ends[j - 1] if j else 0, ends[j], j) for j in range(len(clean))]
        assistants = [
            j for j, m in enumerate(clean) if isinstance(m, dict) and m.get("role") == "assistant"
        ]
        train: list[tuple[int, int]] = []
        if self._uses_generation and len(blocks) == len(assistants):
            for (start, end), j in zip(blocks, assistants, strict=True):
                if trains(msgs[j], j, first):
                    train.append((start, end))
        else:
            for j in assistants:
                if not trains(msgs[j], j, first):
                    continue
                head = self._render(clean[:j], tools, generation_prompt=True)
                head, _ = _strip_markers(head)
                start = len(head) if text.startswith(head) else owners[j][0]
                train.append((start, ends[j]))
        return text, owners, train

    def _encode(self, text: str) -> Any:
        return self._tokenizer.encode(text, add_special_tokens=False)

    def _token_owners(
        self, obj: Mapping[str, Any], fmt: str
    ) -> tuple[str, Any, list[int | None], list[bool]]:
        text, owners, train = self._spans(obj, fmt)
        enc = self._encode(text)
        msg_of: list[int | None] = []
        flags: list[bool] = []
        oi = ti = 0
        for start, _end in enc.offsets:
            while oi < len(owners) and start >= owners[oi][1]:
                oi += 1
            msg_of.append(owners[oi][2] if oi < len(owners) else None)
            while ti < len(train) and start >= train[ti][1]:
                ti += 1
            flags.append(ti < len(train) and train[ti][0] <= start < train[ti][1])
        return text, enc, msg_of, flags

    def _segments(self, obj: Mapping[str, Any], fmt: str) -> list[Segment]:
        _, _, msg_of, flags = self._token_owners(obj, fmt)
        segs: list[Segment] = []
        for msg, flag in zip(msg_of, flags, strict=True):
            if segs and segs[-1].message == msg and segs[-1].trainable == flag:
                last = segs[-1]
                segs[-1] = Segment(msg, last.tokens + 1, flag)
            else:
                segs.append(Segment(msg, 1, flag))
        return segs

    # -- the ChatTokenizer interface ------------------------------------------------------------

    def count_example(self, obj: Mapping[str, Any], fmt: str = "chat") -> ExampleTokens:
        """Billed and trainable tokens of one example, and where it is cut.

        Args:
            obj: The example's JSON object.
            fmt: ``chat`` or ``preference`` (input messages + the preferred output).

        Returns:
            The counts.

        Raises:
            DataError: The template rejects the example (its ``raise_exception``).
            ConfigError: The template renders a message differently once later messages
                follow and has no ``{% generation %}`` blocks.
        """
        return ExampleTokens.from_segments(self._segments(obj, fmt), self.max_length)

    def count_raw(self, obj: Mapping[str, Any], fmt: str = "chat") -> int:
        """Billed tokens of one example (the counter the validator calls)."""
        text, _, _ = self._spans(obj, fmt)
        return len(self._encode(text).ids)

    def render(self, obj: Mapping[str, Any], fmt: str = "chat") -> RenderedExample:
        """The example's tokens (as text), each with its trainable flag and message."""
        text, enc, msg_of, flags = self._token_owners(obj, fmt)
        pieces = tuple(text[s:e] for s, e in enc.offsets)
        return RenderedExample(pieces, tuple(flags), tuple(msg_of))

    def __reduce__(self) -> tuple[Any, ...]:
        if self._source is not None:
            return (_reload, (self._source, self.model, self.max_length))
        return (
            _rebuild,
            (
                self._tokenizer.to_str(),
                self.chat_template,
                self.model,
                self._special,
                self.max_length,
            ),
        )


def _reload(source: str, model: str, max_length: int | None) -> HFChatTokenizer:
    return HFChatTokenizer.load(source, model=model, max_length=max_length)


def _rebuild(
    tok_json: str,
    template: str,
    model: str,
    special: Mapping[str, str],
    max_length: int | None,
) -> HFChatTokenizer:
    _, tokenizers = _imports()
    return HFChatTokenizer(
        tokenizers.Tokenizer.from_str(tok_json),
        template,
        model=model,
        special_tokens=special,
        max_length=max_length,
    )


def _strip_markers(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove the generation markers, returning the text and the marked spans."""
    if _GEN_START not in marked:
        return marked, []
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    size = 0
    start = 0
    for ch in marked:
        if ch == _GEN_START:
            start = size
        elif ch == _GEN_END:
            spans.append((start, size))
        else:
            out.append(ch)
            size += 1
    return "".join(out), spans


def _hub_files(repo: str, model: str) -> dict[str, Path | None]:
    hint = (
        f"pass --tokenizer PATH (a folder holding {model}'s tokenizer.json and "
        "tokenizer_config.json), or run once online to fill the Hugging Face cache"
    )
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise TokenizerUnavailable(
            f"cannot fetch the tokenizer of {model} from the Hugging Face hub "
            "(huggingface_hub is not installed)",
            hint=hint,
        ) from exc
    out: dict[str, Path | None] = {}
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        try:
            out[name] = Path(hf_hub_download(repo, name))
        except Exception as exc:  # offline, gated, missing file: all end the same way
            if name == "tokenizer.json":
                raise TokenizerUnavailable(
                    f"the tokenizer of {model} ({repo}) is not available offline "
                    f"({type(exc).__name__})",
                    hint=hint,
                ) from exc
            out[name] = None  # optional files: the template may live in the other one
    return out

"""gpt-oss tokens: OpenAI's harmony format through the ``openai-harmony`` package (exact).

gpt-oss models are trained on conversations in the harmony format. An OpenAI-style example is
rendered as harmony messages (the reference rendering of finetune-kit):

1. the default harmony system message (``SystemContent.new()``: model identity, knowledge
   cutoff, reasoning ``medium``, the channels; **no date**); when the example defines tools
   the system message also names the ``functions`` namespace, as harmony renders it;
2. the example's system (or developer) prompt as the developer message's instructions, with the
   example's ``tools`` (or legacy ``functions``) as the ``functions`` namespace; an example
   with tools but no system prompt gets a developer message with the tools only; a later
   system message becomes a developer message at its place;
3. user messages as ``user`` messages (a ``name`` becomes the author's name);
4. an assistant message's content on the ``final`` channel; when the message also calls tools,
   its content is a ``commentary`` preamble and each call is a ``commentary`` message to
   ``functions.NAME`` with content type ``<|constrain|>json`` and the arguments as content;
5. a tool result (``tool``, or legacy ``function``) as a message from ``functions.NAME`` to
   ``assistant`` on the ``commentary`` channel (the name comes from the matching call's id).

``billed`` is the sum of the rendered messages (the length of harmony's
``render_conversation``); ``trainable`` is the rendered assistant messages whose ``weight`` is
not 0 (all their tokens, header included). Text parts of a content list are rendered one after
another; images are not rendered (gpt-oss reads text only).

Counting does not build harmony objects per example: a message costs its header (rendered once
per distinct role/name/channel/recipient by harmony and remembered) plus the tokens of its text
(harmony encodes message text as ordinary ``o200k_base`` text, so tiktoken's
``encode_ordinary`` gives the same tokens, faster; harmony's own ``encode`` is used when
tiktoken has no copy of the encoding); system and developer messages are rendered by harmony
and remembered by their content. The tests compare every count with harmony's own rendering.

The vocabulary is ``o200k_base``: ``openai-harmony`` reads it from the folder named by
``TIKTOKEN_ENCODINGS_BASE`` when that is set, else downloads it once into its cache
(``TIKTOKEN_RS_CACHE_DIR``); offline with neither, loading fails with a
[`TokenizerUnavailable`][finetune_kit.TokenizerUnavailable] error that says what to set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from finetune_kit.errors import TokenizerUnavailable
from finetune_kit.tokens.chat import (
    ChatFormat,
    ExampleTokens,
    RenderedExample,
    Segment,
    example_messages,
    example_tools,
    message_text,
    trains,
)

if TYPE_CHECKING:
    from openai_harmony import Conversation, HarmonyEncoding, Message

__all__ = ["HarmonyTokenizer", "load_harmony"]

_CACHE_ENTRIES = 4096
_CACHE_CHARS = 4_000_000

_Header = tuple[str, str | None, str | None, str | None, str | None]
"""role, author name, channel, recipient, content type."""


@cache
def load_harmony() -> HarmonyEncoding:
    """The gpt-oss harmony encoding (loaded once per process).

    Returns:
        ``openai_harmony``'s ``HarmonyEncoding`` for gpt-oss.

    Raises:
        TokenizerUnavailable: ``openai-harmony`` is not installed, or its vocabulary file
            cannot be read or downloaded.
    """
    try:
        from openai_harmony import HarmonyEncodingName, load_harmony_encoding
    except ImportError as exc:
        raise TokenizerUnavailable(
            "counting gpt-oss tokens needs the openai-harmony package",
            hint="pip install 'finetune-kit[harmony]'",
        ) from exc
    try:
        return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    except Exception as exc:  # HarmonyError: download or file errors from the Rust side
        raise TokenizerUnavailable(
            f"openai-harmony could not load the gpt-oss vocabulary (o200k_base): {exc}",
            hint="offline, set TIKTOKEN_ENCODINGS_BASE to a folder holding o200k_base.tiktoken "
            "(or TIKTOKEN_RS_CACHE_DIR to a cache filled online); tiktoken's own "
            "TIKTOKEN_CACHE_DIR copy is not read by openai-harmony",
        ) from exc


def _text_encoder(enc: HarmonyEncoding) -> tuple[Callable[[str], list[int]], str]:
    """The fastest exact encoder of message text, and its name.

    Harmony encodes message text with ``o200k_base``'s ranks and pattern as ordinary text, so
    tiktoken's ``encode_ordinary`` gives the same tokens about three times faster than
    harmony's own ``encode``; it is used whenever tiktoken has ``o200k_base`` (cached, or
    downloadable). Otherwise harmony's ``encode`` does the work: the same counts, slower.
    """
    from finetune_kit.tokens.counting import load_encoding

    try:
        return load_encoding("o200k_base").encode_ordinary, "tiktoken"
    except TokenizerUnavailable:
        encode = enc.encode
        return (lambda text: encode(text, disallowed_special=())), "harmony"


@dataclass(frozen=True, slots=True)
class _Planned:
    """One harmony message of the reference rendering, before it is rendered."""

    source: int | None  # index of the example message it comes from; None: the system message
    header: _Header
    texts: tuple[str, ...]
    trainable: bool
    instructions: str | None = None  # developer messages
    tools: str | None = None  # developer messages: the function definitions as JSON


class HarmonyTokenizer:
    """Counts examples in gpt-oss tokens, rendered in the harmony format (exact).

    Args:
        model: The model name (e.g. ``openai/gpt-oss-20b``).
        max_length: The maximum training length (``None``: no cut).

    Attributes:
        text_encoder: ``tiktoken`` when message text is encoded by tiktoken's ``o200k_base``
            (the fast path), ``harmony`` when by ``openai-harmony`` itself (same counts).

    Raises:
        TokenizerUnavailable: ``openai-harmony`` is missing or cannot load its vocabulary.

    Examples:
        >>> tok = HarmonyTokenizer("openai/gpt-oss-20b")
        >>> counts = tok.count_example({"messages": [
        ...     {"role": "user", "content": "Hi"},
        ...     {"role": "assistant", "content": "Hello!"},
        ... ]})
        >>> counts.billed, counts.trainable
        (63, 8)
    """

    chat_format: ChatFormat = "harmony"

    def __init__(self, model: str = "openai/gpt-oss-20b", *, max_length: int | None = None) -> None:
        self.model = model
        self.max_length = max_length
        self._enc = load_harmony()
        self._encode, self.text_encoder = _text_encoder(self._enc)
        self._texts: dict[str, int] = {}
        self._text_chars = 0
        self._headers: dict[_Header, int] = {}
        self._developers: dict[tuple[str | None, str | None], int] = {}
        self._system = {
            tools: self._render_len(self._system_message(), tools) for tools in (False, True)
        }

    def __repr__(self) -> str:
        return f"<HarmonyTokenizer {self.model!r} max_length={self.max_length}>"

    # -- the reference rendering ----------------------------------------------------------------

    @staticmethod
    def _plan(obj: Mapping[str, Any], fmt: str) -> tuple[list[_Planned], bool]:
        msgs, first = example_messages(obj, fmt)
        defs = example_tools(obj, fmt)
        tools = (
            json.dumps(
                [
                    {
                        "name": d["name"],
                        "description": d.get("description") or "",
                        "parameters": d.get("parameters"),
                    }
                    for d in defs
                ],
                ensure_ascii=False,
            )
            if defs
            else None
        )
        plan = [_Planned(None, ("system", None, None, None, None), (), False)]
        call_names: dict[str, str] = {}
        start = 0
        if msgs and isinstance(msgs[0], dict) and msgs[0].get("role") in ("system", "developer"):
            text = "".join(message_text(msgs[0].get("content")))
            plan.append(_Planned(0, ("developer", None, None, None, None), (), False, text, tools))
            start = 1
        elif tools is not None:
            plan.append(
                _Planned(None, ("developer", None, None, None, None), (), False, None, tools)
            )
        for i in range(start, len(msgs)):
            m = msgs[i]
            if not isinstance(m, dict):
                continue
            role = m.get("role")
            texts = tuple(message_text(m.get("content")))
            if role in ("system", "developer"):
                plan.append(
                    _Planned(i, ("developer", None, None, None, None), (), False, "".join(texts))
                )
            elif role == "user":
                name = m.get("name") if isinstance(m.get("name"), str) else None
                plan.append(_Planned(i, ("user", name, None, None, None), texts, False))
            elif role == "assistant":
                train = trains(m, i, first)
                calls: list[dict[str, Any]] = []
                for c in m.get("tool_calls") or ():
                    fn = c.get("function") if isinstance(c, dict) else None
                    if isinstance(fn, dict):
                        calls.append(fn)
                        if isinstance(c.get("id"), str):
                            call_names[c["id"]] = str(fn.get("name"))
                if isinstance(m.get("function_call"), dict):
                    calls.append(m["function_call"])
                if not calls or any(texts):
                    channel = "commentary" if calls else "final"
                    plan.append(_Planned(i, ("assistant", None, channel, None, None), texts, train))
                for fn in calls:
                    args = fn.get("arguments")
                    if not isinstance(args, str):
                        args = json.dumps(args, ensure_ascii=False) if args is not None else ""
                    header: _Header = (
                        "assistant",
                        None,
                        "commentary",
                        f"functions.{fn.get('name')}",
                        "<|constrain|>json",
                    )
                    plan.append(_Planned(i, header, (args,), train))
            elif role in ("tool", "function"):
                name = call_names.get(str(m.get("tool_call_id")))
                if name is None:
                    name = m.get("name") if isinstance(m.get("name"), str) else "tool"
                header = ("tool", f"functions.{name}", "commentary", "assistant", None)
                plan.append(_Planned(i, header, texts, False))
        return plan, tools is not None

    def _message(self, p: _Planned) -> Message:
        from openai_harmony import (
            Author,
            DeveloperContent,
            Message,
            Role,
            TextContent,
            ToolDescription,
        )

        role, name, channel, recipient, content_type = p.header
        if role == "system":
            return self._system_message()
        if role == "developer":
            content = DeveloperContent.new()
            if p.instructions is not None:
                content = content.with_instructions(p.instructions)
            if p.tools is not None:
                content = content.with_function_tools(
                    [
                        ToolDescription.new(t["name"], t["description"], t["parameters"])
                        for t in json.loads(p.tools)
                    ]
                )
            return Message.from_role_and_content(Role.DEVELOPER, content)
        author = Author(role=Role(role), name=name)
        msg = Message(author=author, content=[TextContent(text=t) for t in p.texts])
        msg.channel = channel
        msg.recipient = recipient
        msg.content_type = content_type
        return msg

    @staticmethod
    def _system_message() -> Message:
        from openai_harmony import Message, Role, SystemContent

        return Message.from_role_and_content(Role.SYSTEM, SystemContent.new())

    def _render_tokens(self, msg: Message, tools: bool) -> list[int]:
        from openai_harmony import RenderOptions

        return list(self._enc.render(msg, RenderOptions(conversation_has_function_tools=tools)))

    def _render_len(self, msg: Message, tools: bool) -> int:
        return len(self._render_tokens(msg, tools))

    def conversation(self, obj: Mapping[str, Any], fmt: str = "chat") -> Conversation:
        """The example as a harmony ``Conversation`` (the reference rendering).

        Args:
            obj: The example's JSON object.
            fmt: ``chat`` or ``preference``.

        Returns:
            The conversation; ``load_harmony().render_conversation(...)`` gives its tokens.
        """
        from openai_harmony import Conversation

        plan, _ = self._plan(obj, fmt)
        return Conversation.from_messages([self._message(p) for p in plan])

    # -- counting -------------------------------------------------------------------------------

    def _text(self, text: str) -> int:
        n = self._texts.get(text)
        if n is None:
            n = len(self._encode(text))
            size = len(text)
            if size <= _CACHE_CHARS:
                if len(self._texts) >= _CACHE_ENTRIES or self._text_chars + size > _CACHE_CHARS:
                    self._texts.clear()
                    self._text_chars = 0
                self._texts[text] = n
                self._text_chars += size
        return n

    def _count(self, p: _Planned, tools: bool) -> int:
        role = p.header[0]
        if role == "system":
            return self._system[tools]
        if role == "developer":
            key = (p.instructions, p.tools)
            n = self._developers.get(key)
            if n is None:
                if len(self._developers) >= _CACHE_ENTRIES:
                    self._developers.clear()
                n = self._developers[key] = self._render_len(self._message(p), tools)
            return n
        head = self._headers.get(p.header)
        if head is None:
            empty = _Planned(p.source, p.header, (), False)
            head = self._headers[p.header] = self._render_len(self._message(empty), tools)
        return head + sum(self._text(t) for t in p.texts)

    def _segments(self, obj: Mapping[str, Any], fmt: str) -> list[Segment]:
        plan, tools = self._plan(obj, fmt)
        return [Segment(p.source, self._count(p, tools), p.trainable) for p in plan]

    def count_example(self, obj: Mapping[str, Any], fmt: str = "chat") -> ExampleTokens:
        """Billed and trainable gpt-oss tokens of one example, and where it is cut.

        Args:
            obj: The example's JSON object.
            fmt: ``chat`` or ``preference`` (input messages + the preferred output).

        Returns:
            The counts.
        """
        return ExampleTokens.from_segments(self._segments(obj, fmt), self.max_length)

    def count_raw(self, obj: Mapping[str, Any], fmt: str = "chat") -> int:
        """Billed gpt-oss tokens of one example (the counter the validator calls)."""
        return sum(s.tokens for s in self._segments(obj, fmt))

    def render(self, obj: Mapping[str, Any], fmt: str = "chat") -> RenderedExample:
        """The example's harmony tokens, each with its trainable flag and message.

        Args:
            obj: The example's JSON object.
            fmt: ``chat`` or ``preference``.

        Returns:
            The rendered example.
        """
        plan, tools = self._plan(obj, fmt)
        texts: list[str] = []
        flags: list[bool] = []
        owners: list[int | None] = []
        for p in plan:
            ids = self._render_tokens(self._message(p), tools)
            texts.extend(self._enc.decode([t]) for t in ids)
            flags.extend([p.trainable] * len(ids))
            owners.extend([p.source] * len(ids))
        return RenderedExample(tuple(texts), tuple(flags), tuple(owners))

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes rebuild the tokenizer (the Rust encoding cannot be pickled).
        return (type(self), (self.model,), {"max_length": self.max_length})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.max_length = state["max_length"]

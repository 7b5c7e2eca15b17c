"""Find personal data and secrets in training data, and redact them before upload.

Training files sent to a provider leave the company. This module finds e-mail addresses, phone
numbers, payment cards, IBANs, IP addresses, national ids, API keys and credentials in every
string of a chat example (message contents, content parts, tool-call arguments, names), and
redacts them with one of three strategies:

- ``mask``: replace the value with a placeholder such as ``[EMAIL]``;
- ``pseudonym``: replace it with a consistent fake of the same shape, derived from the value with
  HMAC-SHA256 and your secret, so the same person gets the same fake across the whole dataset;
- ``drop``: drop every example that contains personal data.

Values are never shown in full: findings, reports and reprs carry masked previews
(``j***@e***.com``, ``**** **** **** 4242``).

Examples:
    >>> from finetune_kit.privacy.redaction import Redactor, scan_text
    >>> [(m.code, m.preview) for m in scan_text("Mail jane.doe@example.com")]
    [('pii_email', 'j***@e***.com')]
    >>> Redactor("mask").redact_text("Mail jane.doe@example.com")[0]
    'Mail [EMAIL]'
"""

from __future__ import annotations

import dataclasses
import functools
import html
import importlib
import importlib.util
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from finetune_kit._io import atomic_write
from finetune_kit.errors import ConfigError, DataError
from finetune_kit.privacy.detectors import (
    Detector,
    DetectorFunc,
    Span,
    find_phones,
    gate_json_block,
    gate_text,
    get_detector,
    keyed_digest,
    list_detectors,
    pii_detector,
    register_detector,
    registry_version,
    secret_key_word,
    secret_value_ok,
    unregister_detector,
)
from finetune_kit.reading import _iter_blocks, _parses, parse_line, split_ranges

__all__ = [
    "SECRET_ENV",
    "Detector",
    "DetectorFunc",
    "PIIFinding",
    "PIIMatch",
    "RedactionReport",
    "Redactor",
    "Strategy",
    "list_detectors",
    "pii_detector",
    "redact_example",
    "redact_file",
    "redact_text",
    "register_detector",
    "scan_example",
    "scan_text",
    "unregister_detector",
]

Strategy = Literal["mask", "pseudonym", "drop"]
"""How personal data is redacted: ``mask``, ``pseudonym`` or ``drop``."""

SECRET_ENV = "FINETUNE_KIT_PII_SECRET"
"""Environment variable read for the pseudonym secret when none is passed."""

_STRATEGIES = ("mask", "pseudonym", "drop")
_PRESIDIO_CODES = ("pii_person", "pii_location")
_MIN_LEN = 6  # the shortest built-in find ("a@b.co") has six characters
_PARALLEL_MIN_BYTES = 8_000_000  # below this, starting worker processes costs more than it saves


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class PIIMatch:
    """One piece of personal data found in a string.

    The value itself is not stored: slice the scanned text with ``start``/``end`` if you need it.

    Attributes:
        code: The detector's code (``pii_email``).
        start: Start offset in the scanned string.
        end: End offset (exclusive).
        preview: Masked preview, safe to log (``j***@e***.com``).
    """

    code: str
    start: int
    end: int
    preview: str

    @property
    def kind(self) -> str:
        """The code without its ``pii_`` prefix (``email``)."""
        return self.code[4:]

    def to_dict(self) -> dict[str, Any]:
        """Return the match as a JSON-ready dict."""
        return {"code": self.code, "start": self.start, "end": self.end, "preview": self.preview}


@dataclass(frozen=True, slots=True)
class PIIFinding:
    """Personal data found in one string of an example.

    Attributes:
        field: JSON path of the string, e.g. ``messages[2].content``; inside tool-call arguments
            the path continues into the decoded JSON (``...function.arguments.email``).
        code: The detector's code (``pii_email``).
        preview: Masked preview, safe to log.
        start: Start offset within that string.
        end: End offset (exclusive).
        line: 1-based line (or row) number, when known.
    """

    field: str
    code: str
    preview: str
    start: int
    end: int
    line: int | None = None

    @property
    def kind(self) -> str:
        """The code without its ``pii_`` prefix (``email``)."""
        return self.code[4:]

    @property
    def message(self) -> str:
        """One human sentence about the finding (with the masked preview only)."""
        det = get_detector(self.code)
        what = det.description if det is not None else self.kind
        return f"possible personal data ({what}): {self.preview}"

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (masked preview only)."""
        return {
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "start": self.start,
            "end": self.end,
            "preview": self.preview,
        }


# --------------------------------------------------------------------------- detectors


def _presidio_find(entity: str) -> DetectorFunc:
    def find(text: str) -> Iterator[Span]:
        for result in _presidio_engine().analyze(text=text, entities=[entity], language="en"):
            yield int(result.start), int(result.end)

    return find


_ENGINE: list[Any] = []


def _presidio_missing() -> ConfigError:
    return ConfigError(
        "person and location detection needs Microsoft Presidio, which is not installed",
        hint="pip install 'finetune-kit[presidio]' and a spaCy model "
        "(python -m spacy download en_core_web_lg), or leave out the person/location kinds",
    )


# spaCy pipelines Presidio can use for English, best first. Presidio would try to download its
# default model when none is installed; finetune-kit never downloads anything, so it asks.
_SPACY_MODELS = ("en_core_web_lg", "en_core_web_trf", "en_core_web_md", "en_core_web_sm")


def _spacy_model() -> str:
    """The name of an installed spaCy model for Presidio, or a ConfigError naming the fix."""
    for name in _SPACY_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ConfigError(
        "person and location detection needs a spaCy model for Microsoft Presidio, "
        "and none is installed",
        hint="pip install 'finetune-kit[presidio]', then python -m spacy download "
        "en_core_web_lg (or en_core_web_sm); or leave out the person/location kinds, the "
        "other detectors need no model",
    )


def _presidio_engine() -> Any:
    if not _ENGINE:
        try:
            module = importlib.import_module("presidio_analyzer")
            nlp = importlib.import_module("presidio_analyzer.nlp_engine")
        except ImportError as exc:
            raise _presidio_missing() from exc
        config = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": _spacy_model()}],
        }
        engine = nlp.NlpEngineProvider(nlp_configuration=config).create_engine()
        _ENGINE.append(module.AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]))
    return _ENGINE[0]


register_detector(
    "pii_person",
    _presidio_find("PERSON"),
    description="person names (Microsoft Presidio, opt-in)",
    default=False,
    replace=True,
)
register_detector(
    "pii_location",
    _presidio_find("LOCATION"),
    description="places (Microsoft Presidio, opt-in)",
    default=False,
    replace=True,
)


@dataclass(frozen=True)
class _Plan:
    """The detectors to run, and the union of their cheap pre-check families."""

    detectors: tuple[Detector, ...]
    families: int
    always: bool  # some detector has no pre-check (user and Presidio detectors)
    secret: Detector | None  # the built-in pii_secret detector, when it runs

    @classmethod
    def of(cls, detectors: tuple[Detector, ...]) -> _Plan:
        families = 0
        for det in detectors:
            families |= det.family
        secret = next((d for d in detectors if d.code == "pii_secret" and d.builtin), None)
        return cls(detectors, families, any(not d.family for d in detectors), secret)


_RESOLVED: dict[tuple[Any, ...], _Plan] = {}


def _check_region(region: str | None) -> str | None:
    """Return the region code in capitals, or raise a ConfigError naming the fix."""
    if region is None:
        return None
    import phonenumbers

    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"unknown phone region {region!r}",
            hint="use a two-letter ISO 3166 code such as ES, MX, US or GB",
        )
    return code


def _resolve(kinds: Iterable[str] | str | None, presidio: bool, region: str | None = None) -> _Plan:
    """Turn ``kinds`` (``email`` or ``pii_email`` names) into a plan, in priority order.

    With a ``region``, the built-in phone detector reads numbers without ``+`` in that region.
    """
    if isinstance(kinds, str):
        kinds = [k for k in kinds.split(",") if k.strip()]
    if kinds is not None:
        kinds = tuple(kinds)
    key = (registry_version(), kinds, presidio, region)
    cached = _RESOLVED.get(key)
    if cached is not None:
        return cached
    available = {d.code: d for d in list_detectors()}
    if kinds is None:
        codes = [c for c, d in available.items() if d.default]
    else:
        codes = []
        for kind in kinds:
            name = kind.strip().lower()
            code = name if name.startswith("pii_") else f"pii_{name}"
            if code not in available:
                known = ", ".join(d.kind for d in available.values())
                raise ConfigError(f"unknown PII kind {kind!r}", hint=f"known kinds: {known}")
            codes.append(code)
    if presidio:
        codes.extend(_PRESIDIO_CODES)
    if any(c in _PRESIDIO_CODES for c in codes):
        if importlib.util.find_spec("presidio_analyzer") is None:
            raise _presidio_missing()
        _spacy_model()
    region = _check_region(region)
    detectors = sorted({available[c] for c in codes}, key=lambda d: (d.priority, d.code))
    if region is not None:
        detectors = [
            dataclasses.replace(d, find=functools.partial(find_phones, region=region))
            if d.code == "pii_phone" and d.builtin
            else d
            for d in detectors
        ]
    chosen = _Plan.of(tuple(detectors))
    if len(_RESOLVED) > 64:
        _RESOLVED.clear()
    _RESOLVED[key] = chosen
    return chosen


def _find(text: str, plan: _Plan) -> list[tuple[Detector, int, int]]:
    """Run the plan's detectors on ``text``; keep non-overlapping hits (priority, then length)."""
    n = len(text)
    if plan.always:
        found = gate_text(text, plan.families)
    elif n < _MIN_LEN or not (found := gate_text(text, plan.families)):
        return []
    hits: list[tuple[Detector, int, int]] = []
    for det in plan.detectors:
        if det.family and not det.family & found:
            continue
        for start, end in det.find(text):
            if not 0 <= start < end <= n:
                raise ConfigError(
                    f"detector {det.code} returned the span ({start}, {end}) "
                    f"for a string of {n} characters",
                    hint="a detector must yield (start, end) with 0 <= start < end <= len(text)",
                )
            hits.append((det, start, end))
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h[0].priority, h[1] - h[2], h[1]))
    chosen: list[tuple[Detector, int, int]] = []
    for hit in hits:
        if all(hit[2] <= c[1] or hit[1] >= c[2] for c in chosen):
            chosen.append(hit)
    chosen.sort(key=lambda h: h[1])
    return chosen


def _preview(det: Detector, value: str) -> str:
    text = det.preview(value)
    return "***" if text == value else text


def scan_text(
    text: str,
    *,
    kinds: Iterable[str] | str | None = None,
    presidio: bool = False,
    region: str | None = None,
) -> list[PIIMatch]:
    """Find personal data in one string.

    Examples:
        >>> [(m.code, m.preview) for m in scan_text("card 4242 4242 4242 4242, v1.2.3")]
        [('pii_card', '**** **** **** 4242')]

    Args:
        text: The string to scan.
        kinds: Which detectors to run (``["email", "card"]`` or ``"email,card"``); default all
            built-in and registered ones except the opt-in Presidio detectors.
        presidio: Also detect person names and places with Microsoft Presidio.
        region: Default region (ISO 3166 code such as ``"ES"``) for phone numbers written
            without ``+`` and a country code.

    Returns:
        The matches, in text order, without overlaps.

    Raises:
        ConfigError: An unknown kind or region, or Presidio was asked for and is not installed.
    """
    plan = _resolve(kinds, presidio, region)
    return [PIIMatch(d.code, s, e, _preview(d, text[s:e])) for d, s, e in _find(text, plan)]


def _is_data_url(text: str) -> bool:
    return text.startswith("data:") and ";base64," in text[:120]


_NOT_JSON = object()
# Joins the strings of one example for the pre-check: no pattern can match across it (NUL is
# neither a word character, nor whitespace, nor a separator any detector accepts).
_SEP = "\n\x00\n"


def _json_inside(text: str) -> Any:
    """Decode a string that holds a JSON object or array (tool-call arguments), else _NOT_JSON."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return _NOT_JSON
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return _NOT_JSON
    return value if isinstance(value, (dict, list)) else _NOT_JSON


_SECRET_KEYS: dict[str, str | None] = {}


def _secret_key(key: str) -> str | None:
    try:
        return _SECRET_KEYS[key]
    except KeyError:
        if len(_SECRET_KEYS) > 4096:
            _SECRET_KEYS.clear()
        word = _SECRET_KEYS[key] = secret_key_word(key)
        return word


def _path_str(path: tuple[str | int, ...]) -> str:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


class _Walk:
    """One pass over a JSON value: collect findings and (optionally) build the redacted copy.

    Every string is scanned; strings holding JSON (tool-call arguments) are decoded and walked
    value by value so that they stay valid JSON; a string under a key such as ``api_key`` or
    ``password`` is a secret as a whole when its value looks like one.
    """

    __slots__ = ("findings", "line", "plan", "replace", "secret")

    def __init__(
        self,
        plan: _Plan,
        line: int | None,
        replace: Callable[[Detector, str], str] | None,
    ) -> None:
        self.plan = plan
        self.line = line
        self.replace = replace
        self.findings: list[PIIFinding] = []
        self.secret = plan.secret

    def _keyed_secret(self, key: Any, value: str) -> bool:
        if self.secret is None or not isinstance(key, str):
            return False
        word = _secret_key(key)
        return word is not None and secret_value_ok(word, value)

    def _collect(self, value: Any, out: list[str]) -> bool:
        """Append the scannable strings of ``value`` to ``out``; True on a keyed secret.

        The hottest loop of a file redaction, hence the exact-type tests and the inlining.
        """
        stack = [value]
        check_keys = self.secret is not None
        known = _SECRET_KEYS
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, item in node.items():
                    if item.__class__ is not str:
                        if isinstance(item, (dict, list)):
                            stack.append(item)
                        elif isinstance(item, str):
                            stack.append([item])  # a str subclass: take the slow path
                        continue
                    if len(item) < _MIN_LEN:
                        continue
                    if check_keys and key.__class__ is str:
                        word = known[key] if key in known else _secret_key(key)
                        if word is not None and secret_value_ok(word, item):
                            return True
                    if item[0] in "{[d" and self._special(item, stack):
                        continue
                    out.append(item)
            else:
                for item in node:
                    if isinstance(item, str):
                        if len(item) >= _MIN_LEN and not (
                            item[0] in "{[d" and self._special(item, stack)
                        ):
                            out.append(item)
                    elif isinstance(item, (dict, list)):
                        stack.append(item)
        return False

    @staticmethod
    def _special(item: str, stack: list[Any]) -> bool:
        """Handle a string holding JSON (pushed to ``stack``) or a data URL; False otherwise."""
        if item[0] == "d":
            return _is_data_url(item)
        inner = _json_inside(item)
        if inner is _NOT_JSON:
            return False
        stack.append(inner)
        return True

    def might_find(self, value: Any) -> bool:
        """Cheap pre-check: run the detectors once over all strings of ``value`` joined.

        False means the full walk would find nothing; the join separator stops every pattern,
        so a match of the joined text that a single string would not have is only a false alarm.
        """
        if self.plan.always:
            return True
        if isinstance(value, str):
            value = [value]
        elif not isinstance(value, (dict, list)):
            return False
        out: list[str] = []
        if self._collect(value, out):
            return True
        return bool(out) and bool(_find(_SEP.join(out), self.plan))

    def value(self, value: Any, path: tuple[str | int, ...], key: Any = None) -> Any:
        if isinstance(value, str):
            return self.text(value, path, key)
        if isinstance(value, dict):
            new: dict[Any, Any] | None = None
            for k, v in value.items():
                nv = self.value(v, (*path, str(k)), k)
                if nv is not v:
                    if new is None:
                        new = dict(value)
                    new[k] = nv
            return value if new is None else new
        if isinstance(value, list):
            items: list[Any] | None = None
            for i, v in enumerate(value):
                nv = self.value(v, (*path, i))
                if nv is not v:
                    if items is None:
                        items = list(value)
                    items[i] = nv
            return value if items is None else items
        return value

    def text(self, text: str, path: tuple[str | int, ...], key: Any = None) -> str:
        if _is_data_url(text):
            return text
        if self.secret is not None and self._keyed_secret(key, text):
            hits = [(self.secret, 0, len(text))]
        else:
            inner = _json_inside(text)
            if inner is not _NOT_JSON:
                # A JSON document inside a string (tool-call arguments, tool results): redact
                # it value by value so that it stays valid JSON.
                new_inner = self.value(inner, path)
                return text if new_inner is inner else json.dumps(new_inner, ensure_ascii=False)
            hits = _find(text, self.plan)
        if not hits:
            return text
        field_path = _path_str(path)
        parts: list[str] = []
        pos = 0
        for det, start, end in hits:
            value = text[start:end]
            self.findings.append(
                PIIFinding(field_path, det.code, _preview(det, value), start, end, self.line)
            )
            if self.replace is not None:
                parts.append(text[pos:start])
                parts.append(self.replace(det, value))
                pos = end
        if self.replace is None:
            return text
        parts.append(text[pos:])
        return "".join(parts)


def scan_example(
    obj: Any,
    *,
    kinds: Iterable[str] | str | None = None,
    line: int | None = None,
    presidio: bool = False,
    region: str | None = None,
) -> list[PIIFinding]:
    """Find personal data in every string of a JSON example (as parsed from a JSONL line).

    The validation engine turns each finding into a ``pii_*`` warning with its field path and
    masked preview.

    Examples:
        >>> ex = {"messages": [{"role": "user", "content": "I am +44 20 7946 0958"}]}
        >>> [(f.field, f.code, f.preview) for f in scan_example(ex)]
        [('messages[0].content', 'pii_phone', '+** ** **** **58')]

    Args:
        obj: The example (any JSON value; normally a dict with ``messages``).
        kinds: Which detectors to run (default: all except the opt-in ones).
        line: Line number to put on the findings.
        presidio: Also detect person names and places with Microsoft Presidio.
        region: Default region for phone numbers written without a country code.

    Returns:
        The findings, in document order.

    Raises:
        ConfigError: An unknown kind or region, or Presidio was asked for and is not installed.
    """
    walk = _Walk(_resolve(kinds, presidio, region), line, None)
    if walk.might_find(obj):
        walk.value(obj, ())
    return walk.findings


# --------------------------------------------------------------------------- redaction


class Redactor:
    """Holds a redaction strategy, the detectors to run and the pseudonym secret.

    Reuse one redactor for a whole dataset (train and validation files alike) so that the same
    value always gets the same pseudonym.

    Args:
        strategy: ``mask`` (``[EMAIL]``), ``pseudonym`` (consistent fake values) or ``drop``
            (drop examples that contain personal data).
        kinds: Which detectors to run (``["email", "phone"]`` or ``"email,phone"``); default all
            except the opt-in Presidio ones.
        secret: Key for the HMAC-SHA256 that derives pseudonyms; required for ``pseudonym``.
            Defaults to the ``FINETUNE_KIT_PII_SECRET`` environment variable.
        presidio: Also detect person names and places with Microsoft Presidio.
        region: Default region (ISO 3166 code such as ``"ES"``) for phone numbers written
            without ``+`` and a country code; without it, national numbers are read in the
            common regions of ``FALLBACK_REGIONS`` and must be grouped as there.

    Raises:
        ConfigError: Unknown strategy, kind or region, a missing secret for ``pseudonym``, or
            Presidio asked for but not installed.
    """

    _CACHE_LIMIT = 100_000

    def __init__(
        self,
        strategy: Strategy | str = "mask",
        *,
        kinds: Iterable[str] | str | None = None,
        secret: str | bytes | None = None,
        presidio: bool = False,
        region: str | None = None,
    ) -> None:
        if strategy not in _STRATEGIES:
            raise ConfigError(
                f"unknown redaction strategy {strategy!r}", hint="use mask, pseudonym or drop"
            )
        self.strategy: Strategy = strategy  # type: ignore[assignment]
        self.region = _check_region(region)
        self._plan = _resolve(kinds, presidio, self.region)
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or None
        if strategy == "pseudonym" and not secret:
            raise ConfigError(
                "the pseudonym strategy needs a secret",
                hint=f"pass secret=... or set {SECRET_ENV}; keep it private and reuse it so "
                "that the same value gets the same pseudonym in every file",
            )
        self._secret = secret.encode() if isinstance(secret, str) else (secret or b"")
        self._args = (strategy, self.codes, self._secret or None, False, self.region)
        self._fakes: dict[tuple[str, str], str] = {}

    @property
    def detectors(self) -> tuple[Detector, ...]:
        """The detectors this redactor runs, in priority order."""
        return self._plan.detectors

    @property
    def codes(self) -> list[str]:
        """The codes of the detectors this redactor runs."""
        return [d.code for d in self._plan.detectors]

    def __repr__(self) -> str:
        secret = "<set>" if self._secret else None
        return f"Redactor(strategy={self.strategy!r}, kinds={self.codes!r}, secret={secret})"

    def pseudonym(self, code: str, value: str) -> str:
        """Return the consistent fake for ``value`` found by detector ``code``.

        Args:
            code: The detector's code (``pii_email``).
            value: The value found.

        Returns:
            A fake of the same shape, the same for the same (normalized) value and secret.

        Raises:
            ConfigError: No detector has that code.
        """
        det = get_detector(code)
        if det is None:
            raise ConfigError(f"no detector with code {code!r}")
        return self._pseudonym(det, value)

    def _pseudonym(self, det: Detector, value: str) -> str:
        key = (det.code, value)
        fake = self._fakes.get(key)
        if fake is None:
            normalized = det.normalize(value) if det.normalize is not None else value
            digest = keyed_digest(self._secret, det.code, normalized)
            fake = det.fake(value, digest) if det.fake else f"{det.label}_{digest.hex()[:8]}"
            if len(self._fakes) >= self._CACHE_LIMIT:
                self._fakes.clear()
            self._fakes[key] = fake
        return fake

    def _replacement(self, det: Detector, value: str) -> str:
        if self.strategy == "pseudonym":
            return self._pseudonym(det, value)
        return f"[{det.label}]"

    def scan_text(self, text: str) -> list[PIIMatch]:
        """Find personal data in one string with this redactor's detectors."""
        return [
            PIIMatch(d.code, s, e, _preview(d, text[s:e])) for d, s, e in _find(text, self._plan)
        ]

    def redact_text(self, text: str) -> tuple[str, list[PIIMatch]]:
        """Redact one string (``drop`` masks, since there is no example to drop).

        Args:
            text: The string.

        Returns:
            ``(new_text, matches)``; the match offsets refer to the original text.
        """
        hits = _find(text, self._plan)
        parts: list[str] = []
        pos = 0
        for det, start, end in hits:
            parts.append(text[pos:start])
            parts.append(self._replacement(det, text[start:end]))
            pos = end
        parts.append(text[pos:])
        matches = [PIIMatch(d.code, s, e, _preview(d, text[s:e])) for d, s, e in hits]
        return "".join(parts), matches

    def redact_example(
        self, obj: Any, *, line: int | None = None
    ) -> tuple[Any | None, list[PIIFinding]]:
        """Redact every string of a JSON example.

        The input is never modified. Containers on the path to a change are copied; when nothing
        is found the input object itself is returned.

        Args:
            obj: The example as parsed from JSON (normally a dict with ``messages``).
            line: Line number to put on the findings.

        Returns:
            ``(new_obj, findings)``; ``new_obj`` is ``None`` when the strategy is ``drop`` and
            something was found.
        """
        return self._redact(obj, line, precheck=True)

    def _redact(
        self, obj: Any, line: int | None, *, precheck: bool
    ) -> tuple[Any | None, list[PIIFinding]]:
        replace = None if self.strategy == "drop" else self._replacement
        walk = _Walk(self._plan, line, replace)
        if precheck and not walk.might_find(obj):
            return obj, []
        new = walk.value(obj, ())
        if self.strategy == "drop" and walk.findings:
            return None, walk.findings
        return new, walk.findings


def redact_text(text: str, redactor: Redactor | None = None) -> tuple[str, list[PIIMatch]]:
    """Redact one string (default: mask every default kind).

    Examples:
        >>> redact_text("key sk-proj-4fGh8JkL2mNp6QrS0tUv9WxY")[0]
        'key [SECRET]'

    Args:
        text: The string.
        redactor: The [`Redactor`][finetune_kit.Redactor] to use.

    Returns:
        ``(new_text, matches)``.
    """
    return (redactor or Redactor()).redact_text(text)


def redact_example(
    obj: Any, redactor: Redactor | None = None, *, line: int | None = None
) -> tuple[Any | None, list[PIIFinding]]:
    """Redact every string of a JSON example.

    The function form of
    [`Redactor.redact_example`][finetune_kit.privacy.redaction.Redactor.redact_example].

    Tool-call ``arguments`` (a JSON string) are decoded, redacted value by value and encoded
    again, so they stay valid JSON.

    Examples:
        >>> ex = {"messages": [{"role": "user", "content": "mail bo@example.org"}]}
        >>> new, found = redact_example(ex)
        >>> new["messages"][0]["content"], found[0].field
        ('mail [EMAIL]', 'messages[0].content')

    Args:
        obj: The example as parsed from JSON.
        redactor: The [`Redactor`][finetune_kit.Redactor] (default: mask, every default
            kind).
        line: Line number to put on the findings.

    Returns:
        ``(new_obj | None, findings)``; ``None`` when the example is dropped.
    """
    return (redactor or Redactor()).redact_example(obj, line=line)


# --------------------------------------------------------------------------- files


@dataclass
class RedactionReport:
    """What a file redaction found and did. Holds masked previews only, never values.

    Attributes:
        strategy: ``mask``, ``pseudonym`` or ``drop``.
        kinds: Codes of the detectors that ran.
        input_path: The file read.
        output_path: The file written.
        lines: Lines read (every line, including unparsed ones).
        examples: Lines that parsed as JSON.
        examples_changed: Examples written with redactions.
        examples_dropped: Examples left out (``drop``).
        unparsed_lines: Lines that did not parse; copied through unchanged, not redacted.
        unparsed_line_numbers: The first 100 of them.
        counts: Findings per code.
        findings: The first ``max_findings`` findings.
        findings_truncated: True when more findings were counted than kept.
        bytes_read: Size of the input read.
        seconds: Wall time of the run.
    """

    strategy: str
    kinds: list[str]
    input_path: str | None = None
    output_path: str | None = None
    lines: int = 0
    examples: int = 0
    examples_changed: int = 0
    examples_dropped: int = 0
    unparsed_lines: int = 0
    unparsed_line_numbers: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[PIIFinding] = field(default_factory=list)
    findings_truncated: bool = False
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def total_findings(self) -> int:
        """Findings of every kind."""
        return sum(self.counts.values())

    @property
    def mb_per_second(self) -> float:
        """Throughput in MB (10^6 bytes) per second."""
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "strategy": self.strategy,
            "kinds": list(self.kinds),
            "input_path": self.input_path,
            "output_path": self.output_path,
            "lines": self.lines,
            "examples": self.examples,
            "examples_changed": self.examples_changed,
            "examples_dropped": self.examples_dropped,
            "unparsed_lines": self.unparsed_lines,
            "unparsed_line_numbers": list(self.unparsed_line_numbers),
            "counts": dict(sorted(self.counts.items())),
            "total_findings": self.total_findings,
            "findings": [f.to_dict() for f in self.findings],
            "findings_truncated": self.findings_truncated,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        kinds = ", ".join(f"{c}={n}" for c, n in sorted(self.counts.items())) or "none"
        return (
            f"{self.lines} lines, {self.total_findings} findings ({kinds}); "
            f"{self.examples_changed} changed, {self.examples_dropped} dropped, "
            f"{self.unparsed_lines} unparsed (strategy: {self.strategy})"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = (
            "".join(
                f"<tr><td><code>{esc(c)}</code></td><td style='text-align:right'>{n}</td></tr>"
                for c, n in sorted(self.counts.items())
            )
            or "<tr><td colspan='2'>no personal data found</td></tr>"
        )
        sample = "".join(
            f"<tr><td>{f.line}</td><td><code>{esc(f.field)}</code></td>"
            f"<td><code>{esc(f.code)}</code></td><td><code>{esc(f.preview)}</code></td></tr>"
            for f in self.findings[:20]
        )
        findings = (
            "<table><thead><tr><th>line</th><th>field</th><th>code</th><th>preview</th></tr>"
            f"</thead><tbody>{sample}</tbody></table>"
            if sample
            else ""
        )
        return (
            f"<div><strong>Redaction ({esc(self.strategy)})</strong>: {self.lines} lines, "
            f"{self.examples_changed} changed, {self.examples_dropped} dropped, "
            f"{self.unparsed_lines} unparsed"
            "<table><thead><tr><th>code</th><th>count</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{findings}</div>"
        )


def _redact_lines(
    blocks: Iterable[tuple[bytes, list[bytes]]],
    out: IO[bytes],
    red: Redactor,
    report: RedactionReport,
    max_findings: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Redact blocks of whole lines (see `_iter_blocks`) into ``out``, adding to ``report``.

    A line that `gate_json_block` clears is only checked to be JSON and copied byte for byte;
    the others are parsed and walked. The loop keeps its counters local and writes a block at a
    time: it runs once per line of files of millions of lines.
    """
    counts = report.counts
    plan = red._plan
    families = plan.families
    number = report.lines
    examples = 0
    read = 0
    batch: list[bytes] = []
    for data, parts in blocks:
        suspects = None if plan.always else gate_json_block(data, families)
        crlf = b"\r" in data
        offset = 0
        for part in parts:
            raw = part.rstrip(b"\r") if crlf else part
            number += 1
            at = offset
            offset += len(part) + 1
            if suspects is not None and at not in suspects and _parses(raw):
                examples += 1
                batch.append(raw)
                continue
            value, problem, _ = parse_line(raw)
            if problem is not None:
                report.unparsed_lines += 1
                if len(report.unparsed_line_numbers) < 100:
                    report.unparsed_line_numbers.append(number)
                batch.append(raw)
                continue
            examples += 1
            # A line the block gate named is likely to hold something: skip the pre-check.
            new, found = red._redact(value, number, precheck=suspects is None)
            if not found:
                batch.append(raw)
                continue
            for f in found:
                counts[f.code] = counts.get(f.code, 0) + 1
            room = max_findings - len(report.findings)
            if room > 0:
                report.findings.extend(found[:room])
            if len(found) > room:
                report.findings_truncated = True
            if new is None:
                report.examples_dropped += 1
            else:
                report.examples_changed += 1
                batch.append(json.dumps(new, ensure_ascii=False).encode())
        batch.append(b"")
        out.write(b"\n".join(batch))
        batch.clear()
        read += len(data)
        if progress is not None:
            progress(read)
    report.lines = number
    report.examples += examples


def _redact_part(
    src: str, start: int, end: int, part: str, args: tuple[Any, ...], max_findings: int
) -> tuple[RedactionReport, list[tuple[Any, ...]]]:
    """Worker: redact the lines in ``[start, end)`` of ``src`` into the file ``part``."""
    with Path(part).open("wb") as out:
        return _redact_to(_iter_blocks(src, start=start, end=end), out, args, max_findings)


def _redact_to(
    blocks: Iterable[tuple[bytes, list[bytes]]],
    out: IO[bytes],
    args: tuple[Any, ...],
    max_findings: int,
) -> tuple[RedactionReport, list[tuple[Any, ...]]]:
    """Worker: redact blocks with the redactor of ``Redactor._args``; lines numbered from 1."""
    strategy, kinds, secret, presidio, region = args
    red = Redactor(strategy, kinds=kinds, secret=secret, presidio=presidio, region=region)
    report = RedactionReport(strategy=red.strategy, kinds=red.codes)
    _redact_lines(blocks, out, red, report, max_findings)
    # Findings travel as plain tuples: frozen slotted dataclasses do not unpickle everywhere.
    findings = [dataclasses.astuple(f) for f in report.findings]
    report.findings = []
    return report, findings


def _redact_parallel(
    src: Path,
    out: IO[bytes],
    red: Redactor,
    report: RedactionReport,
    workers: int,
    max_findings: int,
    progress: Callable[[int], None] | None,
) -> None:
    """Split ``src`` into byte ranges, redact them in worker processes, merge in line order."""
    import concurrent.futures
    import multiprocessing
    import shutil
    import tempfile

    ranges = split_ranges(src, workers)
    folder = Path(out.name).parent if isinstance(out.name, str) else Path()
    with tempfile.TemporaryDirectory(prefix=".redact-", dir=folder) as tmp:
        parts = [str(Path(tmp) / f"part-{i}.jsonl") for i in range(len(ranges))]
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(len(ranges), mp_context=ctx) as pool:
            futures = [
                pool.submit(_redact_part, str(src), a, b, part, red._args, max_findings)
                for (a, b), part in zip(ranges, parts, strict=True)
            ]
            results = [f.result() for f in futures]
        for (_, end), part, (partial, found) in zip(ranges, parts, results, strict=True):
            with Path(part).open("rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
            _add_part(report, partial, found, max_findings)
            if progress is not None:
                progress(end)


def _add_part(
    report: RedactionReport,
    partial: RedactionReport,
    found: list[tuple[Any, ...]],
    max_findings: int,
) -> None:
    """Fold the report of the next range or partition (lines numbered from 1) into ``report``.

    ``found`` are its findings as tuples (see `_redact_part`); their lines and its unparsed
    line numbers are shifted by the lines ``report`` holds so far, as one pass would number them.
    """
    offset = report.lines
    report.lines += partial.lines
    report.examples += partial.examples
    report.examples_changed += partial.examples_changed
    report.examples_dropped += partial.examples_dropped
    report.unparsed_lines += partial.unparsed_lines
    room = 100 - len(report.unparsed_line_numbers)
    report.unparsed_line_numbers.extend(n + offset for n in partial.unparsed_line_numbers[:room])
    for code, n in partial.counts.items():
        report.counts[code] = report.counts.get(code, 0) + n
    room = max_findings - len(report.findings)
    kept = [PIIFinding(f[0], f[1], f[2], f[3], f[4], (f[5] or 0) + offset) for f in found]
    report.findings.extend(kept[: max(room, 0)])
    report.findings_truncated |= partial.findings_truncated or len(kept) > room


def redact_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    strategy: Strategy | str = "mask",
    kinds: Iterable[str] | str | None = None,
    secret: str | bytes | None = None,
    region: str | None = None,
    redactor: Redactor | None = None,
    workers: int | None = None,
    max_findings: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> RedactionReport:
    r"""Redact a JSONL file line by line into a new file, written atomically.

    Memory stays flat: a block of about 1 MB of whole lines is in memory at a time (per
    worker). Lines without personal data are copied byte for byte; changed lines are re-encoded
    with ``json.dumps`` (UTF-8). Lines that do not parse are copied through unchanged and counted
    in the report: they are not redacted, so fix them first (``finetune-kit validate`` lists
    them).

    Examples:
        >>> import json, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> example = {"messages": [{"role": "user", "content": "I am bo@example.org"}]}
        >>> _ = (folder / "train.jsonl").write_text(json.dumps(example) + "\n")
        >>> report = redact_file(folder / "train.jsonl", folder / "clean.jsonl")
        >>> report.counts
        {'pii_email': 1}
        >>> json.loads((folder / "clean.jsonl").read_text())["messages"][0]["content"]
        'I am [EMAIL]'

    Args:
        in_path: The JSONL file to read.
        out_path: The file to write (must differ from ``in_path``).
        strategy: ``mask``, ``pseudonym`` or ``drop`` (ignored when ``redactor`` is given).
        kinds: Which detectors to run (ignored when ``redactor`` is given).
        secret: Pseudonym secret (ignored when ``redactor`` is given).
        region: Default region for phone numbers without a country code (ignored when
            ``redactor`` is given).
        redactor: A ready [`Redactor`][finetune_kit.Redactor], e.g. shared between the
            training and the validation file.
        workers: Worker processes (default: one per core); the file is split into byte ranges
            and the results are merged in line order, so the output and the report do not
            depend on it. Runs in one process when user-registered detectors are selected
            (workers start fresh and would not have them) or the file is under 8 MB.
        max_findings: How many findings (masked) the report keeps; counts are always complete.
        progress: Called now and then with the number of bytes read so far.

    Returns:
        The [`RedactionReport`][finetune_kit.privacy.redaction.RedactionReport].

    Raises:
        ConfigError: ``out_path`` is the input file, or a bad strategy, kind, secret or worker
            count.
        DataError: The input cannot be read or the output cannot be written.
    """
    src, dest = Path(in_path), Path(out_path)
    if not src.is_file():
        hint = "it is a directory" if src.is_dir() else "check the path"
        raise DataError("file not found", file=src, hint=hint)
    if dest.resolve() == src.resolve() or (dest.exists() and dest.samefile(src)):
        raise ConfigError(
            "refusing to overwrite the input file", file=dest, hint="write to another path"
        )
    red = redactor or Redactor(strategy, kinds=kinds, secret=secret, region=region)
    report = RedactionReport(
        strategy=red.strategy, kinds=red.codes, input_path=str(src), output_path=str(dest)
    )
    size = src.stat().st_size
    if workers is None:
        workers = os.cpu_count() or 1
    elif workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    parallel = workers > 1 and size >= _PARALLEL_MIN_BYTES and all(d.builtin for d in red.detectors)
    started = time.perf_counter()
    with atomic_write(dest, binary=True) as out:
        if parallel:
            _redact_parallel(src, out, red, report, workers, max_findings, progress)
        else:
            _redact_lines(_iter_blocks(src), out, red, report, max_findings, progress)
    report.bytes_read = size
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(size)
    return report

"""The PII detector registry and the built-in detectors.

A detector is a function over one string that yields ``(start, end)`` spans, registered under a
stable code (``pii_email``, ...) with a description, a mask label, a masked-preview function and a
pseudonym (fake value) function. [`finetune_kit.privacy`][] re-exports the public names; this module
holds the pattern work so that ``redaction.py`` stays about findings and redaction.

Every built-in detector starts with a cheap pre-check (``'@' in text``, a digit, a key prefix) and
then runs compiled regular expressions whose matches are confirmed by a checksum or a rule
(Luhn, IBAN mod-97, DNI letter, SSN ranges, ``ipaddress``, entropy), so look-alikes in ML Q&A data
(versions, dates, ids, hashes, model names) are not flagged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
import string
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from finetune_kit.errors import ConfigError
from finetune_kit.privacy._numbers import ALNUM_GATE as _ALNUM_GATE
from finetune_kit.privacy._numbers import BARE_DATE as _BARE_DATE
from finetune_kit.privacy._numbers import digits_of as _digits
from finetune_kit.privacy._numbers import (
    find_cards,
    find_ibans,
    find_national_ids,
    find_phones,
    find_ssns,
    iban_ok,
    luhn_ok,
    nino_ok,
    ssn_ok,
)
from finetune_kit.privacy._numbers import in_windows as _in_windows
from finetune_kit.privacy._numbers import windows as _windows

__all__ = [
    "FAMILY_ALL",
    "Detector",
    "DetectorFunc",
    "Span",
    "dni_ok",
    "find_cards",
    "find_ibans",
    "find_national_ids",
    "find_phones",
    "find_ssns",
    "gate_json_block",
    "gate_text",
    "get_detector",
    "iban_ok",
    "keyed_digest",
    "list_detectors",
    "luhn_ok",
    "nino_ok",
    "pii_detector",
    "register_detector",
    "registry_version",
    "secret_key_word",
    "secret_value_ok",
    "ssn_ok",
    "unregister_detector",
]

Span = tuple[int, int]
DetectorFunc = Callable[[str], Iterable[Span]]
PreviewFunc = Callable[[str], str]
FakeFunc = Callable[[str, bytes], str]
F = TypeVar("F", bound=DetectorFunc)

_CODE_RE = re.compile(r"pii_[a-z][a-z0-9_]*\Z")


def _default_preview(value: str) -> str:
    return f"{value[:1]}***" if len(value) >= 6 else "***"


@dataclass(frozen=True)
class Detector:
    """A registered PII detector.

    Attributes:
        code: Stable code, ``pii_`` + kind (``pii_email``); findings and warnings use it.
        description: What the detector finds, in one line.
        find: ``find(text)`` yields ``(start, end)`` spans of personal data in ``text``.
        label: The placeholder word the ``mask`` strategy writes (``EMAIL`` -> ``[EMAIL]``).
        default: Whether it runs when no ``kinds`` are given (opt-in detectors such as the
            Presidio ones say ``False``).
        builtin: True for the detectors that ship with finetune-kit.
        preview: Turns a found value into a masked preview safe for logs and reports.
        fake: ``fake(value, digest)`` returns the pseudonym for a value, given its keyed
            HMAC-SHA256 digest; ``None`` means ``<LABEL>_<8 hex digits>``.
        normalize: Canonical form hashed for pseudonyms, so ``A@X.com`` and ``a@x.com`` get the
            same fake; ``None`` means the value as found.
        priority: Lower wins when spans of two detectors overlap.
        family: Bit mask of the cheap pre-checks (``FAMILY_*``) that must pass before a built-in
            detector can find anything; 0 (user detectors) means "always run".
    """

    code: str
    description: str
    find: DetectorFunc = field(repr=False)
    label: str
    default: bool = True
    builtin: bool = False
    preview: PreviewFunc = field(default=_default_preview, repr=False)
    fake: FakeFunc | None = field(default=None, repr=False)
    normalize: Callable[[str], str] | None = field(default=None, repr=False)
    priority: int = 100
    family: int = 0

    @property
    def kind(self) -> str:
        """The code without its ``pii_`` prefix (``email``)."""
        return self.code[4:]


_REGISTRY: dict[str, Detector] = {}
_LOCK = threading.Lock()
_VERSION = [0]


def registry_version() -> int:
    """Return a number that changes whenever the registry changes (for caches)."""
    return _VERSION[0]


def _add(det: Detector, *, replace: bool) -> Detector:
    if not _CODE_RE.match(det.code):
        raise ConfigError(
            f"invalid detector code {det.code!r}",
            hint="use 'pii_' followed by lower-case letters, digits or '_', e.g. 'pii_employee_id'",
        )
    with _LOCK:
        if det.code in _REGISTRY and not replace:
            raise ConfigError(
                f"a detector with code {det.code!r} is already registered",
                hint="pass replace=True to replace it, or choose another code",
            )
        _REGISTRY[det.code] = det
        _VERSION[0] += 1
    return det


def register_detector(
    code: str,
    find: DetectorFunc,
    *,
    description: str,
    label: str | None = None,
    default: bool = True,
    preview: PreviewFunc | None = None,
    fake: FakeFunc | None = None,
    replace: bool = False,
) -> Detector:
    """Register a function as a PII detector.

    Args:
        code: Stable code, ``pii_`` + a lower-case kind (``pii_employee_id``).
        find: ``find(text)`` yields ``(start, end)`` spans within ``text``.
        description: One line saying what it finds (shown in docs and reports).
        label: Placeholder word for the ``mask`` strategy; defaults to the kind in capitals.
        default: Run it when no ``kinds`` are given.
        preview: Masked preview of a found value; defaults to its first character + ``***``.
        fake: ``fake(value, digest) -> str`` for the ``pseudonym`` strategy; defaults to
            ``<LABEL>_<8 hex digits of the digest>``.
        replace: Replace a detector already registered under ``code``.

    Returns:
        The registered [`Detector`][finetune_kit.privacy.redaction.Detector].

    Raises:
        ConfigError: The code is malformed, or taken and ``replace`` is false.
    """
    det = Detector(
        code=code,
        description=description,
        find=find,
        label=label or code[4:].upper(),
        default=default,
        preview=preview or _default_preview,
        fake=fake,
    )
    return _add(det, replace=replace)


def pii_detector(
    code: str,
    *,
    description: str,
    label: str | None = None,
    default: bool = True,
    preview: PreviewFunc | None = None,
    fake: FakeFunc | None = None,
    replace: bool = False,
) -> Callable[[F], F]:
    r"""Register the decorated function as a PII detector (see `register_detector`).

    Examples:
        >>> import re
        >>> from finetune_kit.privacy.redaction import pii_detector, scan_text, unregister_detector
        >>> @pii_detector("pii_employee_id", description="Employee ids such as EMP-123456")
        ... def employee_ids(text):
        ...     for m in re.finditer(r"\bEMP-\d{6}\b", text):
        ...         yield m.span()
        >>> [(m.code, m.preview) for m in scan_text("ask EMP-123456")]
        [('pii_employee_id', 'E***')]
        >>> unregister_detector("pii_employee_id")

    Args:
        code: Stable code, ``pii_`` + a lower-case kind.
        description: One line saying what it finds.
        label: Placeholder word for the ``mask`` strategy.
        default: Run it when no ``kinds`` are given.
        preview: Masked preview of a found value.
        fake: Pseudonym function ``fake(value, digest) -> str``.
        replace: Replace a detector already registered under ``code``.

    Returns:
        A decorator that registers the function and returns it unchanged.
    """

    def decorate(func: F) -> F:
        register_detector(
            code,
            func,
            description=description,
            label=label,
            default=default,
            preview=preview,
            fake=fake,
            replace=replace,
        )
        return func

    return decorate


def unregister_detector(code: str) -> None:
    """Remove a detector from the registry.

    Args:
        code: The detector's code.

    Raises:
        ConfigError: No detector has that code.
    """
    with _LOCK:
        if _REGISTRY.pop(code, None) is None:
            raise ConfigError(f"no detector with code {code!r}")
        _VERSION[0] += 1


def list_detectors() -> list[Detector]:
    """Return every registered detector, built-in ones first, in priority order."""
    with _LOCK:
        return sorted(_REGISTRY.values(), key=lambda d: (d.priority, d.code))


def get_detector(code: str) -> Detector | None:
    """Return the detector registered under ``code`` (or ``None``)."""
    return _REGISTRY.get(code)


# --------------------------------------------------------------------------- cheap gates
#
# Most strings hold no personal data, so every built-in detector belongs to a "family" with a
# pre-check that costs one substring test or one cheap regex: '@' for e-mail and URLs, a run of
# 7+ digits and separators for the numeric kinds, a key prefix or a keyword for secrets, '::' or
# many colons for IPv6. `gate_text` runs the pre-checks once per string (or once per example, on
# all its strings joined).

FAMILY_EMAIL = 1
FAMILY_NUMBER = 2
FAMILY_SECRET = 4
FAMILY_IPV6 = 8
FAMILY_ID = 16
FAMILY_ALL = FAMILY_EMAIL | FAMILY_NUMBER | FAMILY_SECRET | FAMILY_IPV6 | FAMILY_ID

# Key prefixes, grouped behind a character they share so that most groups cost one scan.
_PREFIX_GROUPS = (
    ("_", ("sk_", "rk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "hf_", "npm_")),
    ("_", ("r8_", "gsk_", "shpat_", "shpss_", "shpca_", "shppa_", "dop_v1_")),
    ("-", ("sk-", "xox", "xapp-", "-----BEGIN", "sq0atp-", "sq0csp-", "pypi-")),
    ("gl", ("glpat-", "glrt-", "gldt-", "glsoat-", "glptt-", "glft-", "glimt-", "glcbt-")),
    ("A", ("AKIA", "ASIA", "ABIA", "ACCA", "AIza", ":AA")),
    ("eyJ", ("eyJ",)),
    ("hooks.slack", ("hooks.slack",)),
    ("S", ("SG.", "SK")),
    ("dapi", ("dapi",)),
)
_KEY_PREFIXES = tuple(p for _, group in _PREFIX_GROUPS for p in group)
_KEYWORDS = (
    *("key", "token", "secret", "pass", "credential", "bearer"),
    *("clave", "contrase"),
)


def _has_prefix(text: str) -> bool:
    for key, group in _PREFIX_GROUPS:
        if key in text:
            for prefix in group:
                if prefix in text:
                    return True
    return False


def _has_keyword(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in _KEYWORDS)


def gate_text(text: str, wanted: int = FAMILY_ALL) -> int:
    """Return the families (bit mask, within ``wanted``) whose pre-check passes on ``text``."""
    found = 0
    if wanted & FAMILY_EMAIL and "@" in text:
        found |= FAMILY_EMAIL
    if wanted & FAMILY_NUMBER and _windows(text):
        found |= FAMILY_NUMBER
    if wanted & FAMILY_IPV6 and ("::" in text or text.count(":") >= 7):
        found |= FAMILY_IPV6
    if wanted & FAMILY_SECRET and (_has_prefix(text) or _has_keyword(text)):
        found |= FAMILY_SECRET
    if wanted & FAMILY_ID and _ALNUM_GATE.search(text):
        found |= FAMILY_ID
    return found


# --------------------------------------------------------------------------- raw JSON lines
#
# `gate_json_block` looks at JSONL lines *before* they are parsed and names those that need the
# full scan. Every other line is one where no built-in detector of the wanted families can find
# anything in any string (tool-call arguments holding JSON included) and no key such as
# ``api_key`` introduces a secret, so it can be copied as it is. Each check is a necessary
# condition of a detector's match, made to hold on the JSON text: escapes (``\n``, ``\"``,
# ``\/``, doubled inside nested JSON) may sit where the decoded text has a separator, so they
# never hide a digit run or a keyword; ``\u`` escapes, and the two characters whose lower case is
# ASCII (U+0130, U+212A), send a line down the full path.
#
# The checks run over a block of many lines at once, each as one search for a pattern that starts
# with a literal (which the regex engine finds at memory speed) and looks around from there:
# about fifteen passes over the bytes instead of a dozen calls per line. Each pass costs about the
# same whatever it looks for, so patterns that start with the same byte share one pass (an
# alternation only stays fast behind a common literal prefix).

# The numeric patterns run on the block's *shape*: every digit written as 0, every capital as A,
# so that a pattern such as "4 capitals and 6 digits" starts with a literal.
_RAW_RUN = re.compile(rb"0[0 \-.()/\\]{5,}0")
_RAW_SHAPE = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0" * 10 + b"A" * 26)
# The letter-and-digit ids of `find_national_ids`: CURP, codice fiscale, UK NINO.
_RAW_IDS = re.compile(rb"AA(?:AA000000AAAAAA[A0]0|AAAA[0A]{2}A[0A]{2}A[0A]{3}A| ?00 ?00 ?00 ?A)")
_RAW_BARE_DATE = re.compile(_BARE_DATE.pattern.encode())
_RAW_ESCAPE = re.compile(rb"\\u")  # a \u escape may hide any character
_RAW_NON_ASCII = ("\u0130".encode(), "\u212a".encode())
# The patterns that start with a colon: "::" and a full IPv6 address (FAMILY_IPV6), a Telegram
# bot token "123456:AA..." (FAMILY_SECRET); one pass for the families wanted.
_COLON_IPV6 = rb":|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){5}:"
_COLON_SECRET = rb"AA(?<=[0-9]:AA)"
_RAW_COLON = {
    FAMILY_IPV6: re.compile(rb":(?:%s)" % _COLON_IPV6),
    FAMILY_SECRET: re.compile(rb":%s" % _COLON_SECRET),
    FAMILY_IPV6 | FAMILY_SECRET: re.compile(rb":(?:%s|%s)" % (_COLON_IPV6, _COLON_SECRET)),
}
_RAW_PREFIXES = (
    re.compile(
        rb"_(?:(?<=sk_)|(?<=rk_)|(?<=hf_)|(?<=gh[pousr]_)|(?<=npm_)|(?<=github_pat_)|(?<=r8_)|"
        rb"(?<=gsk_)|(?<=shp[a-z]{2}_)|(?<=dop_v1_))"
    ),
    re.compile(
        rb"-(?:(?<=sk-)|(?<=xox[abposr]-)|(?<=xapp-)|----BEGIN|(?<=sq0atp-)|(?<=sq0csp-)|"
        rb"(?<=pypi-)|(?<=gl[a-z]{2}-)|(?<=gl[a-z]{3}-)|(?<=glsoat-))"
    ),
    re.compile(rb"A(?:KIA|SIA|BIA|CCA|Iza)"),
    re.compile(rb"J(?<=eyJ)"),
    re.compile(rb"hooks\.slack"),
    re.compile(rb"SG\.|SK[0-9a-f]{32}"),
    re.compile(rb"dapi[0-9a-f]{32}"),
)
# After a keyword: an optional (escaped) quote, blanks or escaped blanks, then ``:``/``=``
# (a separator, or the colon after a JSON key), or blanks and "is"/"was"; after "bearer", blanks.
_RAW_TAIL = (
    rb"""(?:\\*["'`])?"""
    rb"(?:(?:[ \t\r]|\\+[tnr])*[:=]|"
    rb"(?:[ \t]|\\+t)+(?:is|was|es|era|est|ist|\xc3\xa9)(?![a-z0-9]))"
)


# The secret keywords (`_SECRET_WORDS`), each searched on the lower-cased block as a word *end*
# (apikey ends in "key"; password, passwd and passphrase start with "pass"): no look at what
# comes before, so camelCase keys (``apiKey``, ``clientSecret``, ``AccountKey``) and words
# right after an escape such as ``\n`` are covered by the same pass.
_RAW_KEYWORDS = tuple(
    re.compile(rb"%s(?![a-z0-9])%s" % (words, tail))
    for words, tail in (
        (rb"key", _RAW_TAIL),
        (rb"token", _RAW_TAIL),
        (rb"secret", _RAW_TAIL),
        (rb"pass(?:word|wd|phrase|wort)", _RAW_TAIL),
        (rb"c(?:redentials?|lave|ontrase(?:\xc3\xb1|n)a)", _RAW_TAIL),  # one pass for the c-words
        (rb"bearer", rb"(?:[ \t]|\\+t)+"),
    )
)


class _Suspects:
    """The start offsets of the lines of ``data`` found so far, and the search loop."""

    __slots__ = ("data", "starts")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts: set[int] = set()

    def add(self, pos: int) -> int:
        """Mark the line holding ``pos``; return where the next line starts."""
        data = self.data
        self.starts.add(data.rfind(b"\n", 0, pos) + 1)
        end = data.find(b"\n", pos)
        return len(data) if end == -1 else end + 1

    def literal(self, needle: bytes) -> None:
        data = self.data
        pos = data.find(needle)
        while pos != -1:
            pos = data.find(needle, self.add(pos))

    def pattern(self, rx: re.Pattern[bytes], text: bytes | None = None) -> None:
        m = rx.search(self.data if text is None else text)
        while m is not None:
            m = rx.search(m.string, self.add(m.start()))


def _raw_numbers(found: _Suspects, zeros: bytes) -> None:
    """Digit runs a numeric detector could match in (on the block's shape).

    The rules of `windows`, which every numeric detector searches in: a run counts with at
    least 7 digits or 3 dots (an IPv4 address is a run of 3 dots), unless it is a bare date or
    plain digits glued to an id.
    """
    n = len(zeros)
    pos = 0
    while (m := _RAW_RUN.search(zeros, pos)) is not None:
        run = m.group()
        start, end = m.span()
        pos = end
        if (run.count(b"0") < 7 and run.count(b".") < 3) or _RAW_BARE_DATE.fullmatch(run):
            continue
        glued = (end < n and 97 <= zeros[end] <= 122) or (start > 0 and zeros[start - 1] == 95)
        if glued and run.count(b"0") == len(run):
            continue  # plain digits glued to an id or a hash: see `_windows`
        pos = found.add(start)


def gate_json_block(data: bytes, wanted: int = FAMILY_ALL) -> set[int]:
    """Name the lines of a block of JSONL lines that need the full scan for personal data.

    Args:
        data: Whole lines separated by newlines, undecoded (valid JSON or not: a line that
            does not parse is never scanned).
        wanted: The families (``FAMILY_*`` bit mask) of the detectors that would run.

    Returns:
        The start offsets (in ``data``) of the lines to decode and scan; no built-in detector
        can find anything in the others.
    """
    found = _Suspects(data)
    found.pattern(_RAW_ESCAPE)
    if not data.isascii():
        for needle in _RAW_NON_ASCII:
            found.literal(needle)
    if wanted & FAMILY_EMAIL:
        found.literal(b"@")
    colon = _RAW_COLON.get(wanted & (FAMILY_IPV6 | FAMILY_SECRET))
    if colon is not None:
        found.pattern(colon)
    if wanted & FAMILY_SECRET:
        for rx in _RAW_PREFIXES:
            found.pattern(rx)
        low = data.lower()
        for rx in _RAW_KEYWORDS:
            found.pattern(rx, low)
    if wanted & (FAMILY_NUMBER | FAMILY_ID):
        shape = data.translate(_RAW_SHAPE)
        if wanted & FAMILY_NUMBER:
            _raw_numbers(found, shape)
        if wanted & FAMILY_ID:
            found.pattern(_RAW_IDS, shape)
    return found.starts


# --------------------------------------------------------------------------- helpers


def _luhn_digit(body: str) -> str:
    from stdnum import luhn

    return str(luhn.calc_check_digit(body))


def entropy(value: str) -> float:
    """Return the Shannon entropy of ``value`` in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


_PLACEHOLDER_RE = re.compile(
    r"(?i)your|xxxx|\*\*\*|\.\.\.|<|>|\$\{|\{\{|placeholder|redacted|changeme|example_?key|dummy"
)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER_RE.search(value)) or len(set(value)) <= 3


def _hex(digest: bytes, n: int) -> str:
    return digest.hex()[:n]


def _num(digest: bytes, start: int, width: int) -> int:
    return int.from_bytes(digest[start : start + width], "big")


def _keep_last(value: str, keep: int) -> str:
    out: list[str] = []
    remaining = len(_digits(value))
    for ch in value:
        if "0" <= ch <= "9":
            out.append(ch if remaining <= keep else "*")
            remaining -= 1
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- e-mail

_EMAIL_RE = re.compile(
    r"(?<![\w.%+\-/])"
    r"[^\W_](?:[\w.%+'\-]{0,62}[\w%+\-])?"
    r"@(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,24}|xn--[a-z0-9\-]{2,59})"
    r"(?![\w(\-]|:[^\s])"
)


def find_emails(text: str) -> Iterator[Span]:
    """Yield spans of e-mail addresses (not ``git@host:path`` SSH remotes, not ``a@b.method(``).

    Local parts and domains may hold non-ASCII letters (``josé@correo.es``, ``info@bücher.de``,
    RFC 6531) and domains may be written in punycode (``xn--bcher-kva.de``).
    """
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            yield m.span()


def _email_preview(value: str) -> str:
    local, _, domain = value.partition("@")
    first, _, rest = domain.partition(".")
    return f"{local[:1]}***@{first[:1]}***.{rest.rsplit('.', 1)[-1]}"


def _email_fake(value: str, digest: bytes) -> str:
    return f"user_{_hex(digest, 6)}@example.com"


def _phone_fake(value: str, digest: bytes) -> str:
    # Ofcom reserves 07700 900000-900999 for drama: such numbers are never assigned.
    return f"+44 7700 900{_num(digest, 0, 4) % 1000:03d}"


# --------------------------------------------------------------------------- payment card


def _card_preview(value: str) -> str:
    d = _digits(value)
    masked = "*" * (len(d) - 4) + d[-4:]
    groups = [masked[max(0, i - 4) : i] for i in range(len(masked), 0, -4)]
    return " ".join(reversed(groups))


def _card_fake(value: str, digest: bytes) -> str:
    # 400000 is the BIN payment sandboxes use for test cards; the number is Luhn-valid.
    body = f"400000{_num(digest, 0, 8) % 10**9:09d}"
    d = body + _luhn_digit(body)
    seps = [ch for ch in value if not "0" <= ch <= "9"]
    return (seps[0] if seps else "").join(d[i : i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------- IBAN


def _iban_preview(value: str) -> str:
    c = value.replace(" ", "")
    masked = c[:2] + "*" * (len(c) - 6) + c[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def _iban_fake(value: str, digest: bytes) -> str:
    c = value.replace(" ", "").upper()
    length = len(c)
    # A zero bank code (no bank has one) followed by account digits from the digest.
    account = str(_num(digest, 0, 16)).rjust(length, "0")[-(length - 8) :]
    bban = "0000" + account
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + c[:2] + "00")) % 97
    fake = f"{c[:2]}{check:02d}{bban}"
    return " ".join(fake[i : i + 4] for i in range(0, len(fake), 4)) if " " in value else fake


# --------------------------------------------------------------------------- IP addresses

_IPV4_RE = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])")
# IPv6 in full or compressed form, with an IPv4 tail (``::ffff:10.0.0.1``) and a zone index
# (``fe80::1%eth0``; ``%25`` inside URLs, RFC 6874).
_IPV6_RE = re.compile(
    r"(?<![\w:.%])"
    r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
    r"(?:%(?:25)?[0-9A-Za-z](?:[0-9A-Za-z_.\-]{0,30}[0-9A-Za-z])?)?"
    r"(?![\w:%]|\.\w)",
    re.ASCII,
)
_VERSION_CONTEXT = re.compile(
    r"(?i)(?<![A-Za-z])(?:version|versions|release|build|firmware|driver|patch|ver\.?|rev|tag|sdk|"
    r"section|chapter|figure|fig\.|table|step|page|§|"
    r"upgrade(?:d)?(?:\s+to)?|update(?:d)?(?:\s+to)?|==|>=|<=|~=|!=)\s*[:=]?\s*(?:is\s+)?\Z"
)
_IGNORED_V4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 in bind addresses
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (cloud metadata endpoints)
        "192.0.2.0/24",  # TEST-NET-1 (documentation)
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/3",  # multicast, reserved, broadcast, and netmasks such as 255.255.255.0
    )
]
_PUBLIC_RESOLVERS = {"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112"}
_V6_GLOBAL = ipaddress.ip_network("2000::/3")
_V6_ULA = ipaddress.ip_network("fc00::/7")
# Documentation (RFC 3849, RFC 9637) and the public DNS resolvers of Google, Cloudflare, Quad9.
_V6_DOC = (ipaddress.ip_network("2001:db8::/32"), ipaddress.ip_network("3fff::/20"))
_V6_RESOLVERS = {
    ipaddress.IPv6Address(a)
    for a in (
        *("2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111"),
        *("2606:4700:4700::1001", "2620:fe::fe", "2620:fe::9"),
    )
}


def _ipv4_is_personal(value: str, text: str, start: int) -> bool:
    try:
        addr = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    if any(addr in net for net in _IGNORED_V4) or value in _PUBLIC_RESOLVERS:
        return False
    if all(len(p) == 1 for p in value.split(".")[:3]):
        return False  # 1.2.3.4 / 8.9.7.29: read as a version number
    return not _VERSION_CONTEXT.search(text, max(0, start - 24), start)


def find_ips(text: str) -> Iterator[Span]:
    """Yield spans of IPv4 and IPv6 addresses that can point at a person or a private network.

    Confirmed with ``ipaddress``. Not flagged: loopback, unspecified, link-local, multicast,
    reserved and documentation ranges, netmasks, well-known public DNS resolvers, numbers whose
    first three parts are single digits (``1.2.3.4``, read as versions) and numbers right after
    "version", "release", "section", ``==`` and similar words. IPv6 (full, compressed, with an
    IPv4 tail or a zone index such as ``%eth0``) is flagged in global unicast (``2000::/3``) and
    unique-local (``fc00::/7``) space, except the documentation ranges ``2001:db8::/32`` and
    ``3fff::/20`` and public resolvers; IPv4-mapped addresses (``::ffff:10.0.0.1``) follow the
    IPv4 rules.
    """
    for m in _in_windows(_IPV4_RE, text, dots=3):
        if _ipv4_is_personal(m.group(), text, m.start()):
            yield m.span()
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6_RE.finditer(text):
            if _ipv6_is_personal(m.group(), text, m.start()):
                yield m.span()


def _ipv6_is_personal(value: str, text: str, start: int) -> bool:
    try:
        addr = ipaddress.IPv6Address(value.split("%", 1)[0])
    except ValueError:
        return False
    mapped = addr.ipv4_mapped
    if mapped is not None:
        return _ipv4_is_personal(str(mapped), text, start)
    if any(addr in net for net in _V6_DOC) or addr in _V6_RESOLVERS:
        return False
    return addr in _V6_GLOBAL or addr in _V6_ULA


def _ip_preview(value: str) -> str:
    if ":" in value:
        return value.split(":", 1)[0] + ":****"
    return value.split(".", 1)[0] + ".***.***.***"


def _ip_normalize(value: str) -> str:
    return str(ipaddress.ip_address(value.split("%", 1)[0]))


def _ip_fake(value: str, digest: bytes) -> str:
    if ":" in value:
        return f"2001:db8::{_num(digest, 0, 2):x}:{_num(digest, 2, 2):x}"
    net = ("192.0.2", "198.51.100", "203.0.113")[digest[0] % 3]
    return f"{net}.{digest[1] % 254 + 1}"


# --------------------------------------------------------------------------- national ids


def _ssn_fake(value: str, digest: bytes) -> str:
    # Area numbers 900-999 are never issued, so the fake cannot be anyone's number.
    n = _num(digest, 0, 8)
    return f"9{n % 100:02d}-{n // 100 % 90 + 10:02d}-{n // 10**4 % 9000 + 1000:04d}"


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(value: str) -> bool:
    """Return True when ``value`` is a Spanish DNI or NIE whose control letter matches.

    Checked by ``stdnum.es.dni`` / ``stdnum.es.nie`` (8 digits and a letter; X/Y/Z, 7 digits
    and a letter).
    """
    from stdnum.es import dni, nie

    compact = value.replace("-", "").replace(" ", "").upper()
    checker = nie if compact[:1] in ("X", "Y", "Z") else dni
    return bool(checker.is_valid(compact))


def _national_id_fake(value: str, digest: bytes) -> str:
    # DNI/NIE: high numbers (DNI 99xxxxxx, NIE Z9xxxxxx) far from the ranges issued so far, with
    # a valid letter. Other ids: the same shape (letters, digits, separators) with digest-derived
    # characters, so that the checksum almost never holds and the fake is not anyone's number.
    n = _num(digest, 0, 4) % 1_000_000
    compact = value.replace("-", "").upper()
    if len(compact) == 9 and compact[:1] in ("X", "Y", "Z") and compact[1:8].isdigit():
        body = f"9{n:06d}"
        return f"Z{body}{_DNI_LETTERS[int('2' + body) % 23]}"
    if len(compact) == 9 and compact[:8].isdigit() and compact[8].isalpha():
        dni = 99_000_000 + n
        return f"{dni}{_DNI_LETTERS[dni % 23]}"
    return _same_shape(value, digest)


def _same_shape(value: str, digest: bytes) -> str:
    stream = hashlib.sha256(digest).digest() * (len(value) // 32 + 1)
    out: list[str] = []
    for ch, byte in zip(value, stream[: len(value)], strict=True):
        if "0" <= ch <= "9":
            out.append(str(byte % 10))
        elif "A" <= ch <= "Z":
            out.append(chr(65 + byte % 26))
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- secrets

_KEY_SHAPES_RE = re.compile(
    r"""
    (?<![A-Za-z0-9_\-])
    (?:
      (?P<openai>sk-(?:proj-|svcacct-|admin-|ant-(?:api[0-9]{2}-)?)?[A-Za-z0-9_\-]{20,})
    | (?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}
    | gh[pousr]_[A-Za-z0-9]{30,255}
    | github_pat_[A-Za-z0-9_]{22,255}
    | (?P<slack>xox[abposr]-[A-Za-z0-9\-]{10,})
    | [sr]k_(?:live|test)_[A-Za-z0-9]{16,}
    | AIza[0-9A-Za-z_\-]{35}
    | hf_[A-Za-z0-9]{30,}
    | glpat-[A-Za-z0-9_\-]{20,}
    | npm_[A-Za-z0-9]{36}
    | eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}
    | gl(?:rt|dt|soat|ptt|ft|imt|cbt)-[A-Za-z0-9_\-]{20,}
    | xapp-[0-9]-[A-Z0-9]{8,}-[0-9]{8,}-[a-f0-9]{32,}
    | r8_[A-Za-z0-9]{37}
    | gsk_[A-Za-z0-9]{52}
    | shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}
    | dop_v1_[a-f0-9]{64}
    | dapi[a-f0-9]{32}(?:-[0-9])?
    | pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}
    | SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}
    | SK[0-9a-f]{32}
    | sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43}
    | [0-9]{8,10}:AA[0-9A-Za-z_\-]{33}
    | https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}
    )
    (?![A-Za-z0-9_\-])
    """,
    re.VERBOSE,
)
_PEM_RE = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)",
    re.DOTALL,
)
# What may follow a keyword: a separator (``=``, ``:``, ``:=``, ``=>``, " is ") and the value.
_KW_TAIL_RE = re.compile(
    r"""["'`]?[ \t]*(?:(?::=|=>|[:=])|(?P<verb>[ \t]+(?:is|was|es|era|est|ist|é)(?=\s)))\s*["'`]?"""
    r"""(?P<value>[^\s"'`,;(){}\[\]<>]{6,256})"""
)
_BEARER_TAIL_RE = re.compile(r"[ \t]+(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)")
_SECRET_WORDS = (
    *("key", "apikey", "token", "secret", "password", "passwd", "passphrase"),
    *("credential", "credentials", "bearer"),
    *("clave", "contraseña", "contrasena", "passwort"),
)
_SECRET_KW_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?P<kw>apikey|key|token|secret|password|passwd|passphrase|"
    r"credentials?|bearer|clave|contrase[ñn]a|passwort)(?![A-Za-z0-9])"
)
# Keywords also found at a camelCase boundary (``apiKey``, ``clientSecret``, ``AccountKey``).
_CAMEL_WORDS = frozenset(
    ("key", "token", "secret", "password", "passwd", "passphrase", "credential", "credentials")
)
_SPLIT_RUNS = re.compile(r"[\-_.:]")
_PASSWORD_KWS = (
    *("password", "passwd", "passphrase", "contraseña", "contrasena"),
    "passwort",
)
_NOT_VALUES = ("none", "null", "true", "false", "required", "optional", "string", "str")


def secret_value_ok(keyword: str, value: str, *, loose: bool = False) -> bool:
    """Return True when ``value``, introduced by ``keyword``, looks like a real secret.

    After "password" (or passwd/passphrase): 6+ characters with a digit, a symbol or mixed case.
    After other keywords: 16+ characters with letters and digits, a 16+ character run without
    separators, and Shannon entropy of at least 3 bits per character (after " is ", mixed case is
    also required, so "the cache key is <sha256 hex>" is not a secret). Placeholders
    (``YOUR_KEY``, ``<token>``, ``${TOKEN}``, ``os.environ[...]``) never are.

    Args:
        keyword: The word before the value (``api_key``, ``password``, ...).
        value: The candidate value.
        loose: The value was introduced by "is"/"was" rather than ``=`` or ``:``.
    """
    value = value.rstrip(".")
    low = value.lower()
    if (
        len(value) < 6
        or _is_placeholder(value)
        or low in _NOT_VALUES
        or "://" in value
        or value[0] in "/~$%&@."
        or low.startswith(("os.", "env", "getenv", "process.env", "settings."))
    ):
        return False
    has_digit = any("0" <= ch <= "9" for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    if keyword.lower().endswith(_PASSWORD_KWS):
        mixed = value != value.lower() and value != value.upper()
        symbol = any(ch in string.punctuation for ch in value)
        return has_digit or symbol or mixed
    if loose and not (has_digit and value != value.lower() and value != value.upper()):
        return False
    longest = max(len(run) for run in _SPLIT_RUNS.split(value))
    return len(value) >= 16 and longest >= 16 and has_digit and has_alpha and entropy(value) >= 3.0


def _keyword_hits(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield ``(keyword, start, end)`` of every secret keyword standing as a word."""
    low = text.lower()
    if len(low) != len(text):  # a few Unicode letters change length when lower-cased
        for m in _SECRET_KW_RE.finditer(text):
            yield m.group("kw").lower(), m.start(), m.end()
        return
    n = len(low)
    for word in _SECRET_WORDS:
        i = low.find(word)
        while i != -1:
            j = i + len(word)
            if (
                i == 0
                or not low[i - 1].isalnum()
                or (word in _CAMEL_WORDS and text[i].isupper() and not text[i - 1].isupper())
            ) and (j == n or not low[j].isalnum()):
                yield word, i, j
            i = low.find(word, j)


def secret_key_word(key: str) -> str | None:
    """Return the secret keyword a JSON key ends with (``OPENAI_API_KEY`` -> ``key``), or None."""
    ends = [word for word, _, end in _keyword_hits(key) if end == len(key)]
    return ends[0] if ends else None


def _shape_ok(m: re.Match[str]) -> bool:
    value = m.group()
    if _is_placeholder(value):
        return False
    if m.group("openai"):
        body = value.rsplit("-", 1)[-1] if value.count("-") <= 2 else value[3:]
        return any("0" <= ch <= "9" for ch in value[3:]) and any(ch.isalpha() for ch in body)
    if m.group("slack"):
        return any("0" <= ch <= "9" for ch in value[5:])
    return True


def find_secrets(text: str) -> Iterator[Span]:
    """Yield spans of API keys, tokens and private keys.

    Provider shapes (OpenAI ``sk-``/``sk-proj-``, Anthropic ``sk-ant-``, AWS ``AKIA``, GitHub
    ``ghp_``/``github_pat_``, GitLab ``glpat-``, npm ``npm_``, Slack ``xox*`` and webhooks, Stripe
    ``sk_live_``, Google ``AIza``, Hugging Face ``hf_``, JWTs, PEM private-key blocks), plus values
    introduced by a keyword (key, token, secret, password, credentials, bearer) that pass
    `secret_value_ok`.
    """
    if len(text) < 8:
        return
    if _has_prefix(text):
        for m in _KEY_SHAPES_RE.finditer(text):
            if _shape_ok(m):
                yield m.span()
        if "-----BEGIN" in text:
            for m in _PEM_RE.finditer(text):
                yield m.span()
    for word, _, end in _keyword_hits(text):
        tail = (_BEARER_TAIL_RE if word == "bearer" else _KW_TAIL_RE).match(text, end)
        if tail is None:
            continue
        value = tail.group("value").rstrip(".")
        loose = word != "bearer" and tail.group("verb") is not None
        if secret_value_ok(word, value, loose=loose):
            yield tail.start("value"), tail.start("value") + len(value)


_SECRET_PREFIX_RE = re.compile(
    r"sk-(?:proj-|svcacct-|admin-|ant-)?|[sr]k_(?:live|test)_|AKIA|ASIA|gh[pousr]_|github_pat_|"
    r"xox[abposr]-|AIza|hf_|glpat-|npm_|eyJ|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"https://hooks\.slack\.com/|gl(?:rt|dt|soat|ptt|ft|imt|cbt)-|xapp-|r8_|gsk_|"
    r"shp(?:at|ss|ca|pa)_|dop_v1_|dapi|pypi-|SG\.|SK|sq0(?:atp|csp)-"
)


def _secret_preview(value: str) -> str:
    m = _SECRET_PREFIX_RE.match(value)
    return (m.group() if m else "") + "****"


def _secret_fake(value: str, digest: bytes) -> str:
    m = _SECRET_PREFIX_RE.match(value)
    prefix = m.group() if m and not m.group().startswith(("-----", "https")) else ""
    return f"{prefix}fake_{_hex(digest, 16)}"


# --------------------------------------------------------------------------- URL credentials

_URL_CRED_RE = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,30}://"
    r"(?P<user>[^\s/?#@:\"'<>]{0,128}):(?P<pw>[^\s/?@\"'<>]{1,256})@"
)
# Placeholders and documented defaults (RabbitMQ's guest:guest) are not credentials.
_PLACEHOLDER_PASSWORDS = {"password", "pass", "passwd", "pwd", "secret", "pw", "changeme", "x"}
_PLACEHOLDER_PASSWORDS |= {"guest", "test"}


def find_url_credentials(text: str) -> Iterator[Span]:
    """Yield the ``user:password`` part of URLs such as ``postgres://user:pass@host/db``.

    Placeholders (``user:password@``, ``<password>``, ``${DB_PASSWORD}``, ``****``) and a
    password equal to the user name (``guest:guest``) are not flagged.
    """
    if "://" not in text or "@" not in text:
        return
    for m in _URL_CRED_RE.finditer(text):
        pw = m.group("pw")
        if (
            pw.lower() in _PLACEHOLDER_PASSWORDS
            or pw == m.group("user")
            or _is_placeholder(pw)
            or pw[0] in "[{$%"
        ):
            continue
        yield m.start("user"), m.end("pw")


def _url_credentials_fake(value: str, digest: bytes) -> str:
    return f"user_{_hex(digest, 6)}:pw_{digest.hex()[6:22]}"


# --------------------------------------------------------------------------- built-in table


def _compact_upper(value: str) -> str:
    return value.replace(" ", "").replace("-", "").upper()


def _builtin(
    code: str,
    find: DetectorFunc,
    description: str,
    label: str,
    family: int,
    preview: PreviewFunc,
    fake: FakeFunc,
    normalize: Callable[[str], str] | None = None,
) -> None:
    det = Detector(
        code=code,
        description=description,
        find=find,
        label=label,
        builtin=True,
        preview=preview,
        fake=fake,
        normalize=normalize,
        priority=len(_REGISTRY) * 10 + 10,
        family=family,
    )
    _add(det, replace=True)


_builtin(
    "pii_secret",
    find_secrets,
    "API keys, tokens, passwords and private keys",
    "SECRET",
    FAMILY_SECRET,
    _secret_preview,
    _secret_fake,
)
_builtin(
    "pii_url_credentials",
    find_url_credentials,
    "user:password in URLs",
    "CREDENTIALS",
    FAMILY_EMAIL,
    lambda v: f"{v[:1]}***:****",
    _url_credentials_fake,
)
_builtin(
    "pii_email",
    find_emails,
    "e-mail addresses",
    "EMAIL",
    FAMILY_EMAIL,
    _email_preview,
    _email_fake,
    str.lower,
)
_builtin(
    "pii_iban",
    find_ibans,
    "IBANs (checked by python-stdnum: mod-97, length and layout of the country)",
    "IBAN",
    FAMILY_NUMBER,
    _iban_preview,
    _iban_fake,
    _compact_upper,
)
_builtin(
    "pii_card",
    find_cards,
    "payment card numbers (brand prefix, grouping and Luhn checked)",
    "CARD",
    FAMILY_NUMBER,
    _card_preview,
    _card_fake,
    _digits,
)
_builtin(
    "pii_ssn",
    find_ssns,
    "US Social Security numbers (SSA rules, python-stdnum)",
    "SSN",
    FAMILY_NUMBER,
    lambda v: _keep_last(v, 2),
    _ssn_fake,
    _digits,
)
_builtin(
    "pii_national_id",
    find_national_ids,
    "national ids: ES DNI/NIE/CIF, FR NIR, DE IdNr, IT codice fiscale, MX CURP, BR CPF, "
    "US ITIN, UK NINO",
    "NATIONAL_ID",
    FAMILY_NUMBER | FAMILY_ID,
    lambda v: "*" * (len(v) - 1) + v[-1:],
    _national_id_fake,
    _compact_upper,
)
_builtin(
    "pii_phone",
    find_phones,
    "phone numbers (any region, validated by phonenumbers)",
    "PHONE",
    FAMILY_NUMBER,
    lambda v: _keep_last(v, 2),
    _phone_fake,
    _digits,
)
_builtin(
    "pii_ip",
    find_ips,
    "IPv4 / IPv6 addresses (public and private)",
    "IP",
    FAMILY_NUMBER | FAMILY_IPV6,
    _ip_preview,
    _ip_fake,
    _ip_normalize,
)


def keyed_digest(secret: bytes, code: str, normalized: str) -> bytes:
    """Return HMAC-SHA256(secret, code + NUL + normalized value)."""
    return hmac.new(secret, f"{code}\0{normalized}".encode(), hashlib.sha256).digest()

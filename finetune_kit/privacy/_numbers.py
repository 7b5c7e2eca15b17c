"""Numeric personal data, found by fast patterns and confirmed by kept libraries.

Candidates come from compiled regular expressions that only run in small windows around digit
runs (see `windows`), so that text without long numbers costs one scan. Each candidate is then
confirmed by a library that knows the rules: ``phonenumbers`` (libphonenumber's metadata for
every region) for phone numbers, ``python-stdnum`` for IBANs, the Luhn checksum and national ids
(ES DNI/NIE/CIF, FR NIR, DE IdNr, IT codice fiscale, MX CURP, BR CPF, US SSN/ITIN). What no
library does stays here: the UK National Insurance number format, card brand prefixes and
groupings, and the context rules that keep look-alikes (versions, dates, counts, order ids,
product codes) out. Both libraries are imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

Span = tuple[int, int]

# --------------------------------------------------------------------------- digit windows

_RUN_S = re.compile(r"[0-9][0-9 \-.()/]{5,}[0-9]")
BARE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{4}")
Window = tuple[int, int, int, int]  # start, end, most digits in one run, most dots in one run
_LAST_WINDOWS: list[tuple[str, tuple[Window, ...]]] = [("", ())]


def windows(text: str) -> tuple[Window, ...]:
    """Return merged windows around the digit runs of ``text`` (cached for the last text).

    A window reaches 32 characters before a run (room for a keyword such as "phone:" or an IBAN's
    country code) and 40 after (the rest of an IBAN, a DNI letter, the look-ahead of a pattern).
    Skipped, because no built-in pattern can match there: bare dates, runs with fewer than 7
    digits and 3 dots, and plain digit runs followed by a lower-case letter or preceded by ``_``
    (every numeric pattern refuses a word character after its last digit and before its first,
    and none contains a lower-case letter or ``_``).
    """
    last_text, last = _LAST_WINDOWS[0]
    if last_text is text:
        return last
    n = len(text)
    out: list[Window] = []
    for m in _RUN_S.finditer(text):
        run = m.group()
        dots = run.count(".")
        digits = len(run) - run.count(" ") - run.count("-") - dots - run.count("/")
        digits -= run.count("(") + run.count(")")
        if (digits < 7 and dots < 3) or BARE_DATE.fullmatch(run):
            continue
        start, end = m.span()
        if run.isdigit() and (
            (end < n and "a" <= text[end] <= "z") or (start > 0 and text[start - 1] == "_")
        ):
            continue  # digits glued to an id or a hash ("call_123456789", "3f5e1234567abc")
        start, end = max(0, start - 32), min(n, end + 40)
        if out and start <= out[-1][1]:
            prev = out[-1]
            out[-1] = (prev[0], end, max(prev[2], digits), max(prev[3], dots))
        else:
            out.append((start, end, digits, dots))
    result = tuple(out)
    _LAST_WINDOWS[0] = (text, result)
    return result


def in_windows(
    rx: re.Pattern[str], text: str, digits: int = 0, dots: int = 0
) -> Iterator[re.Match[str]]:
    """Run ``rx`` in the windows of ``text`` whose runs have enough digits (or dots)."""
    for start, end, most_digits, most_dots in windows(text):
        if most_digits >= digits and most_dots >= dots:
            yield from rx.finditer(text, start, end)


def digits_of(value: str) -> str:
    """Return the ASCII digits of ``value``."""
    return "".join(ch for ch in value if "0" <= ch <= "9")


def _word_before(rx: re.Pattern[str], text: str, start: int, reach: int = 40) -> bool:
    return rx.search(text, max(0, start - reach), start) is not None


# --------------------------------------------------------------------------- phone numbers

_PHONE_RE = re.compile(
    r"""
    (?<![\w+.\-/=$€£¥#:@%&*^])(?<![0-9][ .\-])
    (?:\+|\(\+|00(?=[1-9]))?\(?[0-9][0-9 .\-()/\u00a0]{5,24}[0-9]
    (?![\w\-]|[.,:][0-9]|\s?%)
    """,
    re.VERBOSE,
)
# Words that announce a phone number, in the languages of the corpus (en, es, fr, de, it, pt).
_PHONE_WORD = re.compile(
    r"""(?ix)(?<![a-z])
    (?:phone|telephone|tel|tlf|tfno|mobile|mob|cell(?:phone)?|fax|whats\ ?app|sms|signal|
       (?:call|text|ring|reach)(?:\ (?:me|us|him|her))?|contact|
       tel[eé]fono|m[oó]vil|celular|ll[aá]ma(?:me|nos|r)?|fijo|contacto|
       t[eé]l[eé]phone|t[eé]l|portable|appel(?:ez|er|le)(?:-moi)?|
       telefon(?:nummer)?|handy|mobil(?:nummer)?|anrufen|rufen|
       cellulare|chiama(?:mi|re)?|telefone|ligue|ligar|contato)
    (?![a-z])[^\n0-9]{0,30}\Z
    """
)
# Words after which a number is an id, not a phone (unless a phone word comes first).
_ID_WORD = re.compile(
    r"""(?ix)(?<![a-z])
    (?:order|pedido|commande|bestellung|ordine|invoice|factura|facture|rechnung|fattura|
       ref|reference|referencia|réf|sku|id|lote?|lot|serial|s/n|part|pieza|ticket|case|
       expediente|tracking|item|art|cat|model|modelo|c[oó]digo|code|isbn|issn|ean|upc|gtin|
       account|cuenta|booking|reserva|po|job|run|build|sample|album|doc)
    (?![a-z])\.?\s*(?:no\.?|n[º°o]\.?|n\.º|\#|number|n[uú]mero|num\.?|id)?\s*[:#=]?\s*\Z
    """
)
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:([.,])[0-9]{3})(?:\1[0-9]{3})*")
_DATE_LIKE = re.compile(
    r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}"
)
_GROUP = re.compile(r"[0-9]+")
_IPV4_LIKE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
FALLBACK_REGIONS = ("US", "GB", "ES", "FR", "DE", "IT", "MX", "BR", "AR", "CO", "NL", "PT", "AU")
"""Regions tried, in order, for a number written without ``+`` when no region is given."""


def _pn() -> Any:
    import phonenumbers

    return phonenumbers


def _groups(value: str) -> list[int]:
    return [len(g) for g in _GROUP.findall(value)]


@lru_cache(maxsize=4096)
def _phone_international(value: str) -> int:
    """Length of the leading part of ``value`` that is a valid international number, or 0."""
    pn = _pn()
    parts = list(_GROUP.finditer(value))
    # The whole value first, then without its trailing groups ("+34 612 34 56 78 12 345" holds
    # a number followed by something else).
    for keep in range(len(parts), 0, -1):
        end = parts[keep - 1].end()
        head = value[:end]
        digits = digits_of(head)
        if value.startswith("00"):
            digits = digits[2:]
        if not 8 <= len(digits) <= 15:
            continue
        try:
            num = pn.parse("+" + digits, None)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(num):
            return end
    return 0


def _grouping_is_the_librarys(value: str, num: Any, national_prefix: str | None) -> bool:
    pn = _pn()
    groups = _groups(value)
    lib = _groups(pn.format_number(num, pn.PhoneNumberFormat.NATIONAL))
    if groups == lib:
        return True
    # "1-800-555-0199": the trunk prefix written as its own group.
    return national_prefix is not None and value.startswith(national_prefix) and groups[1:] == lib


@lru_cache(maxsize=4096)
def _phone_national(value: str, region: str | None, announced: bool) -> bool:
    """Whether ``value`` (no ``+``) is a valid national number.

    With a ``region`` the number must be valid there and written in groups of 2 to 4 digits (the
    first may have 1 to 5) or announced by a phone word. Without one, the regions of
    `FALLBACK_REGIONS` are tried and the number must also be grouped the way libphonenumber
    formats it there (``020 7946 0958``, ``06 12 34 56 78``, ``(415) 555-0132``), unless a
    phone word announces it.
    """
    pn = _pn()
    groups = _groups(value)
    if len(groups) == 1 and not announced:
        return False  # an ungrouped run of digits is an id or a count unless announced
    hand_grouped = len(groups) >= 2 and 1 <= groups[0] <= 5 and all(2 <= g <= 4 for g in groups)
    for r in (region,) if region else FALLBACK_REGIONS:
        try:
            num = pn.parse(value, r)
        except pn.NumberParseException:
            continue
        if num.country_code != pn.country_code_for_region(r) or not pn.is_valid_number(num):
            continue
        if announced or (region and hand_grouped):
            return True
        meta = pn.PhoneMetadata.metadata_for_region(r)
        if _grouping_is_the_librarys(value, num, meta.national_prefix if meta else None):
            return True
    return False


def find_phones(text: str, region: str | None = None) -> Iterator[Span]:
    """Yield spans of phone numbers, confirmed by ``phonenumbers``.

    International numbers (``+34 612 34 56 78``, ``0044 20 7946 0958``) must be valid for their
    country code. Numbers without a country code are read in ``region`` (an ISO 3166 code such
    as ``"ES"``) or, without one, in `FALLBACK_REGIONS`; see `_phone_national` for the grouping
    they need. Dates, thousands-separated counts and numbers inside words, amounts, paths or
    versions are never candidates.

    Args:
        text: The string to scan.
        region: The default region for numbers written without ``+``.
    """
    for m in in_windows(_PHONE_RE, text, digits=7):
        value = m.group().rstrip(" .-/(\u00a0")
        if value.count("(") != value.count(")") and (
            value.endswith(")") or value.startswith(("(", "+("))
        ):
            continue
        start = m.start()
        if value[0] == "+" or value.startswith(("(+", "00")):
            end = _phone_international(value)
            if end:
                yield start, start + end
            continue
        n = len(digits_of(value))
        if not 7 <= n <= 15:
            continue
        announced = _word_before(_PHONE_WORD, text, start)
        if not announced and (
            _DATE_LIKE.fullmatch(value)
            or _THOUSANDS.fullmatch(value)
            or _IPV4_LIKE.fullmatch(value)
            or _word_before(_ID_WORD, text, start, reach=24)
        ):
            continue
        if _phone_national(value, region, announced):
            yield start, start + len(value)


# --------------------------------------------------------------------------- IBAN

_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[ \-]?[0-9]{2}(?:[ \-]?[A-Za-z0-9]){10,30}(?![A-Za-z0-9])"
)
_IBAN_GROUP = re.compile(r"[ \-]")


@lru_cache(maxsize=4096)
def iban_ok(value: str) -> bool:
    """Return True when ``value`` is an IBAN (spaces or dashes allowed).

    Checked by ``python-stdnum``: the ISO 13616 mod-97 checksum, the length and the BBAN layout of
    its country, and the country's own check digits where it has them (Spain's CCC, ...). A bank
    code that python-stdnum's bank list does not know is not a reason to miss an IBAN.
    """
    from stdnum import iban
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
    from stdnum.iso7064 import mod_97_10

    compact = _IBAN_GROUP.sub("", value).upper()
    if len(compact) < 15 or not compact.isalnum():
        return False
    try:
        if not mod_97_10.is_valid(compact[4:] + compact[:4]):
            return False
    except ValueError:
        return False
    try:
        iban.validate(compact)
    except InvalidChecksum:
        return False  # the country's own check digits (Spain's CCC, Belgium's, ...) are wrong
    except InvalidComponent:
        # The layout may be right and only the bank code missing from python-stdnum's list of
        # banks: accept what ISO 13616 and the country's layout accept.
        return bool(iban.is_valid(compact, check_country=False))
    except ValidationError:
        return False
    return True


def find_ibans(text: str) -> Iterator[Span]:
    """Yield spans of IBANs, compact or grouped, confirmed by `iban_ok`.

    A match that runs on into following capitals or digits ("... 00 EUR 12") is cut back one
    group at a time until it is a valid IBAN.
    """
    for m in in_windows(_IBAN_RE, text, digits=7):
        value = m.group()
        cuts = [len(value), *[g.start() for g in _IBAN_GROUP.finditer(value)][::-1]]
        for cut in cuts:
            if cut >= 15 and iban_ok(value[:cut]):
                yield m.start(), m.start() + cut
                break


# --------------------------------------------------------------------------- payment cards

_CARD_RE = re.compile(r"(?<![\w\-.,/+])[0-9](?:[ \-]?[0-9]){11,18}(?![\w\-]|[.,][0-9])")


def luhn_ok(digits: str) -> bool:
    """Return True when a string of ASCII digits passes the Luhn checksum (``stdnum.luhn``)."""
    from stdnum import luhn

    return bool(luhn.is_valid(digits))


def card_brand_ok(d: str) -> bool:
    """Return True when the digits ``d`` start with a card brand's prefix and have its length.

    Visa, Mastercard (51-55 and 2221-2720), Amex, Discover, Diners, JCB, UnionPay, Maestro and
    Mir; no library keeps this table.
    """
    n = len(d)
    first, two, four = d[0], int(d[:2]), int(d[:4])
    if first == "4":
        return n in (13, 16, 19)
    if first == "5":
        if 51 <= two <= 55:
            return n == 16
        return two == 50 or 56 <= two <= 58  # Maestro
    if first == "3":
        if two in (34, 37):
            return n == 15
        if 300 <= int(d[:3]) <= 305 or two in (36, 38, 39):
            return n >= 14
        return 3528 <= four <= 3589 and n >= 16
    if first == "2":
        return (2200 <= four <= 2204 or 2221 <= four <= 2720) and n == 16
    return first == "6" and n >= 16


def card_groups_ok(value: str) -> bool:
    """Return True when ``value`` is written compact or in a card grouping.

    Groups of four with a shorter last group (``4242 4242 4242 4242``, ``4222 2222 2222 2``,
    19 digits as 4-4-4-4-3), Amex 4-6-5 and Diners 4-6-4; one kind of separator.
    """
    seps = {ch for ch in value if not "0" <= ch <= "9"}
    if not seps:
        return True
    if len(seps) > 1:
        return False
    groups = [len(g) for g in value.split(seps.pop())]
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4


def find_cards(text: str) -> Iterator[Span]:
    """Yield spans of payment card numbers.

    A match has 13-19 digits, a card grouping, a known brand prefix and a valid Luhn checksum.
    """
    for m in in_windows(_CARD_RE, text, digits=13):
        value = m.group()
        d = digits_of(value)
        if (
            len(d) >= 13
            and card_groups_ok(value)
            and card_brand_ok(d)
            and len(set(d)) > 1
            and luhn_ok(d)
        ):
            yield m.span()


# --------------------------------------------------------------------------- US SSN

_SSN_RE = re.compile(r"(?<![\w\-.])([0-9]{3})-([0-9]{2})-([0-9]{4})(?![\w\-]|\.[0-9])")
_SSN_KW_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:ssn|social security(?: number| no\.?| \#)?)\s*[:#=]?\s*(?:is\s+)?"
    r"([0-9]{3})[ \-]?([0-9]{2})[ \-]?([0-9]{4})(?![\w\-]|\.[0-9])"
)


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """Return True when the parts are a US SSN that can be issued (``stdnum.us.ssn``).

    The area is not 000, 666 or 9xx, the group is not 00, the serial is not 0000, and the number
    is not one of the numbers known to be misused in advertising (078-05-1120, ...).
    """
    from stdnum.us import ssn

    return bool(ssn.is_valid(area + group + serial))


def find_ssns(text: str) -> Iterator[Span]:
    """Yield spans of US Social Security numbers.

    ``123-45-6789`` is found anywhere; undelimited or space-separated forms only right after
    "SSN" or "social security number".
    """
    for m in in_windows(_SSN_RE, text, digits=9):
        if ssn_ok(*m.groups()):
            yield m.span()
    for start, end, most_digits, _ in windows(text):
        low = text[start:end].lower()
        if (most_digits >= 9 and "ssn" in low) or "social security" in low:
            for m in _SSN_KW_RE.finditer(text, start, end):
                if ssn_ok(*m.groups()):
                    yield m.start(1), m.end(3)


# --------------------------------------------------------------------------- national ids

_B = r"(?<![\w\-])"  # no word character or dash before
_E = r"(?![\w\-])"  # nor after
_NUMERIC_IDS = re.compile(
    rf"""
    {_B}(?P<dni>(?:[XYZ]-?[0-9]{{7}}|[0-9]{{8}})-?[A-Z]){_E}
  | {_B}(?P<cif>[ABCDEFGHJNPQRSUVW]-?[0-9]{{7}}-?[0-9A-J]){_E}
  | {_B}(?P<nir>[12][ ]?[0-9]{{2}}[ ]?[0-9]{{2}}[ ]?(?:[0-9]{{2}}|2[AB])[ ]?[0-9]{{3}}
              [ ]?[0-9]{{3}}[ ]?[0-9]{{2}}){_E}
  | {_B}(?P<cpf>[0-9]{{3}}\.[0-9]{{3}}\.[0-9]{{3}}-[0-9]{{2}}){_E}
  | {_B}(?P<itin>9[0-9]{{2}}-[0-9]{{2}}-[0-9]{{4}}){_E}
  | {_B}(?P<eleven>[1-9][0-9](?P<g>[ ]?)[0-9]{{3}}(?P=g)[0-9]{{3}}(?P=g)[0-9]{{3}}){_E}
  | {_B}(?P<nine>[0-9]{{3}}[ \-]?[0-9]{{2}}[ \-]?[0-9]{{4}}){_E}
    """,
    re.VERBOSE,
)
_ALNUM_IDS = re.compile(
    r"""
    (?<![A-Za-z0-9])
    (?:
      (?P<curp>[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9])
    | (?P<cf>[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z])
    | (?P<nino>(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]
               (?P<s>[ ]?)[0-9]{2}(?P=s)[0-9]{2}(?P=s)[0-9]{2}(?P=s)[A-D])
    )
    (?![A-Za-z0-9])
    """,
    re.VERBOSE,
)
ALNUM_GATE = re.compile(r"[0-9]{2}(?:(?<=[A-Z][0-9]{2})|(?<=[A-Z] [0-9]{2}))")
"""Pre-check of `find_national_ids`' letter-and-digit ids: a capital right before two digits."""
_IDNR_WORD = re.compile(
    r"(?i)(?:steuer|idnr|identifikationsnummer|tax[ \-]?id|\btin\b)[^\n0-9]{0,30}\Z"
)
_CPF_WORD = re.compile(r"(?i)\bcpf\b[^\n0-9]{0,30}\Z")
_ITIN_WORD = re.compile(r"(?i)\bitin\b[^\n0-9]{0,30}\Z")


_CHECKERS: dict[str, Any] = {}


def _stdnum(module: str, value: str) -> bool:
    """``stdnum.<module>.is_valid(value)``, the module imported once."""
    checker = _CHECKERS.get(module)
    if checker is None:
        import importlib

        checker = _CHECKERS[module] = importlib.import_module(f"stdnum.{module}")
    return bool(checker.is_valid(value))


def _numeric_id_ok(m: re.Match[str], text: str) -> bool:
    kind = m.lastgroup if m.lastgroup != "g" else "eleven"
    value = m.group()
    if kind == "dni":
        return _stdnum("es.nie" if value[0] in "XYZ" else "es.dni", value)
    if kind == "cif":
        return _stdnum("es.cif", value)
    if kind == "nir":
        return _stdnum("fr.nir", value)
    if kind == "cpf":
        return _stdnum("br.cpf", value)
    if kind == "itin":
        return _stdnum("us.itin", value)
    if kind == "eleven":
        # A German IdNr grouped 2-3-3-3 or announced; a bare Brazilian CPF only after "CPF".
        start = m.start()
        if _word_before(_CPF_WORD, text, start):
            return _stdnum("br.cpf", value)
        grouped = " " in value
        return (grouped or _word_before(_IDNR_WORD, text, start)) and _stdnum("de.idnr", value)
    if kind == "nine":
        return (
            value[0] == "9"
            and _word_before(_ITIN_WORD, text, m.start())
            and (_stdnum("us.itin", value))
        )
    return False


def nino_ok(value: str) -> bool:
    """Return True when ``value`` has the format of a UK National Insurance number.

    Two prefix letters (not D, F, I, Q, U, V; the second not O; not BG, GB, NK, KN, TN, NT, ZZ),
    six digits and a suffix A-D, compact or in pairs. HMRC publishes these rules; no library
    checks them, and the number has no check digit.
    """
    m = _ALNUM_IDS.fullmatch(value)
    return m is not None and m.group("nino") is not None


def find_national_ids(text: str) -> Iterator[Span]:
    """Yield spans of national identity and tax numbers.

    Confirmed by ``python-stdnum``: Spanish DNI, NIE and CIF, French NIR (social security
    number), German IdNr (grouped 2-3-3-3 or after "Steuer-ID"/"IdNr"), Italian codice fiscale,
    Mexican CURP, Brazilian CPF (``123.456.789-09``, or 11 digits after "CPF") and US ITIN
    (``9XX-XX-XXXX``, or undelimited after "ITIN"). UK National Insurance numbers by their format
    (`nino_ok`). US SSNs are `find_ssns`.
    """
    for m in in_windows(_NUMERIC_IDS, text, digits=7):
        if _numeric_id_ok(m, text):
            yield m.span()
    if ALNUM_GATE.search(text):
        for m in _ALNUM_IDS.finditer(text):
            kind = m.lastgroup
            if kind == "curp":
                if _stdnum("mx.curp", m.group()):
                    yield m.span()
            elif kind == "cf":
                if _stdnum("it.codicefiscale", m.group()):
                    yield m.span()
            else:
                yield m.span()

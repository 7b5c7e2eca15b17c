"""The personal-data rule: detectors from finetune_kit.privacy, reported as pii_* codes."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    Problem,
)
from finetune_kit.validation.engine import CATALOG, RuleContext
from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    W,
    _code,
    _rule,
)

_PII_EXAMPLES = {
    "pii_email": ("e-mail address", "Write to jane.doe@example.com for the slides."),
    "pii_phone": ("phone number (any region)", "Call me on +44 20 7946 0958 tomorrow."),
    "pii_card": ("payment card number (Luhn-checked)", "My card is 4111 1111 1111 1111."),
    "pii_iban": ("IBAN (checksum-checked)", "Pay to GB82 WEST 1234 5698 7654 32 please."),
    "pii_ip": ("IP address", "The model server is at 81.2.69.160 now."),
    "pii_ssn": ("US social security number", "His SSN is 123-45-6789."),
    "pii_national_id": (
        (
            "national id or tax number (ES DNI/NIE/CIF, FR NIR, DE IdNr, IT codice fiscale, "
            "MX CURP, BR CPF, US ITIN, UK NINO)"
        ),
        "DNI 12345678Z.",
    ),
    "pii_secret": (
        "API key, token or private key",
        "Use the key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD here.",
    ),
    "pii_url_credentials": (
        "URL with a user name and password",
        "Connect to https://bob:hunter2@db.example.com/x first.",
    ),
}


for _pii_code, (_what, _text) in _PII_EXAMPLES.items():
    _code(
        _pii_code,
        W,
        f"The text contains what looks like a {_what}; it would leave the machine on upload.",
        "redact it first (`finetune-kit redact` or `Dataset.redact`), or validate with "
        "pii='error' to refuse such data",
        bad='{"messages": [{"role": "user", "content": '
        + json.dumps(_text)
        + "}, "
        + _ASSISTANT
        + "]}",
    )


@_rule(
    "pii",
    W,
    "Personal data (e-mail, phone, card, IBAN, IP, national ids, secrets, credentials in URLs) "
    "in the text; reported as the `pii_*` codes.",
    "redact it first (`finetune-kit redact` or `Dataset.redact`)",
    bad='{"messages": [{"role": "user", "content": "Mail jane.doe@example.com"}, '
    + _ASSISTANT
    + "]}",
)
def _personal_data(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    from finetune_kit.privacy.redaction import scan_example

    for found in scan_example(obj):
        yield Problem(
            f"{found.message}" if found.message else f"{found.code} {found.preview}",
            found.field,
            code=found.code,
        )


del CATALOG["pii"]  # the rule never reports its own code, only the pii_* codes above

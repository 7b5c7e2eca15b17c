"""multipart/form-data bodies, parsed with the optional ``python-multipart`` library."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from finetune_kit.errors import ConfigError
from finetune_kit.testing._wire import Request, bad_request

__all__ = ["Form", "FormFile", "parse_form", "require_multipart"]

_INSTALL_HINT = "pip install 'finetune-kit[emulator]'"


def require_multipart() -> ModuleType:
    """Import ``python_multipart`` or explain how to install it.

    Raises:
        ConfigError: When the optional extra is not installed.
    """
    try:
        from python_multipart import multipart
    except ImportError as exc:
        raise ConfigError(
            "the OpenAI emulator needs the 'python-multipart' package to read file uploads",
            hint=_INSTALL_HINT,
        ) from exc
    return multipart


@dataclass
class FormFile:
    """One uploaded file of a form.

    Attributes:
        filename: The name the client gave the file.
        content: Its bytes.
        content_type: The part's ``Content-Type``, if any.
    """

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class Form:
    """A parsed multipart form: plain fields and files, by field name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FormFile] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    data: list[bytes] = field(default_factory=list)
    header_field: list[bytes] = field(default_factory=list)
    header_value: list[bytes] = field(default_factory=list)


def parse_form(request: Request) -> Form:
    """Parse a ``multipart/form-data`` request body.

    Raises:
        ApiError: 400 when the body is not multipart or is malformed.
        ConfigError: When ``python-multipart`` is missing.
    """
    multipart = require_multipart()
    content_type = request.headers.get("content-type", "")
    kind, options = multipart.parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise bad_request("Expected a multipart/form-data body with a boundary.")
    parts: list[_Part] = []

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        parts[-1].header_field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        parts[-1].header_value.append(data[start:end])

    def on_header_end() -> None:
        part = parts[-1]
        name = b"".join(part.header_field).decode("latin-1").lower()
        part.headers[name] = b"".join(part.header_value).decode("utf-8", "replace")
        part.header_field.clear()
        part.header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data.append(data[start:end])

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = multipart.MultipartParser(boundary, callbacks)
        parser.write(request.body)
        parser.finalize()
    except Exception as exc:  # the library raises several error kinds for bad bodies
        raise bad_request(f"Could not parse the multipart body: {exc}") from None
    return _collect(parts, multipart)


def _collect(parts: list[_Part], multipart: ModuleType) -> Form:
    form = Form()
    for part in parts:
        _, disposition = multipart.parse_options_header(part.headers.get("content-disposition"))
        name_raw = disposition.get(b"name")
        if name_raw is None:
            continue
        name = name_raw.decode("utf-8", "replace")
        content = b"".join(part.data)
        filename = disposition.get(b"filename")
        if filename is None:
            form.fields[name] = content.decode("utf-8", "replace")
        else:
            form.files[name] = FormFile(
                filename=filename.decode("utf-8", "replace"),
                content=content,
                content_type=part.headers.get("content-type"),
            )
    return form

"""What travels over the wire: requests, responses, OpenAI-style errors and list pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "ApiError",
    "Request",
    "Response",
    "bad_request",
    "error_body",
    "not_found",
    "page",
    "query_int",
    "require_str",
]

T = TypeVar("T")


class ApiError(Exception):
    """An error the emulator answers with, shaped like the OpenAI API's errors.

    Args:
        status: HTTP status code.
        message: ``error.message``.
        type: ``error.type`` (``invalid_request_error`` unless told otherwise).
        param: ``error.param``: the request parameter at fault, if any.
        code: ``error.code``, if any.
        headers: Extra response headers (for example ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """This error as an HTTP response with an OpenAI-style body."""
        body = error_body(self.message, type=self.type, param=self.param, code=self.code)
        return Response.json(body, status=self.status, headers=self.headers)


def error_body(
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The API's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, message, param=param, code=code)


def not_found(message: str, *, param: str | None = "id") -> ApiError:
    """A 404 ``invalid_request_error``."""
    return ApiError(404, message, param=param)


@dataclass
class Request:
    """One parsed HTTP request as the routes see it.

    Attributes:
        method: Upper-case HTTP method.
        path: The URL path, percent-decoded (``/v1/files``).
        query: Query parameters; a repeated key keeps its last value.
        headers: Request headers, keys lower-cased.
        body: The raw body.
        params: Values captured from the route's path pattern.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object.

        Raises:
            ApiError: 400 when the body is not a JSON object.
        """
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise bad_request(
                "We could not parse the JSON body of your request. (HINT: This likely means you"
                " aren't using your HTTP library correctly. The OpenAI API expects a JSON payload,"
                " but what was sent was not valid JSON.)"
            ) from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data


@dataclass
class Response:
    """An HTTP response the server writes back.

    Attributes:
        status: HTTP status code.
        body: The raw body.
        content_type: The ``Content-Type`` header.
        headers: Extra headers.
    """

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A JSON response."""
        body = json.dumps(data, ensure_ascii=False).encode()
        return cls(status, body, headers=dict(headers or {}))


def query_int(
    request: Request, name: str, *, default: int, minimum: int = 1, maximum: int = 10_000
) -> int:
    """An integer query parameter within ``[minimum, maximum]``.

    Raises:
        ApiError: 400 when it is not an integer or out of range.
    """
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid '{name}': expected an integer, got {raw!r}.", param=name
        ) from None
    if not minimum <= value <= maximum:
        raise bad_request(
            f"Invalid '{name}': {value} is out of range ({minimum}..{maximum}).", param=name
        )
    return value


def require_str(body: Mapping[str, Any], name: str) -> str:
    """A required non-empty string field of a request body.

    Raises:
        ApiError: 400 when it is missing or not a string.
    """
    value = body.get(name)
    if value is None or value == "":
        raise bad_request(f"Missing required parameter: '{name}'.", param=name)
    if not isinstance(value, str):
        raise bad_request(f"Invalid type for '{name}': expected a string.", param=name)
    return value


def page(
    items: Sequence[T],
    *,
    after: str | None,
    limit: int,
    dump: Callable[[T], dict[str, Any]],
    key: Callable[[T], str],
    with_ids: bool = False,
) -> dict[str, Any]:
    """A cursor page: the ``limit`` items that follow the item whose id is ``after``.

    ``items`` must already be in the order the API lists them. An unknown ``after`` gives an
    empty page. ``with_ids`` adds ``first_id`` / ``last_id`` as the Files API does.
    """
    start = 0
    if after:
        ids = [key(item) for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chunk = items[start : start + limit]
    result: dict[str, Any] = {
        "object": "list",
        "data": [dump(item) for item in chunk],
        "has_more": start + limit < len(items),
    }
    if with_ids:
        result["first_id"] = key(chunk[0]) if chunk else None
        result["last_id"] = key(chunk[-1]) if chunk else None
    return result

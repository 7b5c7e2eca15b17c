"""The emulated endpoints: one small function per route, and the dispatcher that finds it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from finetune_kit.errors import FinetuneKitError
from finetune_kit.testing._chat import complete_chat
from finetune_kit.testing._models import unknown_model_error
from finetune_kit.testing._multipart import parse_form
from finetune_kit.testing._state import EmulatorState
from finetune_kit.testing._wire import (
    ApiError,
    Request,
    Response,
    bad_request,
    page,
    query_int,
)

__all__ = ["dispatch"]

log = logging.getLogger("finetune_kit.testing")

Handler = Callable[[EmulatorState, Request], Response]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _id(item: Any) -> str:
    return str(item.id)


def _ok(data: Any) -> Response:
    return Response.json(data)


# -- files -------------------------------------------------------------------------------------


def _create_file(state: EmulatorState, request: Request) -> Response:
    form = parse_form(request)
    upload = form.files.get("file")
    if upload is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    purpose = form.fields.get("purpose")
    if not purpose:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    stored = state.files.create(upload.filename, purpose, upload.content)
    return _ok(stored.to_api(state.clock.now()))


def _list_files(state: EmulatorState, request: Request) -> Response:
    order = request.query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request("Invalid 'order': expected 'asc' or 'desc'.", param="order")
    limit = query_int(request, "limit", default=10_000)
    items = state.files.listed(request.query.get("purpose") or None, order)
    now = state.clock.now()
    return _ok(
        page(
            items,
            after=request.query.get("after"),
            limit=limit,
            dump=lambda f: f.to_api(now),
            key=lambda f: f.id,
            with_ids=True,
        )
    )


def _get_file(state: EmulatorState, request: Request) -> Response:
    return _ok(state.files.get(request.params["id"]).to_api(state.clock.now()))


def _delete_file(state: EmulatorState, request: Request) -> Response:
    return _ok(state.files.delete(request.params["id"]))


def _file_content(state: EmulatorState, request: Request) -> Response:
    stored = state.files.get(request.params["id"])
    return Response(200, stored.content, content_type="application/octet-stream")


# -- uploads -----------------------------------------------------------------------------------


def _create_upload(state: EmulatorState, request: Request) -> Response:
    return _ok(state.files.create_upload(request.json()).to_api(state.clock.now()))


def _add_part(state: EmulatorState, request: Request) -> Response:
    form = parse_form(request)
    data = form.files.get("data")
    if data is None:
        raise bad_request("Missing required parameter: 'data'.", param="data")
    return _ok(state.files.add_part(request.params["id"], data.content))


def _complete_upload(state: EmulatorState, request: Request) -> Response:
    upload = state.files.complete(request.params["id"], request.json())
    return _ok(upload.to_api(state.clock.now()))


def _cancel_upload(state: EmulatorState, request: Request) -> Response:
    return _ok(state.files.cancel_upload(request.params["id"]).to_api(state.clock.now()))


# -- fine-tuning -------------------------------------------------------------------------------


def _create_job(state: EmulatorState, request: Request) -> Response:
    return _ok(state.jobs.create(request.json()).to_api())


def _list_jobs(state: EmulatorState, request: Request) -> Response:
    metadata = {
        key[len("metadata[") : -1]: value
        for key, value in request.query.items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    null_metadata = request.query.get("metadata") == "null"
    if null_metadata and metadata:
        raise bad_request("Do not combine 'metadata=null' with metadata[k]=v.", param="metadata")
    jobs = state.jobs.listed(metadata, null_metadata=null_metadata)
    limit = query_int(request, "limit", default=20)
    after = request.query.get("after")
    return _ok(page(jobs, after=after, limit=limit, dump=lambda j: j.to_api(), key=lambda j: j.id))


def _get_job(state: EmulatorState, request: Request) -> Response:
    return _ok(state.jobs.get(request.params["id"]).to_api())


def _list_events(state: EmulatorState, request: Request) -> Response:
    job = state.jobs.get(request.params["id"])
    limit = query_int(request, "limit", default=20)
    events = job.events[::-1]
    after = request.query.get("after")
    return _ok(page(events, after=after, limit=limit, dump=lambda e: e.to_api(), key=_id))


def _list_checkpoints(state: EmulatorState, request: Request) -> Response:
    job = state.jobs.get(request.params["id"])
    limit = query_int(request, "limit", default=10)
    items = job.checkpoints[::-1]
    return _ok(
        page(
            items,
            after=request.query.get("after"),
            limit=limit,
            dump=lambda c: c.to_api(),
            key=lambda c: c.id,
            with_ids=True,
        )
    )


def _cancel_job(state: EmulatorState, request: Request) -> Response:
    return _ok(state.jobs.cancel(request.params["id"]).to_api())


def _pause_job(state: EmulatorState, request: Request) -> Response:
    return _ok(state.jobs.pause(request.params["id"]).to_api())


def _resume_job(state: EmulatorState, request: Request) -> Response:
    return _ok(state.jobs.resume(request.params["id"]).to_api())


# -- models and chat ---------------------------------------------------------------------------


def _list_models(state: EmulatorState, request: Request) -> Response:
    return _ok({"object": "list", "data": state.list_models()})


def _get_model(state: EmulatorState, request: Request) -> Response:
    wanted = request.params["id"]
    for info in state.model_table():
        if info.id == wanted:
            return _ok(info.to_api())
    raise unknown_model_error(wanted)


def _chat(state: EmulatorState, request: Request) -> Response:
    now = state.clock.now()
    body = request.json()
    return _ok(complete_chat(body, now=now, models=state.models, jobs=state.jobs, ids=state.ids))


def _routes() -> tuple[_Route, ...]:
    segment = r"(?P<id>[^/]+)"
    table: list[tuple[str, str, Handler]] = [
        ("POST", "/v1/files", _create_file),
        ("GET", "/v1/files", _list_files),
        ("GET", f"/v1/files/{segment}", _get_file),
        ("DELETE", f"/v1/files/{segment}", _delete_file),
        ("GET", f"/v1/files/{segment}/content", _file_content),
        ("POST", "/v1/uploads", _create_upload),
        ("POST", f"/v1/uploads/{segment}/parts", _add_part),
        ("POST", f"/v1/uploads/{segment}/complete", _complete_upload),
        ("POST", f"/v1/uploads/{segment}/cancel", _cancel_upload),
        ("POST", "/v1/fine_tuning/jobs", _create_job),
        ("GET", "/v1/fine_tuning/jobs", _list_jobs),
        ("GET", f"/v1/fine_tuning/jobs/{segment}", _get_job),
        ("GET", f"/v1/fine_tuning/jobs/{segment}/events", _list_events),
        ("GET", f"/v1/fine_tuning/jobs/{segment}/checkpoints", _list_checkpoints),
        ("POST", f"/v1/fine_tuning/jobs/{segment}/cancel", _cancel_job),
        ("POST", f"/v1/fine_tuning/jobs/{segment}/pause", _pause_job),
        ("POST", f"/v1/fine_tuning/jobs/{segment}/resume", _resume_job),
        ("GET", "/v1/models", _list_models),
        ("GET", f"/v1/models/{segment}", _get_model),
        ("POST", "/v1/chat/completions", _chat),
    ]
    return tuple(_Route(m, re.compile(p + "/?"), h) for m, p, h in table)


_ROUTES = _routes()


def _authorize(request: Request, api_key: str | None) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization"
            " header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    if api_key is not None and key.strip() != api_key:
        shown = key[:5] + "*" * 4 + key[-4:] if len(key) > 9 else "*" * len(key)
        raise ApiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")


def dispatch(state: EmulatorState, request: Request, *, api_key: str | None = None) -> Response:
    """Answer one request: authorize it, find its route and run it under the state lock.

    Every error becomes an OpenAI-style error response; nothing raises.
    """
    try:
        for route in _ROUTES:
            match = route.pattern.fullmatch(request.path)
            if match is None or route.method != request.method:
                continue
            _authorize(request, api_key)
            request.params = match.groupdict()
            with state.lock:
                return route.handler(state, request)
        raise ApiError(404, f"Invalid URL ({request.method} {request.path})")
    except ApiError as exc:
        return exc.response()
    except FinetuneKitError as exc:  # e.g. the optional multipart parser is missing
        return ApiError(500, str(exc), type="server_error").response()
    except Exception as exc:  # a bug in the emulator: answer like the API's 500s and log it
        log.exception("emulator error on %s %s", request.method, request.path)
        return ApiError(
            500,
            f"The server had an error while processing your request: {exc!r}",
            type="server_error",
        ).response()

"""The HTTP side: a threading ``http.server`` that applies faults, dispatches and records."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._injector import FaultInjector
from finetune_kit.testing._records import Recorder
from finetune_kit.testing._routes import dispatch
from finetune_kit.testing._wire import ApiError, Request, Response
from finetune_kit.testing.faults import Fault

__all__ = ["EmulatorHTTPServer", "Router", "ServerCore"]

Router = Callable[..., Response]
"""Answers one request: ``router(state, request, api_key=...)`` (never raises)."""

log = logging.getLogger("finetune_kit.testing")

_STOCK_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to perform this request."),
    404: ("invalid_request_error", None, "Not found."),
    408: ("server_error", None, "Request timed out."),
    409: ("invalid_request_error", None, "Conflict: the resource was modified concurrently."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


def fault_response(fault: Fault) -> Response:
    """The error response a ``status`` fault answers with."""
    kind, code, message = _STOCK_ERRORS.get(
        fault.status,
        ("server_error" if fault.status >= 500 else "invalid_request_error", None, "Error."),
    )
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
    error = ApiError(
        fault.status,
        fault.message or message,
        type=fault.type or kind,
        code=fault.code or code,
        headers=headers,
    )
    return error.response()


@dataclass
class ServerCore:
    """What the request handlers share.

    Attributes:
        state: The emulator's state.
        injector: The fault plan and its counters.
        recorder: Request and fault logs.
        api_key: The only key accepted, or ``None`` for any non-empty key.
        router: The provider's route set (default: OpenAI's).
        stopping: Set when the server shuts down (cuts injected latency short).
    """

    state: Any
    injector: FaultInjector
    recorder: Recorder
    api_key: str | None = None
    router: Router = dispatch
    stopping: threading.Event = field(default_factory=threading.Event)
    _request_ids: IdMaker = field(default_factory=lambda: IdMaker(seed=1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request_id(self) -> str:
        """A fresh ``x-request-id`` (its own generator: object ids do not depend on reads)."""
        with self._lock:
            return self._request_ids.make("req_", 32)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        core = self.server.core
        started = time.monotonic()
        url = urlsplit(self.path)
        request = Request(
            method=self.command.upper(),
            path=unquote(url.path),
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        decision = core.injector.decide(request.method, request.path)
        if decision.latency:
            core.stopping.wait(decision.latency)
        if core.stopping.is_set():
            self.close_connection = True
            return
        action = decision.action
        kind = action.kind if action is not None else None

        def record(status: int | None) -> None:
            # Logged before the client can see the outcome, so tests never race the log.
            core.recorder.record(
                request.method, request.path, request.query, status, decision.fired
            )

        if kind == "drop_before":
            record(None)
            self.close_connection = True
            return
        if action is not None and kind == "status":
            response = fault_response(action)
        else:
            response = core.router(core.state, request, api_key=core.api_key)
        if kind == "drop_after":
            record(None)
            self.close_connection = True
            return
        record(response.status)
        self._write(response, started)

    def _write(self, response: Response, started: float) -> None:
        request_id = self.server.core.request_id()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-request-id", request_id)
        self.send_header("openai-processing-ms", str(int((time.monotonic() - started) * 1000)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so it can close them all on stop.

    Args:
        address: ``(host, port)``; port 0 lets the OS pick one.
        core: What the handlers share.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], core: ServerCore) -> None:
        self.core = core
        self._open: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._track = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="finetune-kit-emulator-connection",
            daemon=True,
        )
        with self._track:
            self._workers.add(thread)
            self._open.add(request)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._track:
                self._open.discard(request)
                self._workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_all(self, timeout: float = 2.0) -> None:
        """Shut every open connection down and wait for their threads to end."""
        with self._track:
            sockets, threads = list(self._open), list(self._workers)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

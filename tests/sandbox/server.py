"""The sandbox's HTTPS server: one listener for login, Microsoft Graph, SmartTrace and test control.

Routing by path: ``/v1.0/...`` Graph, ``/smarttrace/v1/...`` SmartTrace, ``/_sandbox/...`` test
control, anything else the login surface (``/{tenant}/...``, ``/msi/token``). Graph and SmartTrace
requests pass through the fault knobs first. Every request is written to ``<state>/requests.jsonl``
(secrets masked) and every answer carries ``request-id`` and ``client-request-id`` headers.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import socket
import socketserver
import ssl
import sys
import threading
import traceback
import typing as t
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .faults import FAULTABLE_SURFACES, FaultConfig, Faults
from .http import Request, Response
from .requestlog import RequestLog, scrub, secret_values
from .smarttrace import BASE_PATH as SMARTTRACE_BASE_PATH
from .smarttrace import SmartTraceSurface
from .tls import ensure_certificates, write_private_file

GRAPH_PREFIX = "/v1.0"
GRAPH_BATCH_PATH = GRAPH_PREFIX + "/$batch"
SANDBOX_PREFIX = "/_sandbox"
ENDPOINT_FILE = "endpoint.json"
LOG_FILE = "requests.jsonl"
MAX_BODY_BYTES = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0
LOCAL_HOST_NAMES = ("127.0.0.1", "localhost")
GRAPH_BAD_BODY_MESSAGE = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."


class EntraParts(t.NamedTuple):
    """Factories of the Entra ID side: ``directory(state_dir, faults, seed=...)``, ``login(directory)``, ``graph(directory, faults)``."""

    directory: t.Callable[..., t.Any]
    login: t.Callable[[t.Any], t.Any]
    graph: t.Callable[[t.Any, Faults], t.Any]


def load_entra_parts() -> EntraParts:
    """The real Entra ID classes of the sandbox (imported late so this module loads without them)."""
    from .directory import Directory  # pylint: disable=import-outside-toplevel
    from .graph import GraphSurface  # pylint: disable=import-outside-toplevel
    from .login import LoginSurface  # pylint: disable=import-outside-toplevel

    return EntraParts(Directory, LoginSurface, GraphSurface)


def surface_of(path: str) -> str:
    """Which surface serves a URL path."""
    if path == GRAPH_PREFIX or path.startswith(GRAPH_PREFIX + "/"):
        return "graph"
    if path == SMARTTRACE_BASE_PATH or path.startswith(SMARTTRACE_BASE_PATH + "/"):
        return "smarttrace"
    if path == SANDBOX_PREFIX or path.startswith(SANDBOX_PREFIX + "/"):
        return "sandbox"
    return "login"


def parse_body(raw: bytes, content_type: str | None) -> tuple[t.Any, str | None]:
    """(body, error): a dict for form bodies, parsed JSON otherwise, None when empty."""
    if not raw:
        return None, None
    media_type = (content_type or "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the request body is not UTF-8"
    if media_type == "application/x-www-form-urlencoded":
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True)), None
    try:
        return json.loads(text), None
    except ValueError:
        return None, "the request body is not valid JSON"


def _error_body(surface: str, status: int, message: str, headers: dict | None = None) -> Response:
    """An error answer in the style of the surface (Graph, SmartTrace, OAuth or test control)."""
    if surface == "graph":
        code = "BadRequest" if status == 400 else "generalException"
        body = {"error": {"code": code, "message": message, "innerError": {}}}
    elif surface == "smarttrace":
        code = "validation_failed" if status == 422 else "internal"
        body = {"error": {"code": code, "message": message, "field": None}}
    elif surface == "login":
        body = {"error": "invalid_request" if status < 500 else "server_error", "error_description": message}
    else:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(status, "internal")
        body = {"error": {"code": code, "message": message}}
    return Response(status, body, dict(headers or {}))


def _request_secrets(req: Request) -> set[str]:
    """Secret strings a request carries (body secrets, the Authorization header and its token)."""
    secrets = secret_values(req.body)
    authorization = req.header("authorization") or ""
    secrets.update((authorization, authorization.partition(" ")[2].strip()))
    return secrets


def _with_graph_inner_error(response: Response, req: Request, client_request_id: str) -> Response:
    """Fill ``innerError`` (date, request-id, client-request-id) of a Graph error envelope."""
    body = response.body
    if response.status < 400 or not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return response
    error = dict(body["error"])
    inner = dict(error.get("innerError") or {})
    inner.setdefault("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    inner.setdefault("request-id", req.request_id)
    inner.setdefault("client-request-id", client_request_id)
    error["innerError"] = inner
    return Response(response.status, dict(body, error=error), dict(response.headers))


class Sandbox:
    """Local Entra ID (login + Graph) and SmartTrace over HTTPS, with fault knobs and a request log."""

    def __init__(self, state_dir: pathlib.Path | str, host: str = "127.0.0.1", port: int = 0, faults: FaultConfig | None = None,
                 *, entra: EntraParts | None = None):
        self.state_dir = pathlib.Path(state_dir)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.host = host
        self.port = port
        self.faults = Faults(faults or FaultConfig())
        self._seed = self.faults.config.seed
        self.tls = ensure_certificates(self.state_dir)
        parts = entra or load_entra_parts()
        self.directory = parts.directory(self.state_dir, self.faults, seed=self._seed)
        self.smarttrace = SmartTraceSurface(self.directory, seed=self._seed)
        self.login = parts.login(self.directory)
        self.graph = parts.graph(self.directory, self.faults)
        self.log = RequestLog(self.state_dir / LOG_FILE)
        self.log_path = self.log.path
        self.endpoint_path = self.state_dir / ENDPOINT_FILE
        self._httpd: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not listening yet; call start()")
        host = self.host if self.host in LOCAL_HOST_NAMES else "127.0.0.1"
        return "https://%s:%d" % (host, self._httpd.server_address[1])

    @property
    def endpoint(self) -> dict:
        """What ``endpoint.json`` holds: URLs, CA path, seeded credentials, instances, domains."""
        url = self.url
        fields = {
            "url": url,
            "ca": str(self.tls.ca_cert),
            "authority_url": url,
            "graph_url": url,
            "smarttrace_url": url + SMARTTRACE_BASE_PATH,
        }
        fields.update(self.smarttrace.endpoint_fields())
        for name, value in self.directory.endpoint_fields().items():
            fields.setdefault(name, value)
        fields.update(state_dir=str(self.state_dir), requests_log=str(self.log_path), pid=os.getpid())
        return fields

    def start(self) -> "Sandbox":
        """Listen and serve on a daemon thread; returns self once endpoint.json is written."""
        self._listen()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sandbox-https", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Listen and serve in the calling thread until stop() is called from another thread."""
        self._listen()
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving, close open connections and remove our endpoint.json."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None or httpd.serving.is_set():
            httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._remove_endpoint_file(httpd.url)

    def reset(self) -> None:
        """Reseed the directory and SmartTrace and turn every fault knob off (same seed; the log is kept)."""
        with self._state_lock:
            self.directory.reset()
            self.smarttrace.reset()
            self.faults.reset(FaultConfig(seed=self._seed))
            if self._httpd is not None:
                self._write_endpoint_file()

    def _listen(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the sandbox is already listening on " + self.url)
        self.endpoint_path.unlink(missing_ok=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
        self._httpd = _TlsServer((self.host, self.port), context, self)
        self.port = self._httpd.server_address[1]  # a restart after stop() keeps the port
        self._httpd.url = self.url
        self._write_endpoint_file()

    def _write_endpoint_file(self) -> None:
        write_private_file(self.endpoint_path, (json.dumps(self.endpoint, indent=2) + "\n").encode())

    def _remove_endpoint_file(self, url: str) -> None:
        try:
            if json.loads(self.endpoint_path.read_text()).get("url") == url:
                self.endpoint_path.unlink()
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------------ requests

    def respond(self, req: Request, body_error: str | None = None) -> Response:
        """Answer one parsed request (faults, surface, error envelope, ids) and log it."""
        client_request_id = req.header("client-request-id")
        try:
            response = self._dispatch(req, body_error)
        except Exception:  # pylint: disable=broad-exception-caught
            sys.stderr.write("sandbox: error handling %s %s [%s]\n%s" % (
                req.method, req.path, req.request_id, scrub(traceback.format_exc(), self._known_secrets(req))))
            response = _error_body(req.surface, 500, "The sandbox failed to handle the request (request-id %s)." % req.request_id)
        if req.surface == "graph":
            response = _with_graph_inner_error(response, req, client_request_id or req.request_id)
        ids = {"request-id": req.request_id, "client-request-id": client_request_id or req.request_id}
        response = Response(response.status, response.body, {**response.headers, **ids})
        self.log.record(req.surface, req.method, req.path, req.query, req.body, response.status, client_request_id, req.request_id)
        return response

    def _known_secrets(self, req: Request) -> set[str]:
        """Secrets to scrub from a traceback: the request's, and those parts offer with an optional known_secrets()."""
        found = _request_secrets(req)
        for part in (self.directory, self.smarttrace, self.login, self.graph):
            known_secrets = getattr(part, "known_secrets", None)
            if callable(known_secrets):
                found.update(known_secrets())
        return found

    def _dispatch(self, req: Request, body_error: str | None) -> Response:
        if req.surface == "sandbox":
            return self._admin(req, body_error)
        faultable = req.surface in FAULTABLE_SURFACES and req.path.rstrip("/") != GRAPH_BATCH_PATH
        if faultable:
            injected = self.faults.before(req.surface, req.method)
            if injected is not None:
                return injected
        if body_error and req.surface == "graph":
            return _error_body("graph", 400, GRAPH_BAD_BODY_MESSAGE)
        if body_error and req.surface == "smarttrace":
            return _error_body("smarttrace", 422, body_error)
        handler = {"graph": self.graph.handle, "smarttrace": self.smarttrace.handle, "login": self.login.handle}[req.surface]
        response = handler(req)
        if faultable:
            response = self.faults.after_write(req.surface, req.method, response)
        return response

    def _admin(self, req: Request, body_error: str | None) -> Response:
        route = req.path[len(SANDBOX_PREFIX):]
        methods = {"/health": "GET", "/state": "GET", "/faults": "POST", "/reset": "POST"}
        expected = "POST" if route.startswith("/directory/") or route == "/oidc/token" else methods.get(route)
        if expected is None:
            return _error_body("sandbox", 404, "unknown sandbox route %s" % req.path)
        if req.method != expected:
            return _error_body("sandbox", 405, "use %s for %s" % (expected, req.path), {"Allow": expected})
        if body_error:
            return _error_body("sandbox", 400, body_error)
        if route == "/health":
            return Response(200, {"status": "ok", "url": self.url})
        if route == "/state":
            return Response(200, self.state())
        if route == "/faults":
            if not isinstance(req.body, dict):
                return _error_body("sandbox", 400, "send a JSON object of fault knobs")
            try:
                self.faults.configure(req.body)
            except (TypeError, ValueError) as exc:
                return _error_body("sandbox", 400, str(exc))
            return Response(200, self._faults_state())
        if route == "/reset":
            self.reset()
            return Response(200, {"status": "reset"})
        if route == "/oidc/token":  # a token of a test OIDC issuer (oidc_issuer.py)
            return self.login.oidc.mint(req.base_url, req.body)
        return self.directory.admin(route[len("/directory/"):], req.body)

    def state(self) -> dict:
        """The whole state (never secret values): directory, SmartTrace and fault knobs."""
        return {"directory": self.directory.snapshot(), "smarttrace": self.smarttrace.snapshot(), "faults": self._faults_state()}

    def _faults_state(self) -> dict:
        faults = self.faults
        return {
            "config": dataclasses.asdict(faults.config),
            "injected": dict(faults.injected),
            "requests": faults.requests,
            "writes": faults.writes,
        }


class _TlsServer(ThreadingHTTPServer):
    """Threading HTTP server that does the TLS handshake in the worker thread, not in the accept loop."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, sandbox: Sandbox):
        self.context = context
        self.sandbox = sandbox
        self.url = ""
        self.serving = threading.Event()
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup HTTPServer does for server_name."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.serving.set()
        try:
            super().serve_forever(poll_interval)
        finally:
            self.serving.clear()

    def finish_request(self, request, client_address) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out in separate writes
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA, or plain HTTP
        with self._connections_lock:
            self._connections.add(connection)
        try:
            self.RequestHandlerClass(connection, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self) -> None:
        """Shut down kept-alive connections so that no answer leaves a stopped sandbox."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Reads one HTTP/1.1 request at a time and hands it to the sandbox."""

    protocol_version = "HTTP/1.1"
    server_version = "smarttrace-sso-sandbox"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: _TlsServer

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Quiet: the request log is requests.jsonl."""

    def _serve(self) -> None:
        try:
            req, body_error = self._parse()
        except ValueError as exc:  # unusable framing, target or Host: answer and hang up
            self.close_connection = True
            request_id = str(uuid.uuid4())
            ids = {"request-id": request_id, "client-request-id": self.headers.get("client-request-id") or request_id}
            self._send(_error_body("sandbox", 400, str(exc), ids))
            return
        self._send(self.server.sandbox.respond(req, body_error))

    def _parse(self) -> tuple[Request, str | None]:
        raw = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body, body_error = parse_body(raw, headers.get("content-type"))
        req = Request(
            method=self.command.upper(),
            path=path,
            query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            raw_body=raw,
            base_url=self._base_url(headers.get("host")),
            surface=surface_of(path),
            request_id=str(uuid.uuid4()),
        )
        return req, body_error

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise ValueError("invalid or too large Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("malformed chunked request body") from None
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("request body too large")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _base_url(self, host_header: str | None) -> str:
        """The scheme and authority the caller used, when it names this host; else the sandbox URL."""
        if host_header:
            host = urllib.parse.urlsplit("//" + host_header).hostname
            if host in LOCAL_HOST_NAMES:
                return "https://" + host_header
        return self.server.url

    def _send(self, response: Response) -> None:
        payload, content_type = response.encoded()
        content_type = next((value for name, value in response.headers.items() if name.lower() == "content-type"), content_type)
        no_body = response.status in (204, 304)
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "content-type", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if not no_body:
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(payload)
        self.wfile.flush()

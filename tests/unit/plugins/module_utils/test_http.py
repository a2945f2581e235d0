# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_http.Session against a local HTTPS server (a throwaway CA made with cryptography) and through a local CONNECT proxy."""

import base64
import datetime
import http.client
import http.server
import ipaddress
import json
import select
import socket
import socketserver
import ssl
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.smarttrace.sso.plugins.module_utils._common import http as _http
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Headers, Session, bypasses_proxy, proxy_for, session_for


# ---------------------------------------------------------------------- a local HTTPS server
def make_certificates(directory):
    """(CA PEM path, server cert+key PEM path): a CA and a certificate for 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smarttrace.sso unit test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1)).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, server_path = directory / "ca.pem", directory / "server.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                            + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(ca_path), str(server_path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def _answer(self):
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        server.seen.append({"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": body,
                            "headers": dict(self.headers), "port": self.client_address[1]})
        if url.path == "/slow":
            time.sleep(1.0)
        status = int(parse_qs(url.query).get("status", ["200"])[0])
        payload = json.dumps({"method": self.command, "path": url.path}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Request-Id", "r-1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if url.path == "/close-quietly":  # closes the kept-alive connection without saying so
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, certificate):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.server_address[1]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(certificates):
    httpd = TLSServer(certificates[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def ca(certificates):
    return certificates[0]


# ---------------------------------------------------------------------- requests' interface
def test_get_post_and_response_like_requests(server, ca):
    session = Session(verify=ca, timeout=5)
    response = session.get(server.url + "/v1.0/users", params={"$filter": "displayName eq 'A & B'", "$top": 5})
    assert response.status_code == 200 and response.ok and response.json() == {"method": "GET", "path": "/v1.0/users"}
    assert response.headers["content-type"].startswith("application/json") and response.headers.get("REQUEST-ID") == "r-1"
    assert server.seen[0]["query"] == {"$filter": ["displayName eq 'A & B'"], "$top": ["5"]}
    session.post(server.url + "/token", data={"grant_type": "client_credentials", "scope": "a b"}, headers={"X-Test": "1"})
    assert parse_qs(server.seen[1]["body"].decode()) == {"grant_type": ["client_credentials"], "scope": ["a b"]}
    assert server.seen[1]["headers"]["Content-Type"] == "application/x-www-form-urlencoded" and server.seen[1]["headers"]["X-Test"] == "1"
    session.request("PATCH", server.url + "/x", json={"a": 1})
    assert json.loads(server.seen[2]["body"]) == {"a": 1} and server.seen[2]["headers"]["Content-Type"] == "application/json"
    missing = session.get(server.url + "/missing?status=404")
    assert not missing.ok and missing.text.startswith("{")
    with pytest.raises(_http.HTTPStatusError, match="404 Client Error"):
        missing.raise_for_status()


def test_one_connection_is_reused_per_host(server, ca):
    session = Session(verify=ca)
    for _index in range(3):
        session.get(server.url + "/a")
    assert len(set(seen["port"] for seen in server.seen)) == 1


def test_a_connection_the_server_closed_is_replaced(server, ca):
    session = Session(verify=ca)
    session.get(server.url + "/close-quietly")
    time.sleep(0.1)
    assert session.get(server.url + "/after").status_code == 200
    assert len(set(seen["port"] for seen in server.seen)) == 2


def test_response_hooks_see_every_response(server, ca):
    session = Session(verify=ca)
    seen = []
    session.hooks["response"].append(lambda response: seen.append(response.status_code))
    session.get(server.url + "/a?status=429")
    assert seen == [429]


def test_headers_are_case_insensitive_and_joined():
    headers = Headers([("Retry-After", "5"), ("X-A", "1"), ("x-a", "2")])
    assert headers["retry-after"] == "5" and headers.get("X-a") == "1, 2" and "RETRY-AFTER" in headers
    assert dict(headers.items()) == {"Retry-After": "5", "X-A": "1, 2"}


# ---------------------------------------------------------------------- TLS
def test_untrusted_certificate_is_a_tls_error(server):
    with pytest.raises(_http.TLSError) as caught:
        Session(verify=True, timeout=5).get(server.url + "/a")  # the system's store does not know the test CA
    assert caught.value.kind == "SSLError" and "certificate verify failed" in str(caught.value)
    assert isinstance(caught.value, _http.TLSCertificateError) and isinstance(caught.value, _http.ConnectionFailed)
    assert server.seen == []


def test_a_wrong_host_name_is_a_certificate_error(server, ca):
    with pytest.raises(_http.TLSCertificateError) as caught:
        Session(verify=ca, timeout=5).get(server.url.replace("127.0.0.1", "localhost") + "/a")
    assert "certificate verify failed" in str(caught.value)


def test_an_unreadable_ca_file_is_a_certificate_error(server, tmp_path):
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(_http.TLSCertificateError) as caught:
        Session(verify=str(bad), timeout=5).get(server.url + "/a")
    assert str(bad) in str(caught.value) and server.seen == []


def test_other_ssl_errors_are_plain_tls_errors():
    error = _http.tls_error(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"))
    assert isinstance(error, _http.TLSError) and not isinstance(error, _http.TLSCertificateError)
    verify_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify_error.verify_message = "unable to get local issuer certificate"
    assert isinstance(_http.tls_error(verify_error), _http.TLSCertificateError)
    assert "unable to get local issuer certificate" in str(_http.tls_error(verify_error))


def test_validate_certs_false_connects_and_warns(server, ca):
    warnings = []
    session = session_for(False, ca, 5, warn=warnings.append, service="the SmartTrace API")
    assert session.get(server.url + "/a").status_code == 200
    assert len(warnings) == 1 and "TLS certificates of the SmartTrace API are not verified" in warnings[0]
    assert session_for(True, ca).verify == ca and session_for(True).verify is True


def test_environment_never_overrides_ca_path(server, ca, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nothing.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing.pem"))
    assert Session(verify=ca).get(server.url + "/a").status_code == 200


# ---------------------------------------------------------------------- failures
def test_refused_connection_and_timeouts_are_typed(server, ca):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(_http.ConnectionFailed) as caught:
        Session(verify=ca).get("https://127.0.0.1:%d/a" % port)
    assert caught.value.kind == "ConnectionError" and not isinstance(caught.value, _http.RequestTimeout)
    with pytest.raises(_http.ReadTimeout) as caught:
        Session(verify=ca, timeout=0.3).get(server.url + "/slow")
    assert caught.value.kind == "ReadTimeout" and isinstance(caught.value, _http.RequestTimeout)


def test_connect_timeout_is_typed(monkeypatch, ca):
    def connect(self):
        raise socket.timeout("timed out")
    monkeypatch.setattr(_http.http.client.HTTPSConnection, "connect", connect)
    with pytest.raises(_http.ConnectTimeout) as caught:
        Session(verify=ca, timeout=1).get("https://192.0.2.1/a")
    assert caught.value.kind == "ConnectTimeout" and isinstance(caught.value, _http.ConnectionFailed)


def test_only_http_urls(ca):
    with pytest.raises(_http.ConnectionFailed, match="not an http"):
        Session(verify=ca).get("ftp://example.test/a")


# ---------------------------------------------------------------------- proxies
@pytest.mark.parametrize("no_proxy, host, port, bypass", [
    ("*", "graph.microsoft.com", 443, True),
    ("microsoft.com", "graph.microsoft.com", 443, True),
    (".microsoft.com", "graph.microsoft.com", 443, True),
    ("microsoft.com", "notmicrosoft.com", 443, False),
    ("graph.microsoft.com:8443", "graph.microsoft.com", 443, False),
    ("graph.microsoft.com:443", "graph.microsoft.com", 443, True),
    ("10.0.0.0/8, localhost", "10.1.2.3", 443, True),
    ("10.0.0.0/8", "graph.microsoft.com", 443, False),
    ("127.0.0.1", "127.0.0.1", 8443, True),
    ("", "graph.microsoft.com", 443, False),
])
def test_no_proxy(no_proxy, host, port, bypass):
    assert bypasses_proxy(host, port, no_proxy) is bypass


def test_proxy_from_the_environment():
    environ = {"HTTPS_PROXY": "proxy.example:3128", "NO_PROXY": "127.0.0.1"}
    assert proxy_for("https://graph.microsoft.com/v1.0", environ) == "http://proxy.example:3128"
    assert proxy_for("https://127.0.0.1:8443/v1.0", environ) is None
    assert proxy_for("http://169.254.169.254/metadata", environ) is None  # HTTPS_PROXY is for https URLs
    assert proxy_for("https://graph.microsoft.com", {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}) == "http://lower:1"
    assert proxy_for("https://graph.microsoft.com", {"HTTPS_PROXY": "http://p:1", "no_proxy": "*"}) is None


def _relay(client, upstream):
    """Copy bytes both ways between a tunnel's two sockets until either closes or 5 s pass in silence; close upstream."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _w, _x = select.select(sockets, [], [], 5)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    finally:
        upstream.close()


class ConnectProxy(socketserver.ThreadingTCPServer):
    """A CONNECT-only proxy recording the tunnels asked for (and their Proxy-Authorization)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.tunnels = []
        super().__init__(("127.0.0.1", 0), ConnectHandler)


class ConnectHandler(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n")
        method, target, _version = lines[0].decode().split(" ")
        auth = [line.split(b":", 1)[1].strip().decode() for line in lines[1:] if line.lower().startswith(b"proxy-authorization:")]
        self.server.tunnels.append((method, target, auth[0] if auth else None))
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        _relay(self.request, upstream)


def test_https_goes_through_the_proxy_in_a_tunnel_with_tls_to_the_server(server, ca, monkeypatch):
    proxy = ConnectProxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", "http://user:p%%40ss@127.0.0.1:%d" % proxy.server_address[1])
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        session = Session(verify=ca)
        assert session.get(server.url + "/through").json()["path"] == "/through"
        assert session.get(server.url + "/again").status_code == 200
        assert proxy.tunnels == [("CONNECT", "127.0.0.1:%d" % server.server_address[1], "Basic dXNlcjpwQHNz")]  # one tunnel, reused
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert Session(verify=ca).get(server.url + "/direct").status_code == 200 and len(proxy.tunnels) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_proxy_refusing_the_tunnel_is_a_proxy_error(ca, monkeypatch):
    refuser = socket.socket()
    refuser.bind(("127.0.0.1", 0))
    refuser.listen(1)

    def answer():
        connection, _address = refuser.accept()
        connection.recv(4096)
        connection.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        connection.close()
    threading.Thread(target=answer, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % refuser.getsockname()[1])
    try:
        with pytest.raises(_http.ProxyFailed) as caught:
            Session(verify=ca, timeout=5).get("https://graph.example.test/v1.0")
        assert caught.value.kind == "ProxyError" and "407" in str(caught.value)
    finally:
        refuser.close()


# ---------------------------------------------------------------------- proxies held to requests' standard
class PlainHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen = []

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class AuthProxy(socketserver.ThreadingTCPServer):
    """A proxy speaking CONNECT (tunnels) and absolute-URL HTTP (forwarded), answering 407 without ``credentials``.

    ``seen``: (method, target, Proxy-Authorization or None) of every request it was asked.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, credentials=None):
        self.seen = []
        self.expected = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii") if credentials else None
        super().__init__(("127.0.0.1", 0), AuthProxyHandler)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server_address[1]


class AuthProxyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            request_line = self.rfile.readline()
            if not request_line:
                return
            method, target, _version = request_line.decode().strip().split(" ")
            headers = []
            for line in iter(self.rfile.readline, b"\r\n"):
                name, _sep, value = line.decode().partition(":")
                headers.append((name.strip(), value.strip()))
            auth = next((value for name, value in headers if name.lower() == "proxy-authorization"), None)
            self.server.seen.append((method, target, auth))
            if self.server.expected and auth != self.server.expected:
                self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n")
                continue
            if method == "CONNECT":
                return self._tunnel(target)
            self._forward(method, target, headers)

    def _tunnel(self, target):
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        _relay(self.request, upstream)

    def _forward(self, method, target, headers):
        url = urlsplit(target)
        length = int(next((value for name, value in headers if name.lower() == "content-length"), 0))
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        upstream.request(method, url.path + ("?" + url.query if url.query else ""), body=body,
                         headers=dict((name, value) for name, value in headers if name.lower() not in ("proxy-authorization", "host")))
        answer = upstream.getresponse()
        content = answer.read()
        upstream.close()
        self.wfile.write(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                          % (answer.status, answer.reason, answer.getheader("Content-Type"), len(content))).encode() + content)


@pytest.fixture
def plain_server():
    httpd = PlainHTTPServer()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def auth_proxy():
    proxy = AuthProxy("user:p@ss w")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


PROXY_CREDENTIALS = "Basic " + base64.b64encode(b"user:p@ss w").decode("ascii")


@pytest.mark.parametrize("argument", [{"verify": False}, {"proxies": {"https": "http://p:1"}}, {"stream": True}, {"allow_redirects": True}])
def test_unknown_or_unsupported_arguments_raise_instead_of_being_ignored(argument):
    session = Session()
    with pytest.raises(TypeError):
        session.get("https://graph.example.test/v1.0", **argument)
    with pytest.raises(TypeError):
        session.request("POST", "https://graph.example.test/v1.0", data="x", **argument)
    assert not session._connections  # nothing was sent


def test_proxy_credentials_are_sent_in_the_connect_tunnel(server, ca, auth_proxy):
    environ = {"HTTPS_PROXY": "http://user:p%40ss%20w@" + auth_proxy.address}
    assert Session(verify=ca, environ=environ).get(server.url + "/tunnelled").json()["path"] == "/tunnelled"
    assert auth_proxy.seen == [("CONNECT", "127.0.0.1:%d" % server.server_address[1], PROXY_CREDENTIALS)]
    assert "proxy-authorization" not in [name.lower() for name in server.seen[-1]["headers"]]  # never past the proxy


def test_proxy_credentials_are_sent_with_plain_http_through_the_proxy(plain_server, auth_proxy):
    session = Session(environ={"HTTP_PROXY": "http://user:p%40ss%20w@" + auth_proxy.address})
    assert session.get(plain_server.url + "/metadata/identity?api-version=1").json()["path"] == "/metadata/identity"
    assert session.post(plain_server.url + "/again", data="x").status_code == 200
    assert [entry[1:] for entry in auth_proxy.seen] == [(plain_server.url + "/metadata/identity?api-version=1", PROXY_CREDENTIALS),
                                                        (plain_server.url + "/again", PROXY_CREDENTIALS)]
    assert all("proxy-authorization" not in [name.lower() for name in seen["headers"]] for seen in plain_server.seen)


def test_wrong_proxy_credentials_fail_without_showing_them(server, ca, plain_server, auth_proxy):
    with pytest.raises(_http.ProxyFailed) as caught:
        Session(verify=ca, environ={"HTTPS_PROXY": "http://user:wrong-secret@" + auth_proxy.address}, timeout=5).get(server.url + "/x")
    assert "407" in str(caught.value) and "wrong-secret" not in str(caught.value) and not caught.value.permanent
    # plain HTTP: the proxy's 407 is the response, as requests gives it
    answer = Session(environ={"HTTP_PROXY": "http://user:wrong-secret@" + auth_proxy.address}).get(plain_server.url + "/x")
    assert answer.status_code == 407 and not plain_server.seen


def test_all_proxy_is_used_when_no_scheme_proxy_is_set(server, ca, auth_proxy):
    environ = {"ALL_PROXY": "http://user:p%40ss%20w@" + auth_proxy.address}
    assert Session(verify=ca, environ=environ).get(server.url + "/all").status_code == 200
    assert auth_proxy.seen == [("CONNECT", "127.0.0.1:%d" % server.server_address[1], PROXY_CREDENTIALS)]
    assert proxy_for("https://graph.microsoft.com", {"all_proxy": "http://all:1", "HTTPS_PROXY": "http://https:2"}) == "http://https:2"
    assert proxy_for("https://graph.microsoft.com", {"all_proxy": "all:1"}) == "http://all:1"
    assert proxy_for("https://graph.microsoft.com", {"ALL_PROXY": "http://all:1", "NO_PROXY": ".microsoft.com"}) is None


def test_no_proxy_is_honoured_for_https_and_plain_http(server, ca, plain_server, auth_proxy):
    proxy = "http://user:p%40ss%20w@" + auth_proxy.address
    environ = {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": "localhost,127.0.0.0/8"}
    assert Session(verify=ca, environ=environ).get(server.url + "/direct").status_code == 200
    assert Session(environ=environ).get(plain_server.url + "/direct").status_code == 200
    assert auth_proxy.seen == [] and server.seen and plain_server.seen


@pytest.mark.parametrize("variable, proxy, words", [
    ("HTTPS_PROXY", "https://user:top-secret@127.0.0.1:3129", "reached over TLS (https://) is not supported"),
    ("ALL_PROXY", "socks5://user:top-secret@127.0.0.1:1080", "socks5 proxies are not supported"),
    ("https_proxy", "http://user:top-secret@127.0.0.1:notaport", "no valid host and port"),
])
def test_unusable_proxies_are_refused_at_once_naming_the_variable(variable, proxy, words):
    with pytest.raises(_http.UnsupportedProxy) as caught:
        Session(environ={variable: proxy}).get("https://graph.example.test/v1.0")
    text = str(caught.value)
    assert words in text and variable in text and "top-secret" not in text and "user" not in text
    assert caught.value.permanent and caught.value.kind == "InvalidProxyURL"


def test_a_proxy_that_cannot_be_reached_is_a_connection_error_not_a_refused_tunnel(ca, monkeypatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection to the proxy itself is refused (an OSError with an errno)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@127.0.0.1:%d" % port)
    with pytest.raises(_http.ConnectionFailed) as caught:
        Session(verify=ca, timeout=5).get("https://graph.example.test/v1.0")
    assert not isinstance(caught.value, _http.ProxyFailed)
    assert "cannot connect to graph.example.test through the proxy" in str(caught.value) and "secret" not in str(caught.value)

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small keep-alive HTTPS session on the standard library (``http.client`` + ``ssl``).

It replaces ``requests.Session`` for the login endpoint, Microsoft Graph and the SmartTrace API, so a task
does not pay the import of ``requests`` and ``urllib3`` (50 to 70 ms). What it keeps of ``requests``:

* ``request(method, url, params=, data=, json=, headers=, timeout=, allow_redirects=False)`` and ``get``/``post``/
  ``put``/``patch``/``delete``; any other argument (``verify=``, ``proxies=``, ``stream=``...) raises ``TypeError``
  instead of being ignored (TLS and proxies are set on the session and from the environment); the response has
  ``status_code``, ``headers`` (case-insensitive), ``content``, ``text``, ``json()``, ``ok`` and
  ``raise_for_status()``: what the collection's clients and msal (its ``http_client``) use;
* ``hooks["response"]``: callables given every response (the token provider counts login requests with it);
* TLS verification on by default against ``ca_path`` (``verify`` = a PEM file) or the system's store;
  ``verify=False`` turns it off (the caller warns);
* proxies from ``HTTPS_PROXY``/``https_proxy`` (``HTTP_PROXY``/``http_proxy`` for ``http://`` URLs, the
  managed identity endpoint), else ``ALL_PROXY``/``all_proxy``, skipped for hosts in ``NO_PROXY``/``no_proxy``
  (host suffixes, ``host:port``, IP networks, ``*``); HTTPS goes through the proxy in a ``CONNECT`` tunnel, plain
  HTTP as an absolute URL. Credentials in the proxy URL (``http://user:pass@proxy:3128``, percent-encoded) are sent
  as ``Proxy-Authorization: Basic`` both ways and never appear in a message. Only ``http://`` proxies are spoken:
  an ``https://`` or ``socks`` proxy is refused at once with ``UnsupportedProxy`` (not retried), naming the variable
  to fix. Nothing else is taken from the environment (``REQUESTS_CA_BUNDLE`` never overrides ``verify``,
  ``~/.netrc`` never adds credentials);
* a default timeout (30 s), for connecting and for every read;
* redirects are not followed (no client of the collection wants one: a token must not travel elsewhere).

One connection per (scheme, host, port) is kept open and reused. Failures are typed: ``ConnectionFailed``
(with ``TLSError`` -- and ``TLSCertificateError`` below it, a certificate that does not verify -- ``ProxyFailed`` --
and ``UnsupportedProxy`` below it -- and ``ConnectTimeout`` below it), ``RequestTimeout`` (``ConnectTimeout``,
``ReadTimeout``); ``kind`` carries the name ``requests`` gave the same failure, which the messages show, and
``permanent`` says that repeating the request cannot help (``TLSCertificateError``, ``UnsupportedProxy``).

The failures are in ``_http_errors``, the choice of proxy in ``_http_proxy``; their names are importable from here too.
"""

import http.client
import json as _json
import select
import socket
import ssl
from collections.abc import Mapping, MutableMapping
from urllib.parse import quote, urlencode, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http_errors import (  # noqa: F401  # pylint: disable=unused-import
    CERTIFICATE_REASONS,
    ConnectionFailed,
    ConnectTimeout,
    HTTPStatusError,
    ProxyFailed,
    ReadTimeout,
    RequestTimeout,
    TLSCertificateError,
    TLSError,
    TransportError,
    UnsupportedProxy,
    tls_error,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http_proxy import (  # noqa: F401  # pylint: disable=unused-import
    _without_credentials,
    bypasses_proxy,
    proxy_endpoint,
    proxy_for,
    proxy_setting,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import HTTP_IDEMPOTENT_METHODS

DEFAULT_TIMEOUT = 30
# Characters left as they are when a URL is re-quoted (requests' requote_uri): reserved ones and "%".
_SAFE_URL_CHARS = "!#$%&'()*+,/:;=?@[]~"


# ---------------------------------------------------------------------- response
class Headers(MutableMapping):
    """Headers looked up case-insensitively and kept with their first spelling; a repeated header is joined with ", "."""

    def __init__(self, pairs=()):
        self._items = {}
        for name, value in (pairs.items() if isinstance(pairs, Mapping) else pairs):
            if name in self:
                value = "%s, %s" % (self[name], value)
            self[name] = value

    def __setitem__(self, name, value):
        self._items[name.lower()] = (self._items.get(name.lower(), (name,))[0], value)

    def __getitem__(self, name):
        return self._items[name.lower()][1]

    def __delitem__(self, name):
        del self._items[name.lower()]

    def __iter__(self):
        return (name for name, _value in self._items.values())

    def __len__(self):
        return len(self._items)

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._items

    def copy(self):
        return Headers(self.items())

    def __repr__(self):
        return repr(dict(self.items()))


class Response:
    """A complete HTTP response (the body is read at once)."""

    def __init__(self, status_code, headers, content, url, method="GET", reason=""):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url
        self.method = method
        self.reason = reason

    @property
    def encoding(self):
        for part in (self.headers.get("Content-Type") or "").split(";")[1:]:
            key, _sep, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'")
        return "utf-8"

    @property
    def text(self):
        try:
            return self.content.decode(self.encoding, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self, **kwargs):
        """The parsed JSON body; ``ValueError`` when there is none or it is not JSON."""
        return _json.loads(self.text, **kwargs)

    @property
    def ok(self):
        return self.status_code < 400

    def raise_for_status(self):
        if self.status_code >= 400:
            kind = "Client" if self.status_code < 500 else "Server"
            raise HTTPStatusError("%s %s Error: %s for url: %s" % (self.status_code, kind, self.reason, _without_query(self.url)), response=self)

    def __repr__(self):
        return "<Response [%s]>" % self.status_code


# ---------------------------------------------------------------------- session
class Session:
    """Keep-alive HTTP(S) session; see the module docstring."""

    def __init__(self, verify=True, timeout=DEFAULT_TIMEOUT, environ=None, user_agent=None):
        self.verify = verify
        self.default_timeout = timeout
        self.headers = Headers([("Accept", "*/*")] + ([("User-Agent", user_agent)] if user_agent else []))
        self.hooks = {"response": []}
        self._environ = environ
        self._connections = {}
        self._contexts = {}

    # ---------------------------------------------------------------- requests-like API
    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, data=None, json=None, **kwargs):
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url, data=None, **kwargs):
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url, data=None, **kwargs):
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def close(self):
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def request(self, method, url, params=None, data=None, json=None, headers=None, timeout=None, allow_redirects=False):
        """Send one request and return the whole ``Response``; ``TransportError`` when there is none.

        Any other keyword argument is a ``TypeError`` (as it is for any Python function): ``verify`` and proxies are
        the session's and the environment's, and a redirect is never followed (``allow_redirects=True`` is refused).
        """
        if allow_redirects:
            raise TypeError("Session.request(): allow_redirects=True is not supported: this client never follows a redirect")
        method = method.upper()
        url = _full_url(url, params)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http") or not parts.hostname:
            raise ConnectionFailed("cannot send a request to %s: not an http(s) URL" % _without_query(url))
        all_headers = self.headers.copy()
        body = None
        if json is not None:
            body = _json.dumps(json).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        elif isinstance(data, (dict, list, tuple)):
            body = urlencode(data, doseq=True).encode("utf-8")
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = data.encode("utf-8") if isinstance(data, str) else data
        for name, value in (headers or {}).items():
            if value is None:
                all_headers.pop(name, None)
            else:
                all_headers[name] = value
        timeout = self.default_timeout if timeout is None else timeout
        if isinstance(timeout, tuple):
            timeout = max(value for value in timeout if value is not None)
        response = self._send(method, url, parts, body, all_headers, timeout)
        for hook in self.hooks.get("response", ()):
            hook(response)
        return response

    # ---------------------------------------------------------------- transport
    def _send(self, method, url, parts, body, headers, timeout):
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        variable, proxy = proxy_setting(url, self._environ)
        key = (scheme, parts.hostname.lower(), port, proxy)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if proxy and scheme == "http":
            target = url.split("#")[0]  # a plain HTTP proxy takes the absolute URL, and its credentials with each request
            authorization = proxy_endpoint(proxy, variable)[2]
            if authorization:
                headers = headers.copy()
                headers["Proxy-Authorization"] = authorization
        attempts = 2
        while True:
            attempts -= 1
            connection, reused = self._connection(key, parts, port, (variable, proxy), timeout)
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                raw = connection.getresponse()
                content = raw.read()
            except (socket.timeout, TimeoutError) as exc:
                self._drop(key)
                raise ReadTimeout("no answer from %s within %s s (%s)" % (parts.netloc, timeout, exc or "timed out"))
            except ssl.SSLError as exc:
                self._drop(key)
                raise tls_error(exc)
            except (http.client.HTTPException, OSError) as exc:
                self._drop(key)
                if reused and attempts > 0 and method in HTTP_IDEMPOTENT_METHODS:
                    continue  # the server closed the idle connection: once more on a new one
                raise ConnectionFailed("connection to %s broken (%s: %s)" % (parts.netloc, type(exc).__name__, exc))
            break
        if raw.will_close:
            self._drop(key)
        return Response(raw.status, Headers(raw.getheaders()), content, url, method=method, reason=raw.reason)

    def _connection(self, key, parts, port, proxy_choice, timeout):
        """(connection, whether it was used before): the kept one if the server has not closed it, else a new one.

        ``proxy_choice``: (variable, proxy URL) from ``proxy_setting``; (None, None) to connect directly.
        """
        variable, proxy = proxy_choice
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None and not _closed_by_peer(connection.sock):
            connection.timeout = timeout
            connection.sock.settimeout(timeout)
            return connection, True
        self._drop(key)
        scheme = parts.scheme.lower()
        host = parts.hostname
        authorization = None
        if proxy:
            proxy_host, proxy_port, authorization = proxy_endpoint(proxy, variable)
            address = (proxy_host, proxy_port)
        else:
            address = (host, port)
        if scheme == "https":
            connection = http.client.HTTPSConnection(address[0], address[1], timeout=timeout, context=self._context())
            if proxy:
                connection.set_tunnel(host, port, headers={"Proxy-Authorization": authorization} if authorization else {})
        else:
            connection = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
        try:
            connection.connect()
        except (socket.timeout, TimeoutError) as exc:
            connection.close()
            raise ConnectTimeout("cannot connect to %s within %s s (%s)" % (parts.netloc, timeout, exc or "timed out"))
        except ssl.SSLError as exc:
            connection.close()
            raise tls_error(exc)
        except OSError as exc:
            connection.close()
            # http.client refuses a CONNECT the proxy answered with an error by an OSError without errno (its only other
            # content is text); a socket that cannot reach the proxy at all carries an errno
            if proxy and scheme == "https" and exc.errno is None:
                raise ProxyFailed("the proxy %s refused the tunnel to %s (%s)" % (_without_credentials(proxy), parts.netloc, exc))
            raise ConnectionFailed("cannot connect to %s%s (%s)" % (parts.netloc, " through the proxy" if proxy else "",
                                                                    exc.strerror or exc))
        self._connections[key] = connection
        return connection, False

    def _drop(self, key):
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def _context(self):
        """The TLS context for ``verify`` (built once per value)."""
        verify = self.verify
        context = self._contexts.get(verify)
        if context is None:
            if verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif isinstance(verify, str):
                try:
                    context = ssl.create_default_context(cafile=verify)
                except (OSError, ssl.SSLError) as exc:
                    raise TLSCertificateError("cannot load the certificate authorities of %s (%s)" % (verify, getattr(exc, "strerror", None) or exc))
            else:
                context = ssl.create_default_context()
            self._contexts[verify] = context
        return context


def _closed_by_peer(sock):
    """True when an idle kept-alive socket is readable: the server closed it (or sent something unexpected)."""
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _full_url(url, params):
    """``url`` with ``params`` appended (encoded as requests does) and characters HTTP cannot carry percent-encoded."""
    url = quote(url, safe=_SAFE_URL_CHARS)
    if params:
        items = params.items() if isinstance(params, dict) else params
        query = urlencode([(key, value) for key, value in items if value is not None], doseq=True)
        if query:
            base, _sep, fragment = url.partition("#")
            url = base + ("&" if "?" in base else "?") + query + ("#" + fragment if fragment else "")
    return url


def _without_query(url):
    return (url or "").split("?")[0]


def session_for(validate_certs=True, ca_path=None, timeout=DEFAULT_TIMEOUT, warn=None, service="the service"):
    """A ``Session`` verifying TLS against ``ca_path`` (else the system's store); ``validate_certs=False`` warns, naming ``service``."""
    if not validate_certs:
        if warn:
            warn("validate_certs is false: TLS certificates of %s are not verified, "
                 "so the credentials and token can be intercepted. Give the CA with ca_path instead." % service)
        return Session(verify=False, timeout=timeout)
    return Session(verify=ca_path or True, timeout=timeout)

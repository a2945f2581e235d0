# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed failures of ``_http.Session`` (see ``_http``'s docstring for the hierarchy), and what a TLS failure means.

Split out of ``_http`` (which re-exports every name); subpackage: common.
"""

import ssl


class TransportError(Exception):
    """No HTTP response was had. ``kind``: the name ``requests`` gives this failure (shown in messages)."""

    kind = "ConnectionError"
    #: True when repeating the request cannot help (the caller fails at once, saying what to fix)
    permanent = False


class ConnectionFailed(TransportError):
    """The connection could not be made, or broke before the response was complete."""


class TLSError(ConnectionFailed):
    """The TLS handshake failed, typically because the server's certificate does not verify."""

    kind = "SSLError"


class TLSCertificateError(TLSError):
    """The server's certificate does not verify (unknown CA, wrong host name, expired) or ``verify`` cannot be loaded.

    Repeating the request cannot help: callers fail at once and say how to fix it (``ca_path``, ``validate_certs``).
    """

    permanent = True


# OpenSSL reasons that mean "a certificate is not accepted", whichever side reports it (ssl.SSLError.reason).
CERTIFICATE_REASONS = frozenset((
    "CERTIFICATE_VERIFY_FAILED", "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "TLSV1_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED", "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "TLSV1_ALERT_CERTIFICATE_REQUIRED",
))


def tls_error(exc):
    """The typed error for an ``ssl.SSLError``: ``TLSCertificateError`` for certificate failures, else ``TLSError``."""
    if isinstance(exc, ssl.SSLCertVerificationError) or getattr(exc, "reason", None) in CERTIFICATE_REASONS:
        detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        return TLSCertificateError("certificate verify failed: %s" % detail)
    return TLSError(str(exc))


class ProxyFailed(ConnectionFailed):
    """The proxy refused the tunnel or could not be reached."""

    kind = "ProxyError"


class UnsupportedProxy(ProxyFailed):
    """The proxy URL in the environment is not one this client speaks (``https://``, ``socks5://``, no host)."""

    kind = "InvalidProxyURL"
    permanent = True


class RequestTimeout(TransportError):
    """No answer within the timeout."""

    kind = "Timeout"


class ConnectTimeout(ConnectionFailed, RequestTimeout):
    kind = "ConnectTimeout"


class ReadTimeout(RequestTimeout):
    kind = "ReadTimeout"


class HTTPStatusError(Exception):
    """``raise_for_status()`` on a 4xx/5xx response; ``response`` is the response."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response

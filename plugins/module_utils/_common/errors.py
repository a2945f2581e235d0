# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the collection and their translation into ``fail_json`` arguments.

``GraphError`` carries what Microsoft Graph said (the ``{"error": {...}}`` envelope);
``AuthenticationError`` carries what the identity platform said (AADSTS code) plus what to do about it;
``TLSVerificationError`` a certificate that does not verify (never retried);
``SmartTraceError`` what the SmartTrace API said (status, code, field) plus what to do about it.
No secret may appear in any of them: every text that reaches a message goes through ``mask_secrets``.
"""

import json
import re

MASK = "********"

# Things that look like credentials, wherever they appear in a text.
_SECRET_PATTERNS = (
    # "Authorization: Bearer eyJ..." and friends
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    # bare JSON Web Tokens (access tokens, client assertions)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    # form or JSON fields holding secrets: client_secret=..., "secretText": "...", "password": "..."
    (re.compile(r"(?i)([\"']?(?:client_secret|client_assertion|access_token|refresh_token|secretText|password|passphrase)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\"'&\s,}]+"), r"\1" + MASK),
)

# What to do about the AADSTS codes an automation identity meets most often.
AADSTS_HINTS = {
    "7000215": "the client secret is wrong: use the secret's Value, not its ID (Secret ID), and check it belongs to this client_id",
    "7000222": "the client secret has expired: create a new one for the app registration and update the credentials",
    "7000218": "no credential was sent: give client_secret, client_certificate_path or another auth_method",
    "700016": "the client_id is not registered in this tenant: check client_id, tenant_id and cloud (the app must live in that tenant and cloud)",
    "700024": "the client assertion is outside its valid time range: check the clock of the machine running Ansible",
    "700027": "the certificate is not registered on the app registration, or the key does not match it: upload the certificate's public part",
    "7000112": "the application is disabled in this tenant: enable its service principal",
    "90002": "the tenant does not exist: check tenant_id and cloud / authority_url",
    "900023": "tenant_id is neither a tenant GUID nor a verified domain: check tenant_id",
    "90023": "tenant_id is malformed: give the tenant GUID or a verified domain name",
    "1002012": "the scope is invalid: a client-credentials token needs '<graph root>/.default'",
    "70011": "the scope is invalid: a client-credentials token needs '<graph root>/.default'",
    "500011": "Microsoft Graph is not known in this tenant for the requested scope: the cloud setting probably does not match the tenant",
    "53003": "a Conditional Access policy blocked the sign-in of the automation identity: exclude it or allow its location",
    "50059": "no tenant could be determined: set tenant_id",
}

_AADSTS_RE = re.compile(r"AADSTS(\d+)")
_TRACE_SUFFIX_RE = re.compile(r"\s+Trace ID:.*$")


def aadsts_code(text):
    """The AADSTS code in a text of Entra ID (``AADSTS7000215: ...``) as a string, or None: for where only the text is
    relayed (SmartTrace's test of the stored values; an OAuth error without ``error_codes``). Prefer ``error_codes``."""
    match = _AADSTS_RE.search(text or "")
    return match.group(1) if match else None


def mask_secrets(text):
    """Return ``text`` with anything that looks like a bearer token, JWT or secret field replaced by a mask."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SsoError(Exception):
    """Base of the collection's errors: a masked message and structured fields for ``fail_json``."""

    #: name of the structured field ``to_fail_kwargs`` puts ``to_dict()`` under
    result_key = "error"

    def to_dict(self):
        """Structured, secret-free description for the module result."""
        return {"message": str(self)}


# The Microsoft Graph application permission a request needs (first matching path part), named when Graph answers 403.
_GRAPH_PERMISSIONS = (
    ("approleassignedto", "AppRoleAssignment.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
    ("approleassignments", "AppRoleAssignment.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
    ("oauth2permissiongrants", "DelegatedPermissionGrant.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"),
    ("/applications", "Application.ReadWrite.OwnedBy (or Application.ReadWrite.All)", "Application.Read.All"),
    ("/serviceprincipals", "Application.ReadWrite.OwnedBy (or Application.ReadWrite.All)", "Application.Read.All"),
    ("/users", "User.ReadWrite.All", "User.Read.All"),
    ("/groups", "Group.Read.All", "Group.Read.All"),
)


def graph_permission_needed(method, url):
    """The application permission a Graph request (``method``, ``url``) needs, or None when unknown."""
    path = (url or "").split("?", 1)[0].lower()
    for part, write, read in _GRAPH_PERMISSIONS:
        if part in path:
            return read if (method or "GET").upper() == "GET" else write
    return None


class GraphError(SsoError):
    """An unsuccessful Microsoft Graph response (or a request that never got one: ``status`` is None)."""

    result_key = "graph_error"

    def __init__(self, message, status=None, code=None, request_id=None, client_request_id=None, details=None,
                 method=None, url=None, retry_after=None, attempts=None, waited=None):
        self.message = mask_secrets(message) or "unknown error"
        self.status = status
        self.code = code
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.details = [self._clean_detail(detail) for detail in (details or [])]
        self.method = method
        self.url = mask_secrets(url)
        self.retry_after = retry_after
        self.attempts = attempts
        self.waited = waited
        super().__init__(self.message)

    @staticmethod
    def _clean_detail(detail):
        if not isinstance(detail, dict):
            return {"message": mask_secrets(detail)}
        return dict((key, mask_secrets(value) if isinstance(value, str) else value) for key, value in detail.items())

    @classmethod
    def from_response(cls, status, body, headers=None, method=None, url=None, retry_after=None):
        """Build the error from a Graph response: ``body`` is the parsed JSON, raw text/bytes, or None."""
        headers = dict((str(key).lower(), value) for key, value in (headers or {}).items())
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str):
            try:
                body = json.loads(body) if body.strip() else None
            except ValueError:
                body = {"error": {"message": body.strip()[:500]}}
        envelope = body.get("error") if isinstance(body, dict) else None
        if not isinstance(envelope, dict):
            envelope = {}
        inner = envelope.get("innerError") or envelope.get("innererror") or {}
        if not isinstance(inner, dict):
            inner = {}
        message = envelope.get("message") or "HTTP %s without an error message" % status
        return cls(
            message,
            status=status,
            code=envelope.get("code"),
            request_id=inner.get("request-id") or headers.get("request-id"),
            client_request_id=inner.get("client-request-id") or headers.get("client-request-id"),
            details=envelope.get("details") if isinstance(envelope.get("details"), list) else None,
            method=method,
            url=url,
            retry_after=retry_after,
        )

    @property
    def detail_codes(self):
        """The ``code`` of every entry in ``details`` (e.g. ``ObjectConflict``, ``NoBackingApplicationObject``)."""
        return [detail.get("code") for detail in self.details if detail.get("code")]

    def __str__(self):
        where = " ".join(part for part in (self.method, self.url) if part)
        status = "HTTP %s" % self.status if self.status is not None else "no response"
        text = "Microsoft Graph %s failed (%s%s): %s" % (where or "request", status, ", " + self.code if self.code else "", self.message)
        if self.details:
            text += " Details: " + "; ".join(
                "%s%s%s" % (detail.get("code") or "", " (" + detail["target"] + ")" if detail.get("target") else "",
                            ": " + detail["message"] if detail.get("message") else "")
                for detail in self.details)
        permission = graph_permission_needed(self.method, self.url) if self.status == 403 and self.code == "Authorization_RequestDenied" else None
        if permission:
            text += (" -> Fix: the identity (client_id) lacks the Microsoft Graph application permission %s for this request: "
                     "grant it with admin consent (docs/automation-identity.md)." % permission)
        if self.attempts and self.attempts > 1:
            text += " (after %d attempts, %.0f s of waiting)" % (self.attempts, self.waited or 0)
        ids = ", ".join("%s: %s" % pair for pair in (("request-id", self.request_id), ("client-request-id", self.client_request_id)) if pair[1])
        if ids:
            text += " [%s]" % ids
        return text

    def to_dict(self):
        result = {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "details": self.details,
            "method": self.method,
            "url": self.url,
        }
        if self.attempts:
            result["attempts"] = self.attempts
            result["waited"] = round(self.waited or 0, 1)
        return result


class TLSVerificationError(SsoError):
    """The TLS certificate of a service does not verify: never retried (it would not verify on the next attempt either).

    ``service`` names what was called (``Microsoft Graph``), ``url`` where; ``ca_path`` is the file the certificate was
    checked against (None: the system's store). The message says what to set: ``ca_path`` (or ``REQUESTS_CA_BUNDLE``).
    """

    result_key = "tls_error"

    def __init__(self, service, url=None, reason=None, ca_path=None, method=None):
        self.service = service
        self.url = mask_secrets(url)
        self.reason = mask_secrets(reason)
        self.ca_path = ca_path
        self.method = method
        if ca_path:
            self.hint = ("ca_path (or REQUESTS_CA_BUNDLE) is %s, which does not hold the certificate authority that signed the certificate "
                         "of %s: give the right PEM file; validate_certs=false turns verification off, for tests only" % (ca_path, service))
        else:
            self.hint = ("give the PEM file of the certificate authority that signed the certificate of %s in ca_path (or "
                         "REQUESTS_CA_BUNDLE); validate_certs=false turns verification off, for tests only" % service)
        super().__init__(str(self))

    def __str__(self):
        where = " ".join(part for part in (self.method, self.url) if part)
        return "%s %s failed: the TLS certificate does not verify (%s); not retried -> Fix: %s." % (
            self.service, where or "request", self.reason or "certificate verify failed", self.hint)

    def to_dict(self):
        return {"service": self.service, "method": self.method, "url": self.url, "reason": self.reason, "ca_path": self.ca_path,
                "code": "SSLError", "hint": self.hint}


class AuthenticationError(SsoError):
    """No access token could be obtained: carries the AADSTS code, the description and what to do."""

    result_key = "auth_error"

    def __init__(self, message, aadsts=None, error=None, description=None, hint=None, status=None, method=None,
                 trace_id=None, correlation_id=None):
        self.message = mask_secrets(message)
        self.aadsts = str(aadsts) if aadsts else None
        self.error = error
        self.description = mask_secrets(description)
        self.hint = hint or AADSTS_HINTS.get(self.aadsts or "")
        self.status = status
        self.method = method
        self.trace_id = trace_id
        self.correlation_id = correlation_id
        super().__init__(self.message)

    @classmethod
    def from_token_response(cls, result, status=None, method=None, context=None):
        """Build the error from an OAuth error dict such as msal returns (``error``, ``error_description``, ``error_codes``)."""
        result = result or {}
        description = result.get("error_description") or ""
        codes = result.get("error_codes") or []
        aadsts = str(codes[0]) if codes else aadsts_code(description)
        # The first line of an AADSTS description is the human part; trace and correlation ids follow.
        summary = description.strip().splitlines()[0] if description.strip() else (result.get("error") or "unknown error")
        summary = _TRACE_SUFFIX_RE.sub("", summary)
        message = "%s%s" % (context + ": " if context else "", summary)
        return cls(message, aadsts=aadsts, error=result.get("error"), description=description, status=status, method=method,
                   trace_id=result.get("trace_id"), correlation_id=result.get("correlation_id"))

    def __str__(self):
        text = "Authentication to Microsoft Entra ID failed: %s" % self.message
        if self.hint:
            text += " -> Fix: %s." % self.hint
        if self.correlation_id:
            text += " [correlation-id: %s]" % self.correlation_id
        return text

    def to_dict(self):
        return {
            "aadsts": self.aadsts,
            "error": self.error,
            "description": self.description,
            "hint": self.hint,
            "status": self.status,
            "method": self.method,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
        }


class SmartTraceError(SsoError):
    """An unsuccessful SmartTrace API request (``status`` None: no answer), with what to do about it in ``hint``.

    Generic on purpose: what the SmartTrace codes mean is known only to ``_smarttrace_client``, which builds these.
    """

    result_key = "smarttrace_error"

    def __init__(self, message, status=None, code=None, field=None, hint=None, method=None, path=None, attempts=None, waited=None):
        self.message = mask_secrets(message) or "unknown error"
        self.status = status
        self.code = code
        self.field = field
        self.hint = mask_secrets(hint)
        self.method = method
        self.path = mask_secrets(path)
        self.attempts = attempts
        self.waited = waited
        super().__init__(self.message)

    def __str__(self):
        where = " ".join(part for part in (self.method, self.path) if part)
        status = "HTTP %s" % self.status if self.status is not None else "no response"
        text = "SmartTrace %s failed (%s%s): %s" % (where or "request", status, ", " + self.code if self.code else "", self.message)
        if self.attempts and self.attempts > 1:
            text += " (after %d attempts, %.0f s of waiting)" % (self.attempts, self.waited or 0)
        if self.hint:
            text += " -> Fix: %s." % self.hint
        return text

    def to_dict(self):
        result = {"status": self.status, "code": self.code, "field": self.field, "message": self.message, "hint": self.hint,
                  "method": self.method, "path": self.path}
        if self.attempts:
            result["attempts"] = self.attempts
            result["waited"] = round(self.waited or 0, 1)
        return result


def to_fail_kwargs(error):
    """Arguments for ``module.fail_json``: ``msg`` plus the structured field of the error type (``graph_error``, ``auth_error``...)."""
    if isinstance(error, SsoError):
        return {"msg": mask_secrets(str(error)), error.result_key: error.to_dict()}
    return {"msg": mask_secrets("%s: %s" % (type(error).__name__, error))}

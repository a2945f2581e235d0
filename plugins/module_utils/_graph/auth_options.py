# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared Entra options: their argument spec, ``AuthConfig`` (resolved), which ``auth_method`` ``auto`` means, what
each method needs, and the session for the login endpoint and Graph.

Split out of ``_auth`` (which re-exports every name); subpackage: graph.
"""

import os
import re
import shutil

from ansible.module_utils.basic import env_fallback

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.clouds import CLOUDS, DEFAULT_CLOUD, get_cloud, normalize_root
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import session_for
from ansible_collections.smarttrace.sso.plugins.module_utils._common.time_budget import time_budget_argument_spec

AUTH_METHODS = ("auto", "client_secret", "certificate", "federated", "managed_identity", "access_token", "azure_cli")
MSAL_METHODS = ("client_secret", "certificate", "federated", "managed_identity")
# Environment variables that reveal a managed identity endpoint (App Service, Functions, Arc, Azure ML).
MANAGED_IDENTITY_ENV = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")
# A tenant is a GUID or a domain name: nothing else may go into the authority URL (``<authority root>/<tenant>``).
_TENANT_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")


def entra_argument_spec():
    """The options every Entra module shares (documented in the ``smarttrace.sso.entra`` doc fragment)."""
    spec = dict(
        tenant_id=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT_ID", "AZURE_TENANT"])),
        client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_SECRET", "AZURE_SECRET"])),
        client_certificate_path=dict(type="path", fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PATH"])),
        client_certificate_password=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PASSWORD"])),
        federated_token_file=dict(type="path", fallback=(env_fallback, ["AZURE_FEDERATED_TOKEN_FILE"])),
        access_token=dict(type="str", no_log=True),
        auth_method=dict(type="str", default="auto", choices=list(AUTH_METHODS)),
        cloud=dict(type="str", default=DEFAULT_CLOUD, choices=sorted(CLOUDS)),
        authority_url=dict(type="str", fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
        graph_url=dict(type="str", fallback=(env_fallback, ["ENTRA_GRAPH_URL"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["ENTRA_CA_PATH", "REQUESTS_CA_BUNDLE"])),
        timeout=dict(type="int", default=30),
        token_cache=dict(type="bool", default=True),
    )
    spec.update(time_budget_argument_spec())
    return spec


class AuthConfig:
    """The shared Entra options, resolved: cloud defaults applied, URLs normalized."""

    def __init__(self, params):
        self.tenant_id = params.get("tenant_id")
        self.client_id = params.get("client_id")
        self.client_secret = params.get("client_secret")
        self.client_certificate_path = params.get("client_certificate_path")
        self.client_certificate_password = params.get("client_certificate_password")
        self.federated_token_file = params.get("federated_token_file")
        self.access_token = params.get("access_token")
        self.auth_method = params.get("auth_method") or "auto"
        self.cloud = get_cloud(params.get("cloud"))
        self.authority_root = normalize_root(params.get("authority_url")) or self.cloud.authority_root
        self.graph_root = normalize_root(params.get("graph_url")) or self.cloud.graph_root
        self.validate_certs = params.get("validate_certs", True) is not False
        self.ca_path = params.get("ca_path") or None
        self.timeout = params.get("timeout") or 30
        self.token_cache = params.get("token_cache", True) is not False

    @property
    def authority(self):
        """``<authority root>/<tenant>`` (an authority_url that already ends with the tenant is kept)."""
        if self.authority_root.lower().endswith("/" + (self.tenant_id or "").lower()):
            return self.authority_root
        return "%s/%s" % (self.authority_root, self.tenant_id)

    @property
    def scope(self):
        """The Graph scope stays the cloud's, also when ``graph_url`` points elsewhere (a proxy, the sandbox)."""
        return self.cloud.scope


def select_auth_method(config, which=shutil.which, environ=None):
    """The method ``auto`` stands for, given what ``config`` holds; an explicit method is returned as is."""
    if config.auth_method != "auto":
        return config.auth_method
    environ = os.environ if environ is None else environ
    if config.access_token:
        return "access_token"
    if config.client_secret:
        return "client_secret"
    if config.client_certificate_path:
        return "certificate"
    if config.federated_token_file:
        return "federated"
    if any(environ.get(name) for name in MANAGED_IDENTITY_ENV):
        return "managed_identity"
    if which("az"):
        return "azure_cli"
    raise AuthenticationError(
        "no credential was given",
        hint="set client_secret (or AZURE_CLIENT_SECRET), client_certificate_path (or AZURE_CLIENT_CERTIFICATE_PATH), "
             "federated_token_file (or AZURE_FEDERATED_TOKEN_FILE) or access_token, "
             "together with tenant_id and client_id; or choose auth_method managed_identity or azure_cli")


_REQUIRED = {
    "client_secret": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("client_secret", "AZURE_CLIENT_SECRET")),
    "certificate": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("client_certificate_path", "AZURE_CLIENT_CERTIFICATE_PATH")),
    "federated": (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"), ("federated_token_file", "AZURE_FEDERATED_TOKEN_FILE")),
    "access_token": (("access_token", None),),
}


def check_required(config, method):
    """Raise ``AuthenticationError`` naming every option (and its environment variable) ``method`` lacks."""
    missing = ["%s%s" % (name, " (or %s)" % env if env else "") for name, env in _REQUIRED.get(method, ()) if not getattr(config, name)]
    if missing:
        raise AuthenticationError("auth_method %s needs %s" % (method, ", ".join(missing)), hint="set the missing option(s) or environment variable(s)")
    if config.tenant_id and not _TENANT_RE.match(config.tenant_id):
        raise AuthenticationError("tenant_id %r is neither a tenant ID (a GUID) nor a domain name" % config.tenant_id,
                                  hint="give the Directory (tenant) ID, such as 00000000-0000-0000-0000-000000000000, or a verified domain "
                                       "such as contoso.onmicrosoft.com (or set AZURE_TENANT_ID)")


def build_session(validate_certs=True, ca_path=None, timeout=30, warn=None, service="the login endpoint and Microsoft Graph"):
    """The session for the login endpoint and Graph (or ``service``, named in the warning); ``validate_certs=False`` always warns."""
    if validate_certs and ca_path and not os.path.isfile(ca_path):
        raise AuthenticationError("ca_path %s is not a file" % ca_path,
                                  hint="give the PEM file of the certificate authorities that signed the certificates of %s, "
                                       "or leave ca_path unset to use the system's" % service)
    return session_for(validate_certs, ca_path, timeout, warn=warn, service=service)

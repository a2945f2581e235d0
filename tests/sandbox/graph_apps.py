"""Applications, service principals, client secrets, owners and application templates on the Graph surface.

Real Graph behaviour reproduced here (contract sections 1-3, 9):

- ``POST /applications`` answers 201 with every default property; ``displayName`` is required;
  ``passwordCredentials`` cannot be set (use addPassword); unknown properties are refused.
- ``/applications/{id}``, ``/applications(appId='..')``, ``/applications(uniqueName='..')`` address one app;
  ``PATCH`` answers 204, merges nested complex values (``web``) and replaces collections; ``PATCH`` on
  ``(uniqueName='..')`` with ``Prefer: create-if-missing`` creates (201) or updates (204), without the
  header an unknown uniqueName is 404.
- Redirect URIs must be https (http only for localhost/127.0.0.1), at most 256 characters and free of
  ``! $ ' ( ) , ;``; an enabled app role or scope cannot be removed before it is disabled.
- ``addPassword`` answers 200 with ``secretText`` (the only time it is shown), ``hint`` = first 3
  characters, default end = start + 2 years; a lifetime beyond the tenant's app management policy
  (test control ``set-app-management-policy``) is 400 ``CredentialInvalidLifetimeAsPerAppPolicy``;
  ``removePassword`` answers 204. Every credential list (passwordCredentials, keyCredentials) is newest first, as
  real Graph lists them; a certificate's ``customKeyIdentifier`` defaults to its SHA-1 thumbprint (40 hex digits)
  and its ``displayName`` to the subject as Entra ID writes it (``CN=a, O=b, S=c, C=AU``).
- ``POST /applications`` without ``signInAudience`` gives ``AzureADandPersonalMicrosoftAccount``; a new app's
  ``api.requestedAccessTokenVersion`` is 2 where personal accounts sign in, else null, unless the body sets it.
- ``DELETE`` soft-deletes the app and its service principal.
- ``POST /servicePrincipals`` needs ``appId`` of an app in the tenant (400 NoBackingApplicationObject while
  it replicates), a second one is 409 ``Request_MultipleObjectsWithSameKeyValue``.
"""
from __future__ import annotations

import base64
import copy
import re
import typing as t
import urllib.parse

from cryptography import x509

from . import graph_base as gb
from . import graph_federated, graph_grants, graph_schema
from .directory import CUSTOM_TEMPLATE_ID, PERSONAL_AUDIENCES, TWO_YEARS, ZERO_GUID, default_token_version, dotnet_subject, iso, newest_first, \
    thumbprint_hex
from .graph_schema import UUID_RE, parse_date_time
from .http import Response
from .odata import GraphError, bad_request, not_found

APP = "microsoft.graph.application"
SP = "microsoft.graph.servicePrincipal"
APP_READ_ONLY = ("id", "appId", "applicationTemplateId", "createdByAppId", "createdDateTime", "deletedDateTime", "publisherDomain",
                 "disabledByMicrosoftStatus")
SP_READ_ONLY = ("id", "applicationTemplateId", "createdByAppId", "deletedDateTime", "appDisplayName", "appDescription", "appOwnerOrganizationId",
                "signInAudience")
SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
REDIRECT_FORBIDDEN = set("!$'(),;")
DEFAULT_POLICY_ID = ZERO_GUID  # id of the tenant's defaultAppManagementPolicy
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
APP_NAVIGATION_EXTRA = ("addKey", "removeKey", "setVerifiedPublisher", "unsetVerifiedPublisher", "logo", "checkMemberGroups", "checkMemberObjects",
                        "getMemberGroups", "getMemberObjects", "restore")


# ---------------------------------------------------------------------------------------------- lookups

# ---------------------------------------------------------------------------------------------- validation

def _url_problem(uri: t.Any, *, allow_custom_scheme: bool = False, max_len: int = 256) -> str | None:
    if not isinstance(uri, str) or not uri:
        return "a redirect URI must be a non-empty string"
    if len(uri) > max_len:
        return "a redirect URI may have at most %d characters" % max_len
    if any(ch in REDIRECT_FORBIDDEN for ch in uri):
        return "a redirect URI may not contain any of ! $ ' ( ) , ;"
    if any(ch.isspace() for ch in uri):
        return "a redirect URI may not contain white space"
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in ("localhost", "127.0.0.1", "::1"):
        return None
    if allow_custom_scheme and parts.scheme not in ("http", "https", "") and (parts.netloc or parts.path):
        return None
    if parts.scheme == "http":
        return "http is allowed only for localhost and 127.0.0.1; use https"
    return "a redirect URI must be an absolute https URL"


def validate_redirect_uris(app: dict) -> None:
    """Redirect URI rules of Entra (E-reply) on web, spa and publicClient."""
    audience = app.get("signInAudience")
    limit = 100 if audience in PERSONAL_AUDIENCES else 256
    total = 0
    for platform, custom in (("web", False), ("spa", False), ("publicClient", True)):
        uris = (app.get(platform) or {}).get("redirectUris") or []
        total += len(uris)
        seen = set()
        for uri in uris:
            problem = _url_problem(uri, allow_custom_scheme=custom)
            if problem is None and "*" in uri and audience in PERSONAL_AUDIENCES:
                problem = "wildcards are not supported for apps that sign in personal Microsoft accounts"
            if problem is None and "?" in uri and audience in PERSONAL_AUDIENCES:
                problem = "query parameters are allowed only for apps that sign in work or school accounts only"
            if problem is None and uri in seen:
                problem = "redirect URIs must be unique"
            if problem:
                raise gb.invalid_value("redirectUris", "Application", "%s: %r" % (problem, uri), "%s.redirectUris" % platform)
            seen.add(uri)
    if total > limit:
        raise gb.invalid_value("redirectUris", "Application", "at most %d redirect URIs are allowed for signInAudience %s" % (limit, audience))
    web = app.get("web") or {}
    for name in ("logoutUrl", "homePageUrl"):
        value = web.get(name)
        if value is not None:
            problem = _url_problem(value, max_len=2048)
            if problem:
                raise gb.invalid_value(name, "Application", "%s: %r" % (problem.replace("a redirect URI", "the URL"), value), "web." + name)


def _check_no_removal(old: list[dict], new: list[dict], what: str) -> None:
    """An enabled app role or permission scope must be disabled (one PATCH) before it is removed (a later one)."""
    new_ids = {(item or {}).get("id") for item in new}
    for item in old:
        if item.get("isEnabled") and item.get("id") not in new_ids:
            raise bad_request("Permission (scope or role) cannot be deleted or updated unless disabled first.",
                              details=[{"code": "CannotDeleteOrUpdateEnabledEntitlement", "message": "%s %s is enabled" % (what, item.get("id")),
                                        "target": what}])


def _check_entitlements(items: list[dict], prop: str, kinds: tuple[str, ...] | None) -> None:
    ids, values = set(), set()
    for item in items:
        if not item.get("id"):
            raise gb.invalid_value(prop, "Application", "every entry needs an id (GUID chosen by the caller)")
        if item["id"] in ids or item["id"] == ZERO_GUID:
            raise gb.invalid_value(prop, "Application", "ids must be unique and not all zero: %s" % item["id"])
        ids.add(item["id"])
        value = item.get("value")
        if value is not None:
            if value in values:
                raise gb.invalid_value(prop, "Application", "values must be unique: %r" % value)
            if not re.fullmatch(r"[!#-&(-\[\]-~]+", value) or value.startswith("."):
                raise gb.invalid_value(prop, "Application", "value %r may not contain spaces or start with a dot" % value)
            values.add(value)
        if kinds is not None:
            members = item.get("allowedMemberTypes") or []
            if not members or any(m not in kinds for m in members):
                raise gb.invalid_value(prop, "Application", "allowedMemberTypes must name User and/or Application")


def validate_application(ctx: gb.Ctx, app: dict, old: dict | None) -> None:
    """Directory rules on the application as it would be after the write."""
    directory = ctx.directory
    name = app.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise gb.invalid_value("displayName", "Application")
    if app.get("signInAudience") not in SIGN_IN_AUDIENCES:
        raise gb.invalid_value("signInAudience", "Application", "one of %s" % ", ".join(SIGN_IN_AUDIENCES))
    if app["signInAudience"] in PERSONAL_AUDIENCES and (app.get("api") or {}).get("requestedAccessTokenVersion") != 2:
        raise bad_request("Property api.requestedAccessTokenVersion is invalid.")
    validate_redirect_uris(app)
    _check_entitlements(app.get("appRoles") or [], "appRoles", ("User", "Application"))
    _check_entitlements((app.get("api") or {}).get("oauth2PermissionScopes") or [], "oauth2PermissionScopes", None)
    if old is not None:
        _check_no_removal(old.get("appRoles") or [], app.get("appRoles") or [], "appRoles")
        _check_no_removal((old.get("api") or {}).get("oauth2PermissionScopes") or [], (app.get("api") or {}).get("oauth2PermissionScopes") or [],
                          "api.oauth2PermissionScopes")
    resources = app.get("requiredResourceAccess") or []
    if len(resources) > 50 or sum(len(r.get("resourceAccess") or []) for r in resources) > 400:
        raise gb.invalid_value("requiredResourceAccess", "Application", "at most 50 resources and 400 permissions in total")
    for resource in resources:
        if not UUID_RE.match(resource.get("resourceAppId") or ""):
            raise gb.invalid_value("requiredResourceAccess", "Application", "resourceAppId must be a GUID")
        for access in resource.get("resourceAccess") or []:
            if access.get("type") not in ("Scope", "Role") or not access.get("id"):
                raise gb.invalid_value("requiredResourceAccess", "Application", "resourceAccess entries need an id and type Scope or Role")
    for tag in app.get("tags") or []:
        if not isinstance(tag, str) or not tag or len(tag) > 256:
            raise gb.invalid_value("tags", "Application", "tags are non-empty strings of at most 256 characters")
    _validate_identifier_uris(ctx, app)
    if old is not None and old.get("uniqueName") and app.get("uniqueName") != old.get("uniqueName"):
        raise gb.invalid_value("uniqueName", "Application", "uniqueName is immutable once set")
    if app.get("uniqueName") is not None:
        unique = app["uniqueName"]
        if not isinstance(unique, str) or not unique or len(unique) > 128 or "/" in unique:
            raise gb.invalid_value("uniqueName", "Application")
        for other in list(directory.applications.values()) + [d["object"] for d in directory.deleted.values() if d["kind"] == "application"]:
            if other["id"] != app["id"] and (other.get("uniqueName") or "").lower() == unique.lower():
                raise gb.conflict_400("uniqueName")
    _validate_key_credentials(ctx, app, old)


def _validate_identifier_uris(ctx: gb.Ctx, app: dict) -> None:
    domains = [d.lower() for d in ctx.directory.verified_domains()]
    for uri in app.get("identifierUris") or []:
        parts = urllib.parse.urlsplit(uri)
        if parts.scheme in ("https", "http"):
            host = (parts.hostname or "").lower()
            if not any(host == d or host.endswith("." + d) for d in domains):
                raise bad_request("Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'" % uri)
        elif parts.scheme not in ("api", "urn", "ms-appx") or not (parts.netloc or parts.path):
            raise gb.invalid_value("identifierUris", "Application", "use api://, urn: or an https URL on a verified domain: %r" % uri)
        for other in ctx.directory.applications.values():
            if other["id"] != app["id"] and uri.lower() in (u.lower() for u in other.get("identifierUris") or []):
                raise gb.conflict_400("identifierUris")


def _validate_key_credentials(ctx: gb.Ctx, app: dict, old: dict | None) -> None:
    """keyCredentials are replaced whole; a new entry must carry a DER certificate in ``key``."""
    known = {c["keyId"] for c in (old or {}).get("keyCredentials") or []}
    for credential in app.get("keyCredentials") or []:
        key_id = (credential.get("keyId") or "").lower()
        if key_id in known and not credential.get("key"):
            continue
        if credential.get("type") != "AsymmetricX509Cert" or credential.get("usage") != "Verify" or not credential.get("key"):
            raise gb.invalid_value("keyCredentials", "Application", "a certificate credential needs type AsymmetricX509Cert, usage Verify and key")
        try:
            x509.load_der_x509_certificate(base64.b64decode(credential["key"]))
        except ValueError:
            raise gb.invalid_value("keyCredentials", "Application", "key must be a base64 DER X.509 certificate") from None


def _store_key_credentials(ctx: gb.Ctx, app: dict, old: dict | None) -> None:
    """Give new certificate credentials ids and dates, keep their DER for the token endpoint, show ``key`` as null."""
    directory = ctx.directory
    known = {c["keyId"]: c for c in (old or {}).get("keyCredentials") or []}
    stored = []
    for credential in app.get("keyCredentials") or []:
        key_id = (credential.get("keyId") or "").lower()
        if key_id in known and not credential.get("key"):
            stored.append(copy.deepcopy(known[key_id]))
            continue
        der = base64.b64decode(credential["key"])
        cert = x509.load_der_x509_certificate(der)
        key_id = key_id if UUID_RE.match(key_id) and key_id not in directory.key_material else directory.new_id()
        directory.key_material[key_id] = der
        directory.note_credential(key_id)
        stored.append({"customKeyIdentifier": credential.get("customKeyIdentifier") or thumbprint_hex(der),
                       "displayName": credential.get("displayName") or dotnet_subject(cert.subject),
                       "endDateTime": credential.get("endDateTime") or iso(cert.not_valid_after_utc.timestamp()), "key": None, "keyId": key_id,
                       "startDateTime": credential.get("startDateTime") or iso(cert.not_valid_before_utc.timestamp()),
                       "type": "AsymmetricX509Cert", "usage": "Verify"})
    app["keyCredentials"] = newest_first(directory, stored)


def _reject_password_credentials(body: dict) -> None:
    if "passwordCredentials" in body:
        raise bad_request("Property 'passwordCredentials' cannot be set on create or update. Use the addPassword and removePassword actions.",
                          details=[{"code": "KeyNotUpdatable", "message": "passwordCredentials are managed with addPassword and removePassword.",
                                    "target": "passwordCredentials"}])


# ---------------------------------------------------------------------------------------------- application views

def app_view(ctx: gb.Ctx, app: dict) -> dict:
    """An application as GET shows it: secrets never, key material never, credentials still replicating not yet."""
    view = copy.deepcopy(app)
    view["passwordCredentials"] = [c for c in view.get("passwordCredentials") or [] if ctx.visible(c["keyId"])]
    view["keyCredentials"] = [c for c in view.get("keyCredentials") or [] if ctx.visible(c["keyId"])]
    return view


# ---------------------------------------------------------------------------------------------- routes

def route_applications(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    key, rest = gb.split_key(segments)
    response = gb.collection_request(ctx, key, rest, read=gb.APP_READ, spec=gb.APPLICATIONS, fragment="applications", create=create_application,
                                     items=lambda: [app_view(ctx, a) for a in gb.visible_items(ctx, ctx.directory.applications)])
    if response is not None:
        return response
    if not rest:
        return _application_entity(ctx, key)
    action = rest[0].name
    if action in ("addPassword", "removePassword") and len(rest) == 1:
        if ctx.method != "POST":
            raise gb.method_not_allowed()
        ctx.require(gb.APP_CREATE)
        app = gb.find_application(ctx, key)
        ctx.require_app_write(app["id"])
        return add_password(ctx, app) if action == "addPassword" else remove_password(ctx, app)
    if action == "owners":
        ctx.require(gb.APP_READ)
        return owners_route(ctx, gb.find_application(ctx, key), rest[1:])
    if action == "federatedIdentityCredentials":
        return graph_federated.route(ctx, gb.find_application(ctx, key), rest)
    if action in graph_schema.navigation_names(APP) or action in APP_NAVIGATION_EXTRA:
        raise gb.not_implemented(ctx)
    raise gb.segment_not_found(action)


def _application_entity(ctx: gb.Ctx, key: dict) -> Response:
    directory = ctx.directory
    if ctx.method == "GET":
        ctx.require(gb.APP_READ)
        app = gb.find_application(ctx, key)
        return Response(200, gb.entity_body(ctx, app_view(ctx, app), "applications", APP))
    if ctx.method == "PATCH":
        ctx.require(gb.APP_CREATE)
        if "uniqueName" in key:
            return gb.upsert(ctx, directory.app_by_unique_name(key["uniqueName"]), key["uniqueName"],
                             lambda: create_application(ctx, unique_name=key["uniqueName"]), lambda app: update_application(ctx, app))
        return update_application(ctx, gb.find_application(ctx, key))
    if ctx.method == "DELETE":
        ctx.require(gb.APP_CREATE)
        app = gb.find_application(ctx, key)
        ctx.require_app_write(app["id"])
        gb.check_options(ctx, frozenset())
        directory.soft_delete("application", app["id"])
        return gb.no_content()
    raise gb.method_not_allowed()


def create_application(ctx: gb.Ctx, unique_name: str | None = None, template_id: str | None = None) -> Response:
    """POST /applications (or an upsert that creates): 201 with the full object."""
    directory = ctx.directory
    ctx.require(gb.APP_CREATE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    _reject_password_credentials(body)
    gb.validate_body(APP, body, read_only=APP_READ_ONLY, binds=("owners",))
    if unique_name is not None and body.get("uniqueName") not in (None, unique_name):
        raise gb.invalid_value("uniqueName", "Application", "the uniqueName in the body differs from the one in the URL")
    owners = gb.bind_owners(ctx, body)
    app = directory.new_application(body.get("displayName") or "", template_id=template_id, created_by=ctx.caller_app_id or None)
    gb.merge(app, {k: v for k, v in body.items() if not k.endswith("@odata.bind")})
    if isinstance(app.get("api"), dict) and "requestedAccessTokenVersion" not in (body.get("api") or {}):
        app["api"]["requestedAccessTokenVersion"] = default_token_version(app.get("signInAudience"))
    if unique_name is not None:
        app["uniqueName"] = unique_name
    validate_application(ctx, app, None)
    _store_key_credentials(ctx, app, None)
    directory.register(directory.applications, app, owners=owners)
    return gb.created(ctx, dict({"@odata.context": ctx.context("applications/$entity")}, **app_view(ctx, app)), "Application")


def update_application(ctx: gb.Ctx, app: dict) -> Response:
    directory = ctx.directory
    ctx.require_app_write(app["id"])
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    _reject_password_credentials(body)
    gb.validate_body(APP, body, read_only=APP_READ_ONLY)
    merged = copy.deepcopy(app)
    gb.merge(merged, body)
    validate_application(ctx, merged, app)
    _store_key_credentials(ctx, merged, app)
    old_name = app["displayName"]
    app.clear()
    app.update(merged)
    sp = directory.sp_by_app_id(app["appId"])
    if sp is not None:
        directory.sync_from_app(sp, app, old_display_name=old_name)
    return gb.no_content()


def add_password(ctx: gb.Ctx, app: dict) -> Response:
    """addPassword: 200 with the new passwordCredential, secretText included (shown only here)."""
    directory = ctx.directory
    gb.check_options(ctx, frozenset())
    body = ctx.body if ctx.body is not None else {}
    if not isinstance(body, dict):
        body = gb.require_body(ctx)
    for key in body:
        if key != "passwordCredential":
            raise bad_request("The parameter '%s' in the request payload is not a valid parameter for the operation 'addPassword'." % key,
                              code="BadRequest")
    requested = body.get("passwordCredential") or {}
    if not isinstance(requested, dict):
        raise bad_request("An unexpected 'PrimitiveValue' node was found when reading from the JSON reader. A 'StartObject' node was expected.",
                          code="BadRequest")
    gb.validate_body("microsoft.graph.passwordCredential", requested, read_only=("secretText", "hint", "keyId"))
    now = directory.now()
    start = parse_date_time(requested["startDateTime"]).timestamp() if requested.get("startDateTime") else now
    end = parse_date_time(requested["endDateTime"]).timestamp() if requested.get("endDateTime") else start + TWO_YEARS.total_seconds()
    if end <= start:
        raise gb.invalid_value("endDateTime", "PasswordCredential", "endDateTime must be later than startDateTime")
    limit = directory.password_max_lifetime_days
    if limit is not None and end - start > limit * 86400:
        raise GraphError(400, "CredentialInvalidLifetimeAsPerAppPolicy",
                         "Credential lifetime exceeds the max value allowed as per assigned policy %s." % DEFAULT_POLICY_ID)
    credential, secret = directory.new_password_credential(requested.get("displayName"), start, end)
    if requested.get("customKeyIdentifier") is not None:
        credential["customKeyIdentifier"] = requested["customKeyIdentifier"]
    app["passwordCredentials"] = newest_first(directory, app["passwordCredentials"] + [credential])
    shown = dict(credential, secretText=secret)
    return Response(200, dict({"@odata.context": ctx.context("microsoft.graph.passwordCredential")}, **shown))


def remove_password(ctx: gb.Ctx, app: dict) -> Response:
    directory = ctx.directory
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    for key in body:
        if key != "keyId":
            raise bad_request("The parameter '%s' in the request payload is not a valid parameter for the operation 'removePassword'." % key,
                              code="BadRequest")
    key_id = body.get("keyId")
    if key_id is None:
        raise bad_request("The parameter 'keyId' in the request payload is required for the operation 'removePassword'.", code="BadRequest")
    if not isinstance(key_id, str) or not UUID_RE.match(key_id):
        raise bad_request("Cannot convert the literal '%s' to the expected type 'Edm.Guid'." % key_id, code="BadRequest")
    key_id = key_id.lower()
    remaining = [c for c in app["passwordCredentials"] if c["keyId"] != key_id]
    if len(remaining) == len(app["passwordCredentials"]):
        raise GraphError(404, "Request_ResourceNotFound", "No password credential found with keyId '%s'." % key_id)
    app["passwordCredentials"] = remaining
    directory.secrets.pop(key_id, None)
    return gb.no_content()


def owners_route(ctx: gb.Ctx, obj: dict, rest: list[gb.Segment]) -> Response:
    """Owners of an application or service principal; adding or removing one needs Application.ReadWrite.All (not OwnedBy)."""
    def authorize() -> None:
        ctx.require(gb.APP_WRITE)
        ctx.require_app_write(obj["id"])
    return gb.references_route(ctx, obj["id"], ctx.directory.owners(obj["id"]), "owners", rest, authorize_write=authorize,
                               kinds=("user", "servicePrincipal"))


# ---------------------------------------------------------------------------------------------- service principals

def route_service_principals(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    key, rest = gb.split_key(segments)
    response = gb.collection_request(ctx, key, rest, read=gb.APP_READ, spec=gb.SERVICE_PRINCIPALS, fragment="servicePrincipals",
                                     create=create_service_principal, items=lambda: gb.visible_items(ctx, ctx.directory.service_principals))
    if response is not None:
        return response
    if not rest:
        return _service_principal_entity(ctx, key)
    nav = rest[0].name
    if nav == "appRoleAssignedTo":
        return graph_grants.assigned_to_route(ctx, key, rest[1:])
    if nav == "appRoleAssignments":
        return graph_grants.principal_assignments_route(ctx, "servicePrincipal", key, rest[1:])
    if nav == "oauth2PermissionGrants" and len(rest) == 1:
        return graph_grants.client_grants_route(ctx, key)
    if nav == "owners":
        ctx.require(gb.APP_READ)
        return owners_route(ctx, gb.find_service_principal(ctx, key), rest[1:])
    if nav in graph_schema.navigation_names(SP) or nav in APP_NAVIGATION_EXTRA or nav in ("addPassword", "removePassword", "addTokenSigningCertificate"):
        raise gb.not_implemented(ctx)
    raise gb.segment_not_found(nav)


def _service_principal_entity(ctx: gb.Ctx, key: dict) -> Response:
    directory = ctx.directory
    if ctx.method == "GET":
        ctx.require(gb.APP_READ)
        sp = gb.find_service_principal(ctx, key)
        return Response(200, gb.entity_body(ctx, sp, "servicePrincipals", SP))
    if ctx.method == "PATCH":
        ctx.require(gb.APP_CREATE)
        if "appId" in key:
            return gb.upsert(ctx, directory.sp_by_app_id(key["appId"]), key["appId"],
                             lambda: create_service_principal(ctx, app_id=key["appId"]), lambda sp: update_service_principal(ctx, sp))
        return update_service_principal(ctx, gb.find_service_principal(ctx, key))
    if ctx.method == "DELETE":
        ctx.require(gb.APP_CREATE)
        sp = gb.find_service_principal(ctx, key)
        ctx.require_app_write(sp["id"])
        gb.check_options(ctx, frozenset())
        directory.soft_delete("servicePrincipal", sp["id"])
        return gb.no_content()
    raise gb.method_not_allowed()


def create_service_principal(ctx: gb.Ctx, app_id: str | None = None) -> Response:
    """POST /servicePrincipals: 201; 400 NoBackingApplicationObject, 409 when the appId has one already."""
    directory = ctx.directory
    ctx.require(gb.APP_CREATE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    _reject_password_credentials(body)
    gb.validate_body(SP, body, read_only=SP_READ_ONLY, binds=("owners",))
    if app_id is not None and body.get("appId") not in (None, app_id):
        raise gb.invalid_value("appId", "ServicePrincipal", "the appId in the body differs from the one in the URL")
    app_id = app_id or body.get("appId")
    if not isinstance(app_id, str) or not app_id:
        raise gb.invalid_value("appId", "ServicePrincipal", "appId is required")
    if not UUID_RE.match(app_id):
        raise bad_request("The appId '%s' of the service principal does not reference a valid application object." % app_id,
                          details=[{"code": "NoBackingApplicationObject", "message": "The appId is not a GUID.", "target": "appId"}])
    app_id = app_id.lower()
    existing = directory.sp_by_app_id(app_id)
    if existing is not None:
        message = "The service principal cannot be created, updated, or restored because the service principal name %s is already in use." % app_id
        raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", message,
                         details=[{"code": "ObjectConflict", "message": message, "target": "servicePrincipalNames"}])
    app = directory.app_by_app_id(app_id)
    if app is not None and ctx.owned_only() and ctx.caller_id not in directory.owners(app["id"]):
        raise GraphError(403, "Authorization_RequestDenied", gb.DENIED)
    if app is None or not ctx.visible(app["id"]):
        if app is not None and ctx.owned_only():
            raise GraphError(403, "Authorization_RequestDenied",
                             "When using this permission, the backing application of the service principal being created must in the local tenant")
        raise bad_request("The appId '%s' of the service principal does not reference a valid application object." % app_id,
                          details=[{"code": "NoBackingApplicationObject", "message": "The appId '%s' does not reference a valid application object." % app_id,
                                    "target": "appId"}])
    owners = gb.bind_owners(ctx, body)
    sp = directory.new_service_principal(app, created_by=ctx.caller_app_id or None)
    gb.merge(sp, {k: v for k, v in body.items() if not k.endswith("@odata.bind") and k != "appId"})
    _validate_service_principal(sp)
    directory.register(directory.service_principals, sp, owners=owners)
    return gb.created(ctx, dict({"@odata.context": ctx.context("servicePrincipals/$entity")}, **sp), "ServicePrincipal")


def _validate_service_principal(sp: dict) -> None:
    if not isinstance(sp.get("displayName"), str) or not sp["displayName"].strip():
        raise gb.invalid_value("displayName", "ServicePrincipal")
    for tag in sp.get("tags") or []:
        if not isinstance(tag, str) or not tag or len(tag) > 256:
            raise gb.invalid_value("tags", "ServicePrincipal", "tags are non-empty strings of at most 256 characters")
    for name in ("loginUrl", "logoutUrl", "homepage"):
        if sp.get(name) is not None and _url_problem(sp[name], max_len=2048):
            raise gb.invalid_value(name, "ServicePrincipal", "an absolute https URL is expected")
    if sp.get("preferredSingleSignOnMode") not in (None, "password", "saml", "notSupported", "oidc"):
        raise gb.invalid_value("preferredSingleSignOnMode", "ServicePrincipal", "one of password, saml, notSupported, oidc")


def update_service_principal(ctx: gb.Ctx, sp: dict) -> Response:
    ctx.require_app_write(sp["id"])
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    _reject_password_credentials(body)
    gb.validate_body(SP, body, read_only=SP_READ_ONLY + ("appId",))
    merged = copy.deepcopy(sp)
    gb.merge(merged, body)
    _validate_service_principal(merged)
    sp.clear()
    sp.update(merged)
    return gb.no_content()


# ---------------------------------------------------------------------------------------------- application templates

def route_application_templates(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    templates = ctx.directory.application_templates
    key, rest = gb.split_key(segments)
    if key is None:
        if ctx.method != "GET":
            raise gb.method_not_allowed()
        return Response(200, gb.list_body(ctx, copy.deepcopy(templates), gb.TEMPLATES, "applicationTemplates"))
    template_id = key.get("")
    template = next((entry for entry in templates if entry["id"] == (template_id or "").lower()), None)
    if template is None:
        raise not_found(template_id or str(key))
    if not rest:
        if ctx.method != "GET":
            raise gb.method_not_allowed()
        return Response(200, gb.entity_body(ctx, copy.deepcopy(template), "applicationTemplates", "microsoft.graph.applicationTemplate"))
    if rest[0].name == "instantiate" and len(rest) == 1:
        if ctx.method != "POST":
            raise gb.method_not_allowed()
        return instantiate(ctx, template)
    raise gb.segment_not_found(rest[0].name)


def instantiate(ctx: gb.Ctx, template: dict) -> Response:
    """POST /applicationTemplates/{id}/instantiate {displayName}: 201 {application, servicePrincipal}."""
    directory = ctx.directory
    ctx.require(gb.APP_CREATE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    for key in body:
        if key not in ("displayName", "serviceManagementReference"):
            raise bad_request("The parameter '%s' in the request payload is not a valid parameter for the operation 'instantiate'." % key,
                              code="BadRequest")
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise gb.invalid_value("displayName", "Application")
    owners = [ctx.caller_id] if ctx.owned_only() else []
    app = directory.new_application(name, template_id=template["id"], created_by=ctx.caller_app_id or None)
    app["signInAudience"] = "AzureADMyOrg"   # an enterprise application from the gallery (or Custom) signs in its own tenant
    app["api"]["requestedAccessTokenVersion"] = None
    if template["id"] != CUSTOM_TEMPLATE_ID:
        app["web"]["homePageUrl"] = template.get("homePageUrl")
    directory.register(directory.applications, app, owners=owners)
    sp = directory.new_service_principal(app, created_by=ctx.caller_app_id or None)
    sp["tags"] = ["WindowsAzureActiveDirectoryIntegratedApp"]
    if "oidc" in (template.get("supportedSingleSignOnModes") or []):
        sp["preferredSingleSignOnMode"] = "oidc"
    directory.register(directory.service_principals, sp, owners=owners)
    return Response(201, {"@odata.context": ctx.context("microsoft.graph.applicationServicePrincipal"),
                          "application": app_view(ctx, app), "servicePrincipal": copy.deepcopy(sp)})

"""Users, groups, domains, the organization and deleted items on the Graph surface (contract section 4).

- ``POST /users`` needs accountEnabled, displayName, mailNickname, userPrincipalName and passwordProfile;
  the UPN's domain must be a verified domain, its local part may use ``A-Z a-z 0-9 ' . - _ ! # ^ ~ $`` and the backtick; the
  password must have 8-256 characters and three of lower case, upper case, digits and symbols; a UPN in use is 400
  with an ``ObjectConflict`` detail. A soft-deleted user does not hold its UPN: Entra ID renames it to
  ``<object id without hyphens><UPN>`` (restore gives the name back, 400 ``ObjectConflict`` when a user took it meanwhile). The create answer and
  a plain GET show the default property subset only (no ``accountEnabled`` without ``$select``).
- ``GET /users/{id | userPrincipalName}``, ``/users(userPrincipalName='..')``; PATCH 204; DELETE 204 (soft).
  Changing ``passwordProfile`` of another user needs more than User.ReadWrite.All (403).
- Groups with ``/members`` and ``/members/$ref``; ``/domains``; ``/organization``;
  ``/directory/deletedItems`` (list by type, get, restore, permanent delete).
"""
from __future__ import annotations

import copy
import re

from . import graph_base as gb
from . import graph_grants, graph_schema
from . import odata
from .http import Response
from .odata import GraphError, bad_request, not_found

USER = "microsoft.graph.user"
GROUP = "microsoft.graph.group"
USER_READ_ONLY = ("id", "createdDateTime", "deletedDateTime", "creationType", "securityIdentifier", "lastPasswordChangeDateTime", "proxyAddresses",
                  "signInActivity", "assignedPlans", "provisionedPlans", "onPremisesSyncEnabled", "onPremisesSecurityIdentifier",
                  "onPremisesLastSyncDateTime", "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesSamAccountName",
                  "onPremisesUserPrincipalName", "onPremisesExtensionAttributes", "legalAgeGroupClassification", "isManagementRestricted",
                  "licenseAssignmentStates", "imAddresses", "signInSessionsValidFromDateTime")
GROUP_READ_ONLY = ("id", "createdDateTime", "deletedDateTime", "mail", "proxyAddresses", "renewedDateTime", "securityIdentifier", "expirationDateTime",
                   "onPremisesSyncEnabled", "onPremisesSecurityIdentifier", "onPremisesLastSyncDateTime", "isManagementRestricted",
                   "assignedLicenses", "licenseProcessingState")
# The local part of a UPN: letters, digits and the e-mail address characters (RFC 5322 atext) that Entra ID keeps, i.e. without
# the ones Microsoft's IdFix lists as invalid in a userPrincipalName (% & * + / = ? { } |). Microsoft's pages list only ' . - _ ! # ^ ~,
# but real Graph accepts more: a recorded POST /users created '$azure-cli-test-user#000001@...' (201).
UPN_LOCAL_RE = re.compile(r"^[A-Za-z0-9'.\-_!#^~$`]+$")
NICKNAME_FORBIDDEN = set('@()\\[]";:<>, ')
PASSWORD_POLICIES = ("DisablePasswordExpiration", "DisableStrongPassword", "None")
WEAK_PASSWORD = "The specified password does not comply with password complexity requirements. Please provide a different password."
DOMAIN_MESSAGE = ("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your "
                  "organization.")


# ---------------------------------------------------------------------------------------------- lookups

# ---------------------------------------------------------------------------------------------- users

def _check_upn(ctx: gb.Ctx, upn, current_id: str | None = None) -> str:
    directory = ctx.directory
    if not isinstance(upn, str) or upn.count("@") != 1:
        raise bad_request("Property userPrincipalName is invalid.", details=[{"code": "InvalidValue", "target": "userPrincipalName",
                                                                              "message": "Property userPrincipalName is invalid."}])
    local, domain = upn.split("@")
    if not local or len(local) > 64 or not UPN_LOCAL_RE.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise bad_request("Property userPrincipalName is invalid.", details=[{"code": "InvalidValue", "target": "userPrincipalName",
                                                                              "message": "Property userPrincipalName is invalid."}])
    if domain.lower() not in (d.lower() for d in directory.verified_domains()):
        raise bad_request(DOMAIN_MESSAGE, details=[{"code": "InvalidValue", "target": "userPrincipalName", "message": DOMAIN_MESSAGE}])
    other = directory.user_by_upn(upn)
    if other is not None and other["id"] != current_id:
        raise gb.conflict_400("userPrincipalName")
    return upn


def _check_nickname(value) -> None:
    if not isinstance(value, str) or not value or len(value) > 64 or any(ch in NICKNAME_FORBIDDEN or ord(ch) > 127 for ch in value):
        raise gb.invalid_value("mailNickname", "User")


def _check_password(profile, policies: str | None) -> str:
    if not isinstance(profile, dict) or not profile.get("password"):
        raise bad_request("A password must be specified to create a new user.",
                          details=[{"code": "InvalidValue", "target": "passwordProfile", "message": "passwordProfile.password is required."}])
    password = profile["password"]
    strong = "DisableStrongPassword" not in (policies or "")
    classes = sum(bool(re.search(rx, password)) for rx in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if not 8 <= len(password) <= 256 or any(ord(ch) > 127 or ord(ch) < 32 for ch in password) or (strong and classes < 3):
        raise bad_request(WEAK_PASSWORD, details=[{"code": "InvalidValue", "target": "passwordProfile.password", "message": WEAK_PASSWORD}])
    return password


def _check_user_fields(body: dict) -> None:
    if "displayName" in body and (not isinstance(body["displayName"], str) or not body["displayName"].strip() or len(body["displayName"]) > 256):
        raise gb.invalid_value("displayName", "User")
    if "mailNickname" in body:
        _check_nickname(body["mailNickname"])
    if body.get("passwordPolicies") is not None:
        parts = [p.strip() for p in body["passwordPolicies"].split(",")]
        if any(p not in PASSWORD_POLICIES for p in parts):
            raise gb.invalid_value("passwordPolicies", "User")
    if body.get("usageLocation") is not None and not re.fullmatch(r"[A-Za-z]{2}", body["usageLocation"]):
        raise gb.invalid_value("usageLocation", "User")
    if body.get("userType") not in (None, "Member", "Guest"):
        raise gb.invalid_value("userType", "User")


def route_users(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    directory = ctx.directory
    key, rest = gb.split_key(segments)
    response = gb.collection_request(ctx, key, rest, read=gb.USER_READ, spec=gb.USERS, fragment="users", create=create_user,
                                     items=lambda: gb.visible_items(ctx, directory.users), default=gb.USER_DEFAULT_PROPERTIES)
    if response is not None:
        return response
    if not rest:
        return _user_entity(ctx, key)
    nav = rest[0].name
    if nav == "appRoleAssignments":
        return graph_grants.principal_assignments_route(ctx, "user", key, rest[1:])
    if nav == "memberOf" and len(rest) == 1:
        if ctx.method != "GET":
            raise gb.method_not_allowed()
        ctx.require(gb.USER_READ)
        user = gb.find_user(ctx, key)
        groups = [g for g in gb.visible_items(ctx, directory.groups) if user["id"] in directory.group_members.get(g["id"], [])]
        return Response(200, gb.list_body(ctx, groups, gb.GROUPS, "directoryObjects", view=lambda g: gb.directory_object_view(ctx, g["id"])))
    if nav in graph_schema.navigation_names(USER) or nav in ("changePassword", "revokeSignInSessions", "assignLicense"):
        raise gb.not_implemented(ctx)
    raise gb.segment_not_found(nav)


def _user_entity(ctx: gb.Ctx, key: dict) -> Response:
    directory = ctx.directory
    if ctx.method == "GET":
        ctx.require(gb.USER_READ)
        user = gb.find_user(ctx, key)
        return Response(200, gb.entity_body(ctx, user, "users", USER, default=gb.USER_DEFAULT_PROPERTIES))
    if ctx.method == "PATCH":
        ctx.require(gb.USER_WRITE)
        user = gb.find_user(ctx, key)
        gb.check_options(ctx, frozenset())
        body = gb.require_body(ctx)
        gb.validate_body(USER, body, read_only=USER_READ_ONLY)
        if "passwordProfile" in body:
            ctx.require(gb.PASSWORD_WRITE)
            _check_password(body["passwordProfile"], body.get("passwordPolicies", user.get("passwordPolicies")))
        _check_user_fields(body)
        if "userPrincipalName" in body:
            _check_upn(ctx, body["userPrincipalName"], user["id"])
        if "accountEnabled" in body and body["accountEnabled"] is None:
            raise gb.invalid_value("accountEnabled", "User")
        changes = {k: v for k, v in body.items() if k != "passwordProfile"}
        gb.merge(user, changes)
        if "passwordProfile" in body:
            directory.user_passwords[user["id"]] = body["passwordProfile"]["password"]
            user["lastPasswordChangeDateTime"] = directory.now_iso()
        return gb.no_content()
    if ctx.method == "DELETE":
        ctx.require(gb.USER_WRITE)
        user = gb.find_user(ctx, key)
        gb.check_options(ctx, frozenset())
        directory.soft_delete("user", user["id"])
        return gb.no_content()
    raise gb.method_not_allowed()


def create_user(ctx: gb.Ctx) -> Response:
    """POST /users: 201 with the default property subset."""
    directory = ctx.directory
    ctx.require(gb.USER_WRITE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    gb.validate_body(USER, body, read_only=USER_READ_ONLY)
    for name in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName"):
        if body.get(name) is None:
            raise gb.invalid_value(name, "User", "%s is required" % name)
    password = _check_password(body.get("passwordProfile"), body.get("passwordPolicies"))
    _check_user_fields(body)
    upn = _check_upn(ctx, body["userPrincipalName"])
    user = directory.new_user(upn, body["displayName"], body["mailNickname"], account_enabled=body["accountEnabled"])
    gb.merge(user, {k: v for k, v in body.items() if k != "passwordProfile"})
    user["identities"] = [{"signInType": "userPrincipalName", "issuer": upn.split("@")[1], "issuerAssignedId": upn}]
    directory.register(directory.users, user)
    directory.user_passwords[user["id"]] = password
    shown = odata.apply_select(user, None, gb.USER_DEFAULT_PROPERTIES)
    return gb.created(ctx, dict({"@odata.context": ctx.context("users/$entity")}, **shown), "User")


# ---------------------------------------------------------------------------------------------- groups

def route_groups(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    directory = ctx.directory
    key, rest = gb.split_key(segments)
    response = gb.collection_request(ctx, key, rest, read=gb.GROUP_READ, spec=gb.GROUPS, fragment="groups", create=create_group,
                                     items=lambda: gb.visible_items(ctx, directory.groups))
    if response is not None:
        return response
    if not rest:
        return _group_entity(ctx, key)
    nav = rest[0].name
    if nav == "appRoleAssignments":
        return graph_grants.principal_assignments_route(ctx, "group", key, rest[1:])
    if nav == "members":
        ctx.require(gb.GROUP_READ)
        group = gb.find_group(ctx, key)
        members = directory.group_members.setdefault(group["id"], [])
        return gb.references_route(ctx, group["id"], members, "members", rest[1:], authorize_write=lambda: ctx.require(gb.MEMBER_WRITE),
                                   kinds=("user", "group", "servicePrincipal"))
    if nav in graph_schema.navigation_names(GROUP):
        raise gb.not_implemented(ctx)
    raise gb.segment_not_found(nav)


def _group_entity(ctx: gb.Ctx, key: dict) -> Response:
    directory = ctx.directory
    if ctx.method == "GET":
        ctx.require(gb.GROUP_READ)
        return Response(200, gb.entity_body(ctx, gb.find_group(ctx, key), "groups", GROUP))
    if ctx.method == "PATCH":
        ctx.require(gb.GROUP_WRITE)
        group = gb.find_group(ctx, key)
        gb.check_options(ctx, frozenset())
        body = gb.require_body(ctx)
        gb.validate_body(GROUP, body, read_only=GROUP_READ_ONLY)
        if "displayName" in body and (not isinstance(body["displayName"], str) or not body["displayName"].strip()):
            raise gb.invalid_value("displayName", "Group")
        if "mailNickname" in body:
            _check_nickname(body["mailNickname"])
        gb.merge(group, body)
        return gb.no_content()
    if ctx.method == "DELETE":
        ctx.require(gb.GROUP_WRITE)
        group = gb.find_group(ctx, key)
        gb.check_options(ctx, frozenset())
        directory.soft_delete("group", group["id"])
        return gb.no_content()
    raise gb.method_not_allowed()


def create_group(ctx: gb.Ctx) -> Response:
    directory = ctx.directory
    ctx.require(gb.GROUP_WRITE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    gb.validate_body(GROUP, body, read_only=GROUP_READ_ONLY, binds=("members", "owners"))
    for name in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
        if body.get(name) is None:
            raise gb.invalid_value(name, "Group", "%s is required" % name)
    _check_nickname(body["mailNickname"])
    unified = "Unified" in (body.get("groupTypes") or [])
    if body["mailEnabled"] and not unified:
        raise bad_request("Creating mail-enabled security groups and distribution lists is not supported through Microsoft Graph.")
    members = gb.bound_ids(ctx, body, "members")
    group = directory.new_group(body["displayName"], body["mailNickname"])
    gb.merge(group, {k: v for k, v in body.items() if not k.endswith("@odata.bind")})
    if unified:
        group["mail"] = "%s@%s" % (body["mailNickname"], directory.verified_domains()[0])
    directory.register(directory.groups, group, owners=gb.bound_ids(ctx, body, "owners"))
    directory.group_members[group["id"]] = members
    return gb.created(ctx, dict({"@odata.context": ctx.context("groups/$entity")}, **copy.deepcopy(group)), "Group")


# ---------------------------------------------------------------------------------------------- domains, organization

def route_domains(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    directory = ctx.directory
    key, rest = gb.split_key(segments)
    if ctx.method != "GET":
        raise gb.not_implemented(ctx) if ctx.method in ("POST", "PATCH", "DELETE") else gb.method_not_allowed()
    ctx.require(gb.DOMAIN_READ)
    if key is None:
        return Response(200, gb.list_body(ctx, copy.deepcopy(directory.domains), gb.DOMAINS, "domains"))
    if rest:
        raise gb.not_implemented(ctx)
    name = key.get("", "").lower()
    domain = next((d for d in directory.domains if d["id"].lower() == name), None)
    if domain is None:
        raise not_found(key.get(""))
    return Response(200, gb.entity_body(ctx, domain, "domains", "microsoft.graph.domain"))


def route_organization(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    directory = ctx.directory
    key, rest = gb.split_key(segments)
    if ctx.method != "GET":
        raise gb.not_implemented(ctx) if ctx.method == "PATCH" else gb.method_not_allowed()
    ctx.require(gb.ORGANIZATION_READ)
    if key is None:
        return Response(200, gb.list_body(ctx, [copy.deepcopy(directory.organization)], gb.ORGANIZATION, "organization"))
    if rest:
        raise gb.not_implemented(ctx)
    if key.get("", "").lower() != directory.tenant_id:
        raise not_found(key.get(""))
    return Response(200, gb.entity_body(ctx, directory.organization, "organization", "microsoft.graph.organization"))


# ---------------------------------------------------------------------------------------------- deleted items, directory objects

_DELETED_READ = {"application": gb.APP_READ, "servicePrincipal": gb.APP_READ, "user": gb.USER_READ, "group": gb.GROUP_READ}
_DELETED_WRITE = {"application": gb.APP_WRITE, "servicePrincipal": gb.APP_WRITE, "user": gb.USER_WRITE, "group": gb.GROUP_WRITE}


def route_directory(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    """``/directory/deletedItems/microsoft.graph.<type>``, ``/directory/deletedItems/{id}`` (GET, DELETE), ``.../restore`` (POST)."""
    directory = ctx.directory
    if len(segments) < 3 or segments[1].name != "deletedItems" or segments[0].key is not None:
        if len(segments) >= 2 and segments[1].name != "deletedItems":
            raise gb.not_implemented(ctx)
        raise gb.segment_not_found(segments[-1].name)
    target = segments[2].name
    if target.startswith("microsoft.graph.") and len(segments) == 3:
        kind = target[len("microsoft.graph."):]
        if kind not in _DELETED_READ:
            raise gb.segment_not_found(target)
        if ctx.method != "GET":
            raise gb.method_not_allowed()
        ctx.require(_DELETED_READ[kind])
        items = [copy.deepcopy(d["object"]) for i, d in sorted(directory.deleted.items(), key=lambda item: directory.seq(item[0])) if d["kind"] == kind]
        spec = {"application": gb.APPLICATIONS, "servicePrincipal": gb.SERVICE_PRINCIPALS, "user": gb.USERS, "group": gb.GROUPS}[kind]
        default = gb.USER_DEFAULT_PROPERTIES if kind == "user" else None
        return Response(200, gb.list_body(ctx, items, spec, "directory/deletedItems/" + target, default=default))
    object_id = gb.guid_key(target)
    item = directory.deleted.get(object_id)
    if item is None:
        raise not_found(object_id)
    kind = item["kind"]
    rest = segments[3:]
    if not rest:
        if ctx.method == "GET":
            ctx.require(_DELETED_READ[kind])
            body = gb.entity_body(ctx, item["object"], "directory/deletedItems", gb.TYPE_OF_KIND[kind])
            body = dict({"@odata.context": body.pop("@odata.context"), "@odata.type": "#" + gb.TYPE_OF_KIND[kind]}, **body)
            return Response(200, body)
        if ctx.method == "DELETE":
            ctx.require(_DELETED_WRITE[kind])
            directory.purge(object_id)
            return gb.no_content()
        raise gb.method_not_allowed()
    if rest[0].name == "restore" and len(rest) == 1:
        if ctx.method != "POST":
            raise gb.method_not_allowed()
        ctx.require(_DELETED_WRITE[kind])
        return _restore(ctx, object_id, item)
    raise gb.segment_not_found(rest[0].name)


def _restore(ctx: gb.Ctx, object_id: str, item: dict) -> Response:
    """Restore a soft-deleted object; restoring an app does not restore its service principal (as in Entra)."""
    directory = ctx.directory
    obj, kind = item["object"], item["kind"]
    if kind == "user" and directory.user_by_upn(item["userPrincipalName"]):
        raise gb.conflict_400("userPrincipalName")
    if kind == "user":
        obj["userPrincipalName"] = item["userPrincipalName"]
    if kind == "servicePrincipal":
        if directory.sp_by_app_id(obj["appId"]):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             "The service principal cannot be created, updated, or restored because the service principal name %s is already in use."
                             % obj["appId"])
        if directory.app_by_app_id(obj["appId"]) is None and obj.get("appOwnerOrganizationId") == directory.tenant_id:
            raise bad_request("The appId '%s' of the service principal does not reference a valid application object." % obj["appId"],
                              details=[{"code": "NoBackingApplicationObject", "target": "appId"}])
    del directory.deleted[object_id]
    obj["deletedDateTime"] = None
    directory.store_of(kind)[object_id] = obj
    body = {"@odata.context": ctx.context("directoryObjects/$entity"), "@odata.type": "#" + gb.TYPE_OF_KIND[kind]}
    body.update(copy.deepcopy(obj))
    return Response(200, body)


def route_directory_objects(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    """``GET /directoryObjects/{id}``: any user, group, application or service principal by id."""
    key, rest = gb.split_key(segments)
    if key is None or rest:
        raise gb.not_implemented(ctx)
    if ctx.method != "GET":
        raise gb.method_not_allowed()
    object_id = gb.guid_key(key.get("", ""))
    found = ctx.directory.directory_object(object_id)
    if found is None or not ctx.visible(object_id):
        ctx.require(gb.DIRECTORY_READ | gb.APP_READ | gb.USER_READ | gb.GROUP_READ)
        raise not_found(object_id)
    kind = found[0]
    ctx.require({"application": gb.APP_READ, "servicePrincipal": gb.APP_READ, "user": gb.USER_READ, "group": gb.GROUP_READ}[kind])
    gb.check_options(ctx, gb.ENTITY_OPTIONS)
    body = {"@odata.context": ctx.context("directoryObjects/$entity")}
    body.update(gb.directory_object_view(ctx, object_id))
    return Response(200, body)

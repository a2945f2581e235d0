"""App role assignments and delegated permission grants on the Graph surface (contract sections 1.5 and 5).

- ``POST /servicePrincipals/{resource}/appRoleAssignedTo`` (or ``/users|groups|servicePrincipals/{principal}/
  appRoleAssignments``) ``{principalId, resourceId, appRoleId}`` answers 201 with an id that is an opaque
  base64url string. The same assignment twice is 400 "Permission being assigned already exists on the
  object."; an ``appRoleId`` that is not an enabled role of the resource for that kind of principal is 400
  "Permission being assigned was not found on application." (the all-zero "Default Access" id only when the
  resource declares no app roles); a principal or resource still replicating is 400 "Not a valid reference
  update.". Writing needs AppRoleAssignment.ReadWrite.All and a read permission (Application.Read.All or
  Directory.Read.All).
- ``$filter`` on assignments: ``resourceId eq <guid>`` and ``principalDisplayName eq|startswith`` only.
- ``/oauth2PermissionGrants``: tenant-wide (``AllPrincipals``) or per-user (``Principal``) consent to delegated
  scopes of a resource; a second grant for the same client, resource and principal is 409.
"""
from __future__ import annotations

import copy

from . import graph_base as gb
from .directory import ZERO_GUID
from .graph_schema import UUID_RE
from .http import Response
from .odata import GraphError, bad_request, not_found

ASSIGNMENT = "microsoft.graph.appRoleAssignment"
GRANT = "microsoft.graph.oAuth2PermissionGrant"
ASSIGNMENT_READ_ONLY = ("id", "createdDateTime", "deletedDateTime", "principalDisplayName", "principalType")
KIND_COLLECTION = {"user": "users", "group": "groups", "servicePrincipal": "servicePrincipals"}
PRINCIPAL_READ = {"user": gb.USER_READ | gb.ASSIGNMENT_WRITE, "group": gb.GROUP_READ | gb.ASSIGNMENT_WRITE, "servicePrincipal": gb.ASSIGNMENT_READ}
NOT_VALID_REFERENCE = "Not a valid reference update."


def _find_principal(ctx: gb.Ctx, kind: str, key: dict) -> dict:
    if kind == "servicePrincipal":
        return gb.find_service_principal(ctx, key)
    if kind == "user":
        return gb.find_user(ctx, key)
    return gb.find_group(ctx, key)


def _assignments(ctx: gb.Ctx, field: str, object_id: str) -> list[dict]:
    return [a for a in gb.visible_items(ctx, ctx.directory.app_role_assignments) if a[field] == object_id]


def _one_assignment(ctx: gb.Ctx, field: str, object_id: str, assignment_id: str) -> dict:
    assignment = ctx.directory.app_role_assignments.get(assignment_id)
    if assignment is None or assignment[field] != object_id or not ctx.visible(assignment_id):
        raise not_found(assignment_id)
    return assignment


def _collection(ctx: gb.Ctx, *, field: str, owner: dict, fragment: str, rest: list[gb.Segment], create) -> Response:
    """The shared shape of appRoleAssignedTo and appRoleAssignments: list, $count, create, get, delete."""
    directory = ctx.directory
    if not rest:
        if ctx.method == "GET":
            return Response(200, gb.list_body(ctx, _assignments(ctx, field, owner["id"]), gb.ASSIGNMENTS, fragment))
        if ctx.method == "POST":
            return create()
        raise gb.method_not_allowed()
    if rest[0].name == "$count" and len(rest) == 1:
        if ctx.method != "GET":
            raise gb.method_not_allowed()
        return gb.count_response(ctx, _assignments(ctx, field, owner["id"]), gb.ASSIGNMENTS)
    if len(rest) != 1:
        raise gb.segment_not_found(rest[1].name)
    assignment = _one_assignment(ctx, field, owner["id"], rest[0].name)
    if ctx.method == "GET":
        return Response(200, gb.entity_body(ctx, assignment, fragment, ASSIGNMENT))
    if ctx.method == "DELETE":
        ctx.require(gb.ASSIGNMENT_WRITE)
        gb.check_options(ctx, frozenset())
        del directory.app_role_assignments[assignment["id"]]
        return gb.no_content()
    raise gb.method_not_allowed()


def assigned_to_route(ctx: gb.Ctx, key: dict, rest: list[gb.Segment]) -> Response:
    """``/servicePrincipals/{resource}/appRoleAssignedTo[/{id}]``."""
    ctx.require(gb.ASSIGNMENT_READ)
    resource = gb.find_service_principal(ctx, key)
    fragment = "servicePrincipals('%s')/appRoleAssignedTo" % resource["id"]
    return _collection(ctx, field="resourceId", owner=resource, fragment=fragment, rest=rest,
                       create=lambda: create_assignment(ctx, fragment, resource=resource))


def principal_assignments_route(ctx: gb.Ctx, kind: str, key: dict, rest: list[gb.Segment]) -> Response:
    """``/users|groups|servicePrincipals/{principal}/appRoleAssignments[/{id}]``."""
    ctx.require(PRINCIPAL_READ[kind])
    principal = _find_principal(ctx, kind, key)
    fragment = "%s('%s')/appRoleAssignments" % (KIND_COLLECTION[kind], principal["id"])
    return _collection(ctx, field="principalId", owner=principal, fragment=fragment, rest=rest,
                       create=lambda: create_assignment(ctx, fragment, principal=principal))


def create_assignment(ctx: gb.Ctx, fragment: str, *, resource: dict | None = None, principal: dict | None = None) -> Response:
    directory = ctx.directory
    ctx.require(gb.ASSIGNMENT_WRITE)
    ctx.require(gb.APP_READ)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    gb.validate_body(ASSIGNMENT, body, read_only=ASSIGNMENT_READ_ONLY)
    for name in ("principalId", "resourceId", "appRoleId"):
        if not body.get(name):
            raise gb.invalid_value(name, "AppRoleAssignment", "%s is required" % name)
    principal_id, resource_id, role_id = body["principalId"].lower(), body["resourceId"].lower(), body["appRoleId"].lower()
    if resource is not None and resource_id != resource["id"]:
        raise gb.invalid_value("resourceId", "AppRoleAssignment", "resourceId must be the service principal of the URL")
    if principal is not None and principal_id != principal["id"]:
        raise gb.invalid_value("principalId", "AppRoleAssignment", "principalId must be the principal of the URL")
    found = directory.directory_object(principal_id)
    if found is None or found[0] not in ("user", "group", "servicePrincipal"):
        raise not_found(principal_id)
    principal_kind, principal_obj = found
    if not ctx.visible(principal_id):
        raise bad_request(NOT_VALID_REFERENCE)
    resource_obj = directory.service_principals.get(resource_id)
    if resource_obj is None:
        raise not_found(resource_id)
    if not ctx.visible(resource_id):
        raise bad_request(NOT_VALID_REFERENCE)
    roles = resource_obj.get("appRoles") or []
    member_type = "Application" if principal_kind == "servicePrincipal" else "User"
    if role_id == ZERO_GUID:
        valid = not roles
    else:
        valid = any(r["id"] == role_id and r.get("isEnabled", True) and member_type in (r.get("allowedMemberTypes") or []) for r in roles)
    if not valid:
        raise bad_request("Permission being assigned was not found on application.")
    for other in directory.app_role_assignments.values():
        if (other["principalId"], other["resourceId"], other["appRoleId"]) == (principal_id, resource_id, role_id):
            raise bad_request("Permission being assigned already exists on the object.")
    assignment = directory.new_app_role_assignment(principal_kind, principal_obj, resource_obj, role_id)
    return Response(201, dict({"@odata.context": ctx.context(fragment + "/$entity")}, **copy.deepcopy(assignment)))


# ---------------------------------------------------------------------------------------------- oauth2PermissionGrants

def route_grants(ctx: gb.Ctx, segments: list[gb.Segment]) -> Response:
    directory = ctx.directory
    key, rest = gb.split_key(segments)
    response = gb.collection_request(ctx, key, rest, read=gb.GRANT_READ, spec=gb.GRANTS, fragment="oauth2PermissionGrants", create=create_grant,
                                     items=lambda: gb.visible_items(ctx, directory.oauth2_permission_grants))
    if response is not None:
        return response
    grant_id = key.get("")
    if grant_id is None or rest:
        raise gb.segment_not_found(rest[0].name if rest else segments[0].name)
    grant = directory.oauth2_permission_grants.get(grant_id)
    if grant is None or not ctx.visible(grant_id):
        if ctx.method in ("GET", "PATCH", "DELETE"):
            ctx.require(gb.GRANT_READ if ctx.method == "GET" else gb.GRANT_WRITE)
        raise not_found(grant_id)
    if ctx.method == "GET":
        ctx.require(gb.GRANT_READ)
        return Response(200, gb.entity_body(ctx, grant, "oauth2PermissionGrants", GRANT))
    if ctx.method == "PATCH":
        ctx.require(gb.GRANT_WRITE)
        gb.check_options(ctx, frozenset())
        body = gb.require_body(ctx)
        gb.validate_body(GRANT, body, read_only=("id", "clientId", "consentType", "principalId", "resourceId"))
        if "scope" in body:
            grant["scope"] = _checked_scope(directory.service_principals.get(grant["resourceId"]), body["scope"])
        return gb.no_content()
    if ctx.method == "DELETE":
        ctx.require(gb.GRANT_WRITE)
        gb.check_options(ctx, frozenset())
        del directory.oauth2_permission_grants[grant_id]
        return gb.no_content()
    raise gb.method_not_allowed()


def _checked_scope(resource: dict | None, scope) -> str:
    """Space-separated delegated permissions; each must be an enabled scope of the resource."""
    if not isinstance(scope, str):
        raise gb.invalid_value("scope", "OAuth2PermissionGrant")
    known = {s["value"] for s in (resource or {}).get("oauth2PermissionScopes") or [] if s.get("isEnabled", True)}
    unknown = [s for s in scope.split() if s not in known]
    if unknown:
        raise gb.invalid_value("scope", "OAuth2PermissionGrant", "not a delegated permission of the resource: %s" % ", ".join(unknown))
    return scope


def create_grant(ctx: gb.Ctx) -> Response:
    """POST /oauth2PermissionGrants {clientId, consentType, principalId, resourceId, scope}: 201."""
    directory = ctx.directory
    ctx.require(gb.GRANT_WRITE)
    gb.check_options(ctx, frozenset())
    body = gb.require_body(ctx)
    gb.validate_body(GRANT, body, read_only=("id",))
    for name in ("clientId", "consentType", "resourceId"):
        if not body.get(name):
            raise gb.invalid_value(name, "OAuth2PermissionGrant", "%s is required" % name)
    consent = body["consentType"]
    if consent not in ("AllPrincipals", "Principal"):
        raise gb.invalid_value("consentType", "OAuth2PermissionGrant", "AllPrincipals or Principal")
    principal_id = body.get("principalId")
    if consent == "Principal" and not principal_id:
        raise gb.invalid_value("principalId", "OAuth2PermissionGrant", "principalId is required when consentType is Principal")
    if consent == "AllPrincipals" and principal_id:
        raise gb.invalid_value("principalId", "OAuth2PermissionGrant", "principalId must be null when consentType is AllPrincipals")
    ids = {}
    for name in ("clientId", "resourceId"):
        value = str(body[name]).lower()
        if not UUID_RE.match(value) or value not in directory.service_principals:
            raise not_found(body[name])
        if not ctx.visible(value):
            raise bad_request(NOT_VALID_REFERENCE)
        ids[name] = value
    if principal_id:
        principal_id = str(principal_id).lower()
        if principal_id not in directory.users:
            raise not_found(body["principalId"])
        if not ctx.visible(principal_id):
            raise bad_request(NOT_VALID_REFERENCE)
    scope = _checked_scope(directory.service_principals[ids["resourceId"]], body.get("scope") or "")
    for other in directory.oauth2_permission_grants.values():
        if (other["clientId"], other["resourceId"], other["consentType"], other.get("principalId")) == \
                (ids["clientId"], ids["resourceId"], consent, principal_id or None):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
    grant = {"id": directory.new_opaque_id(ids["clientId"]), "clientId": ids["clientId"], "consentType": consent,
             "principalId": principal_id or None, "resourceId": ids["resourceId"], "scope": scope}
    directory.register(directory.oauth2_permission_grants, grant)
    return Response(201, dict({"@odata.context": ctx.context("oauth2PermissionGrants/$entity")}, **copy.deepcopy(grant)))


def client_grants_route(ctx: gb.Ctx, key: dict) -> Response:
    """``GET /servicePrincipals/{id}/oauth2PermissionGrants``: grants where the service principal is the client."""
    if ctx.method != "GET":
        raise gb.method_not_allowed()
    ctx.require(gb.GRANT_READ | gb.APP_READ)
    sp = gb.find_service_principal(ctx, key)
    items = [g for g in gb.visible_items(ctx, ctx.directory.oauth2_permission_grants) if g["clientId"] == sp["id"]]
    return Response(200, gb.list_body(ctx, items, gb.GRANTS, "oauth2PermissionGrants"))

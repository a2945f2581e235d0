# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a preflight needs to know about the tenant, read in as few requests as possible.

* the tenant's id and verified domains (``GET /organization``);
* which Microsoft Graph permissions the automation identity holds: read from the access token's
  claims (``roles`` for an application token, ``scp`` for a delegated one), so it costs no request;
* whether named groups and users exist, and the app registration with a given unique name (its app
  roles and client secrets, never a value), all in one ``$batch`` with the organization read;
* on request (offboarding), each user's ``employeeType`` (the mark of who created it) and app role assignments, in the
  same ``$batch``; the app's service principal (to tell its assignments from others) in a second round, only when a
  user has an assignment;
* when the app does not exist, whether a deleted app registration holds its unique name (a soft-deleted app keeps it
  for 30 days, so creating the app would fail half-way) and which apps without a unique name carry the display name
  (``entra_app`` would adopt one of them), in a second round that only a missing app costs.
"""

import base64
import json

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.urls import entity_path, filter_eq, filter_query, key_path
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import is_guid
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import describe

ORGANIZATION_REQUEST = {"id": "organization", "method": "GET", "url": "/organization?$select=id,displayName,verifiedDomains"}
APP_SELECT = "id,appId,displayName,uniqueName,appRoles,passwordCredentials"
USER_SELECT = "id,userPrincipalName,displayName,accountEnabled"
USER_DETAILS_SELECT = USER_SELECT + ",employeeType"
ASSIGNMENT_SELECT = "id,resourceId,resourceDisplayName,appRoleId"
DELETED_APP_SELECT = "id,appId,displayName,uniqueName,deletedDateTime"
CANDIDATE_APP_SELECT = "id,appId,displayName,uniqueName"


def token_claims(token):
    """The claims of a JSON Web Token, without verifying it (the token is only read, never trusted for anything); {} if opaque."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def identity_from_claims(claims):
    """Who the token speaks for and what it may do: permissions, their kind (application, delegated or unknown)."""
    roles = claims.get("roles")
    scopes = claims.get("scp")
    if isinstance(roles, list) and not scopes:
        kind, permissions = "application", sorted(str(role) for role in roles)
    elif isinstance(scopes, str) and scopes.strip():
        kind, permissions = "delegated", sorted(scopes.split())
    elif claims.get("idtyp") == "app" or (claims and "roles" not in claims and "scp" not in claims and claims.get("oid")):
        kind, permissions = "application", []
    else:
        kind, permissions = "unknown", []
    return {
        "kind": kind,
        "permissions": permissions,
        "app_id": claims.get("appid") or claims.get("azp"),
        "object_id": claims.get("oid"),
        "display_name": claims.get("app_displayname"),
        "tenant_id": claims.get("tid"),
    }


def group_request(index, name):
    """A batch request that finds a group by object id or display name."""
    if is_guid(name):
        url = filter_query(entity_path("/groups", name.lower()), {"$select": "id,displayName"})
    else:
        url = filter_query("/groups", {"$filter": filter_eq("displayName", name), "$select": "id,displayName"})
    return {"id": "group-%d" % index, "method": "GET", "url": url}


def user_request(index, name, details=False):
    """A batch request that finds a user by object id or user principal name (with ``details``: also its employeeType)."""
    return {"id": "user-%d" % index, "method": "GET",
            "url": filter_query(entity_path("/users", name), {"$select": USER_DETAILS_SELECT if details else USER_SELECT})}


def user_assignments_request(index, name):
    """A batch request for the app role assignments of a user (by object id or user principal name)."""
    return {"id": "user-assignments-%d" % index, "method": "GET",
            "url": filter_query(entity_path("/users", name, "appRoleAssignments"), {"$select": ASSIGNMENT_SELECT})}


def service_principal_request(app_id):
    """A batch request for the service principal of an app (``appId`` alternate key)."""
    return {"id": "app-sp", "method": "GET", "url": filter_query(key_path("/servicePrincipals", "appId", app_id.lower()), {"$select": "id,appId"})}


def deleted_app_request():
    """A batch request for the deleted app registrations (30 days' worth, usually few: one page of up to 999).

    Graph documents no ``$filter`` on ``uniqueName``, so they are matched here; this also finds a deleted app that was
    renamed before it was deleted."""
    return {"id": "deleted-app", "method": "GET", "url": "/directory/deletedItems/microsoft.graph.application?$select=%s&$top=999" % DELETED_APP_SELECT}


def candidate_apps_request(display_name):
    """A batch request for the app registrations with this display name (those without a unique name could be adopted)."""
    return {"id": "candidate-apps", "method": "GET",
            "url": filter_query("/applications", {"$filter": filter_eq("displayName", display_name), "$select": CANDIDATE_APP_SELECT})}


def app_request(unique_name):
    """A batch request that reads the app registration with this unique name (a Graph alternate key)."""
    return {"id": "app", "method": "GET", "url": filter_query(key_path("/applications", "uniqueName", unique_name), {"$select": APP_SELECT})}


def app_result(unique_name, result, now):
    """``{unique_name, found, app_id, object_id, display_name, app_roles, secrets}`` from the app read (secrets: no values)."""
    if _is_error(result):
        if result.status == 404:
            return {"unique_name": unique_name, "found": False, "app_id": None, "object_id": None, "display_name": None,
                    "app_roles": [], "secrets": []}
        raise result
    roles = [{"value": role.get("value"), "display_name": role.get("displayName"), "enabled": role.get("isEnabled"), "id": role.get("id"),
              "allowed_member_types": role.get("allowedMemberTypes") or []}
             for role in result.get("appRoles") or []]
    secrets = sorted((describe(credential, now) for credential in result.get("passwordCredentials") or []),
                     key=lambda item: (item.get("end_date") or "", item.get("start_date") or "", (item.get("key_id") or "").lower()))
    return {"unique_name": unique_name, "found": True, "app_id": result.get("appId"), "object_id": result.get("id"),
            "display_name": result.get("displayName"), "app_roles": roles, "secrets": secrets}


def group_result(name, result):
    """``{name, found, id, display_name, matches}`` from a group lookup's result (a body or a GraphError)."""
    if _is_error(result):
        if result.status == 404:
            return {"name": name, "found": False, "id": None, "display_name": None, "matches": 0}
        raise result
    items = result.get("value") if isinstance(result, dict) and "value" in result else [result]
    items = [item for item in items if item]
    found = items[0] if len(items) == 1 else None
    return {"name": name, "found": len(items) == 1, "id": found and found.get("id"), "display_name": found and found.get("displayName"),
            "matches": len(items), "ids": [item.get("id") for item in items] if len(items) > 1 else []}


def user_result(name, result, details=False):
    """``{name, found, id, user_principal_name, account_enabled}`` from a user lookup's result (with ``details``: employee_type)."""
    if _is_error(result):
        if result.status == 404:
            found = {"name": name, "found": False, "id": None, "user_principal_name": None, "account_enabled": None}
            return dict(found, employee_type=None, assignments=[]) if details else found
        raise result
    found = {"name": name, "found": True, "id": result.get("id"), "user_principal_name": result.get("userPrincipalName"),
             "account_enabled": result.get("accountEnabled")}
    return dict(found, employee_type=result.get("employeeType"), assignments=[]) if details else found


def assignments_result(result, next_page):
    """``[{id, resource_id, resource_display_name, app_role_id}]`` from a user's appRoleAssignments (a missing user has none).

    ``next_page(url)`` returns the items of the further pages of ``@odata.nextLink``."""
    if _is_error(result):
        if result.status == 404:
            return []
        raise result
    items = list((result or {}).get("value") or [])
    if (result or {}).get("@odata.nextLink"):
        items.extend(next_page(result["@odata.nextLink"]))
    return [{"id": item.get("id"), "resource_id": (item.get("resourceId") or "").lower(), "resource_display_name": item.get("resourceDisplayName"),
             "app_role_id": item.get("appRoleId")} for item in items]


def mark_other_assignments(users, service_principal_id):
    """Per user, ``assigned_elsewhere``: its assignments to any resource but ``service_principal_id`` (the instance's own app)."""
    own = (service_principal_id or "").lower()
    for user in users:
        user["service_principal_id"] = service_principal_id
        user["assigned_elsewhere"] = [item for item in user["assignments"] if item["resource_id"] != own]
    return users


def service_principal_id_result(result):
    """The object id of the app's service principal, or None when it has none."""
    if _is_error(result):
        if result.status == 404:
            return None
        raise result
    return (result or {}).get("id")


def deleted_apps_result(result, unique_name, next_page):
    """``[{id, app_id, display_name, deleted}]`` of the deleted app registrations that hold ``unique_name`` (case-insensitive).

    ``next_page(url)`` returns the items of the further pages of ``@odata.nextLink``."""
    if _is_error(result):
        raise result
    items = list((result or {}).get("value") or [])
    if (result or {}).get("@odata.nextLink"):
        items.extend(next_page(result["@odata.nextLink"]))
    return [{"id": item.get("id"), "app_id": item.get("appId"), "display_name": item.get("displayName"), "deleted": item.get("deletedDateTime")}
            for item in items if (item.get("uniqueName") or "").lower() == unique_name.lower()]


def adoptable_apps_result(result):
    """``[{id, app_id, display_name}]`` of the app registrations of the display name without a unique name (entra_app adopts one such app)."""
    if _is_error(result):
        raise result
    return [{"id": item.get("id"), "app_id": item.get("appId"), "display_name": item.get("displayName")}
            for item in (result or {}).get("value") or [] if not item.get("uniqueName")]


def organization_result(result):
    """``(tenant_id, display_name, verified domain names, default domain)`` from ``GET /organization``."""
    if _is_error(result):
        raise result
    organizations = result.get("value") if isinstance(result, dict) and "value" in result else [result]
    organization = (organizations or [{}])[0] or {}
    domains = organization.get("verifiedDomains") or []
    names = [domain.get("name") for domain in domains if domain.get("name")]
    default = next((domain.get("name") for domain in domains if domain.get("isDefault")), names[0] if names else None)
    return organization.get("id"), organization.get("displayName"), names, default


def _is_error(result):
    return isinstance(result, Exception)

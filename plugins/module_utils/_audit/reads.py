# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the audit reads of one instance's app in Microsoft Entra ID (``entra_sso_audit_info``): three requests.

1. the app by its unique name (settings and client secret metadata, never a value);
2. one ``$batch``: its service principal (by ``appId``) and the app's owners;
3. who is assigned to the service principal (``appRoleAssignedTo``).
Reads only. Findings are decided on the controller (``_audit/findings.py``), from this and SmartTrace's answer.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import (
    SP_SELECT,
    app_lookup_request,
    credentials_view,
    read_many,
    select,
    sp_path,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import settings

OWNER_SELECT = ("id", "displayName", "userPrincipalName", "appId")
ASSIGNMENT_SELECT = ("id", "principalId", "principalDisplayName", "principalType", "appRoleId")
AUDIT_FIELDS = ("display_name", "unique_name", "app_id", "object_id", "service_principal_id", "tenant_id", "redirect_uris", "logout_url",
                "id_token_issuance", "access_token_issuance", "app_role_assignment_required", "gallery_template_id")


def owner_view(owner):
    kind = (owner.get("@odata.type") or "").rsplit(".", 1)[-1] or ("servicePrincipal" if owner.get("appId") else "user")
    return {"id": owner.get("id"), "type": kind, "display_name": owner.get("displayName"),
            "user_principal_name": owner.get("userPrincipalName")}


def assignment_view(assignment, roles):
    return {"principal_id": assignment.get("principalId"), "principal_type": assignment.get("principalType"),
            "display_name": assignment.get("principalDisplayName"),
            "app_role": roles.get(assignment.get("appRoleId"), "Default Access")}


def read_audit(graph, unique_name, now=None):
    """The app (or None when it does not exist), its owners and who is assigned, in three requests."""
    app = read_many(graph, [app_lookup_request(unique_name=unique_name)])[0]
    if app is None:
        return {"found": False, "app": None, "owners": [], "assigned": []}
    sp, owners = read_many(graph, [(sp_path(app_id=app["appId"]), select(SP_SELECT)),
                                   (entity_path("/applications", app["id"], "owners"), select(OWNER_SELECT))])
    assigned = []
    if sp is not None:
        answer = graph.list_all(entity_path("/servicePrincipals", sp["id"], "appRoleAssignedTo"), params=select(ASSIGNMENT_SELECT))
        roles = dict((role.get("id"), role.get("value") or role.get("displayName")) for role in sp.get("appRoles") or [])
        assigned = sorted((assignment_view(item, roles) for item in answer), key=lambda item: (item["principal_type"] or "", item["display_name"] or ""))
    view = settings(app, sp)
    view = dict((key, view.get(key)) for key in AUDIT_FIELDS)
    view["credentials"] = credentials_view(app, now)
    view["created"] = app.get("createdDateTime")
    owner_items = (owners or {}).get("value") or []
    return {"found": True, "app": view, "owners": sorted((owner_view(item) for item in owner_items), key=lambda item: item["display_name"] or ""),
            "assigned": assigned}

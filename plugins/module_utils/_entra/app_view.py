# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app registration as the modules show it: ``settings`` (the flat view ``entra_app`` returns and diffs) and
``read_app_infos`` (what ``entra_app_info`` reads and returns).

Apart from ``_entra/app_registration.py`` (which plans and writes) so that ``entra_app_info`` compiles only this much:
a task's module code is compiled anew from the AnsiballZ payload on every task (docs/performance.md).
"""


from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import APP, APP_PROPERTIES, SP, graph_scope_ids
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path, filter_eq
from ansible_collections.smarttrace.sso.plugins.module_utils._common.property_table import view
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import (
    GRAPH_APP_ID,
    GRAPH_SP_SELECT,
    SP_SELECT,
    app_lookup_request,
    credentials_view,
    read_many,
    select,
    sp_path,
)


# ---------------------------------------------------------------------------------------------- owners

EXPAND = {"$expand": "owners"}
EXPAND_LIMIT = 20  # Graph returns at most 20 expanded directory objects, without a next link
USER_TYPE = "#microsoft.graph.user"
SP_TYPE = "#microsoft.graph.servicePrincipal"


def owner(obj, kind=None):
    """An owner as the module handles it: ``id``, ``kind`` (user, servicePrincipal, other) and ``name`` (UPN, appId or id)."""
    kind = kind or {USER_TYPE: "user", SP_TYPE: "servicePrincipal"}.get(obj.get("@odata.type"), "other")
    name = obj.get("userPrincipalName") if kind == "user" else obj.get("appId") if kind == "servicePrincipal" else None
    return {"id": obj["id"].lower(), "kind": kind, "name": name or obj["id"].lower()}


def expanded_owners(graph, collection, obj):
    """The owners of ``obj`` (read with ``$expand=owners``); all of them read again when Graph may have cut the list at 20."""
    if obj is None or obj.get("id") is None:
        return []
    found = obj.get("owners")
    if found is None or len(found) >= EXPAND_LIMIT:
        found = graph.list_all(entity_path(collection, obj["id"], "owners"))
    return [owner(item) for item in found]


# ---------------------------------------------------------------------------------------------- the view

def settings(app, sp, graph_sp=None, grant=None, grant_known=False, tenant_id=None, owners=None, sp_owners=None):
    """The app's settings as the module returns and diffs them (lists sorted, so the diff shows only real changes).

    ``owners`` and ``sp_owners`` (owner dicts of ``_app_owners``) are shown only when known (the option ``owners`` given).
    """
    if app is None:
        return {}
    return view(APP_PROPERTIES, {APP: app, SP: sp, "graph_sp": graph_sp, "grant": grant, "grant_known": grant_known, "tenant_id": tenant_id,
                                 "owners": owners, "sp_owners": sp_owners})


# ---------------------------------------------------------------------------------------------- entra_app_info

COUNT_HEADERS = {"ConsistencyLevel": "eventual"}


def read_app_infos(graph, app_id=None, unique_name=None, display_name=None):
    """Every app matching the lookup, with its service principal, credentials and number of assignments.

    Two requests by ``app_id`` or ``display_name`` (the service principals carry the apps' display names):
    the apps with their service principals, then the assignment counts; by ``unique_name`` three (the app,
    its service principal, the count). The Microsoft Graph service principal (its delegated permission
    names, a large object) travels in the second round, and only when an app asks for Graph permissions.
    """
    path, query = app_lookup_request(app_id, unique_name, display_name if not (app_id or unique_name) else None)
    requests = [(path, dict(query, **EXPAND))]  # owners come with the app and its service principal
    if app_id:
        requests.append((sp_path(app_id=app_id), dict(select(SP_SELECT), **EXPAND)))
    elif display_name and not unique_name:
        requests.append(("/servicePrincipals", dict(select(SP_SELECT), **dict(EXPAND, **{"$filter": filter_eq("displayName", display_name)}))))
    answers = read_many(graph, requests)
    first = answers[0]
    apps = (first or {}).get("value", []) if first is not None and "value" in first else ([first] if first else [])
    if (app_id or unique_name) and display_name:
        apps = [app for app in apps if app.get("displayName") == display_name]
    sps = {}
    if len(answers) == 2 and answers[1] is not None:
        found = answers[1].get("value", [answers[1]]) if "value" in answers[1] else [answers[1]]
        sps = dict((sp.get("appId"), sp) for sp in found)
    missing = [app["appId"] for app in apps if app["appId"] not in sps]
    # the Graph service principal joins the first read that follows: of the missing service principals, else of the counts
    graph_sp_read = [(sp_path(app_id=GRAPH_APP_ID), select(GRAPH_SP_SELECT))] if any(graph_scope_ids(app) for app in apps) else []
    with_missing, with_counts = (graph_sp_read, []) if missing else ([], graph_sp_read)
    answers = read_many(graph, [(sp_path(app_id=key), dict(select(SP_SELECT), **EXPAND)) for key in missing] + with_missing)
    graph_sp = answers.pop() if with_missing else None
    for app_key, sp in zip(missing, answers):
        if sp is not None:
            sps[app_key] = sp
    with_sp = [app for app in apps if app["appId"] in sps]
    counts = read_many(graph, [(entity_path("/servicePrincipals", sps[app["appId"]]["id"], "appRoleAssignedTo"),
                                {"$count": "true", "$top": "1", "$select": "id"}, COUNT_HEADERS) for app in with_sp] + with_counts)
    graph_sp = counts.pop() if with_counts else graph_sp
    count_of = dict((app["appId"], (answer or {}).get("@odata.count")) for app, answer in zip(with_sp, counts))
    infos = []
    for app in sorted(apps, key=lambda item: (item.get("createdDateTime") or "", item.get("id") or "")):   # Graph promises no order
        sp = sps.get(app["appId"])
        info = settings(app, sp, graph_sp, owners=expanded_owners(graph, "/applications", app),
                        sp_owners=expanded_owners(graph, "/servicePrincipals", sp) if sp is not None else None)
        info["service_principal"] = None if sp is None else {
            "id": sp.get("id"), "display_name": sp.get("displayName"), "account_enabled": sp.get("accountEnabled"),
            "app_role_assignment_required": sp.get("appRoleAssignmentRequired"), "tags": sorted(sp.get("tags") or []),
            "preferred_single_sign_on_mode": sp.get("preferredSingleSignOnMode")}
        info["created"] = app.get("createdDateTime")
        info["credentials"] = credentials_view(app)
        info["assignments_count"] = count_of.get(app["appId"])
        infos.append(info)
    return infos

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owners of an app registration and of its service principal (``entra_app``'s ``owners`` option).

An owner is named by a user principal name, a user's object id, or a service principal's application (client) id.
Reading costs no request of its own: the owners come with the app and the service principal (``$expand=owners`` on the
reads ``entra_app`` makes anyway), and the names to resolve go into the same ``$batch`` as ``$filter ... in (...)``
(at most 15 values each, Graph's limit). Graph returns at most 20 expanded objects without a next link: only an
object with 20 owners has its owners read again, whole.

Writes: ``POST /{applications|servicePrincipals}/{id}/owners/$ref`` with ``{"@odata.id": ".../directoryObjects/{id}"}``,
``DELETE .../owners/{id}/$ref``. An owner already there (400 ``Request_BadRequest``) is decided by reading the owners
again, never by the message; one already gone (404) is fine. The identity the module signs in as is never removed.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path, odata_string
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import (  # re-exports the owners' view  # pylint: disable=unused-import
    EXPAND,
    EXPAND_LIMIT,
    SP_TYPE,
    USER_TYPE,
    expanded_owners,
    owner,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import upn_problem

IN_LIMIT = 15  # values in one $filter ... in (...) on directory objects


def owner_problem(value):
    """Why ``value`` cannot name an owner, or None (no request made)."""
    if "@" in value:
        problem = upn_problem(value)
        return None if problem is None else "%r is not a user principal name: %s" % (value, problem)
    if not GUID_RE.match(value):
        return ("%r is neither a user principal name nor a GUID; name users by user principal name or object id, "
                "service principals by application (client) id" % value)
    return None


def _chunks(values):
    return [values[start:start + IN_LIMIT] for start in range(0, len(values), IN_LIMIT)]


def _in(prop, values):
    return "%s in (%s)" % (prop, ",".join(odata_string(value) for value in values))


def resolution_requests(values):
    """The GETs (for ``read_many``) that find the owners named in ``values``: users by UPN or id, service principals by appId."""
    upns = sorted(set(value.lower() for value in values if "@" in value))
    guids = sorted(set(value.lower() for value in values if "@" not in value))
    requests = [("/users", {"$filter": _in("userPrincipalName", chunk), "$select": "id,userPrincipalName"}) for chunk in _chunks(upns)]
    for chunk in _chunks(guids):
        requests.append(("/users", {"$filter": _in("id", chunk), "$select": "id,userPrincipalName"}))
        requests.append(("/servicePrincipals", {"$filter": _in("appId", chunk), "$select": "id,appId,displayName"}))
    return requests


def resolve(values, answers):
    """The owners named in ``values`` (in order, without duplicates) from the answers of ``resolution_requests``.

    Returns ``(owners, unknown)``: the values nothing answered for are listed in ``unknown``.
    """
    users_by_upn, users_by_id, sps_by_app_id = {}, {}, {}
    for answer in answers:
        for obj in (answer or {}).get("value") or []:
            if "appId" in obj:
                sps_by_app_id[obj["appId"].lower()] = owner(obj, "servicePrincipal")
            else:
                found = owner(obj, "user")
                users_by_id[found["id"]] = found
                users_by_upn[(obj.get("userPrincipalName") or "").lower()] = found
    owners, unknown, seen = [], [], set()
    for value in values:
        key = value.lower()
        found = users_by_upn.get(key) if "@" in value else users_by_id.get(key) or sps_by_app_id.get(key)
        if found is None:
            unknown.append(value)
        elif found["id"] not in seen:
            seen.add(found["id"])
            owners.append(found)
    return owners, unknown


def plan_owners(mode, wanted, current, keep_ids):
    """``(to add, to remove)``: owner dicts, per ``mode`` (exact, append, remove); ``keep_ids`` (the automation identity) are never removed."""
    current_ids = set(item["id"] for item in current)
    wanted_ids = set(item["id"] for item in wanted)
    if mode == "remove":
        return [], [item for item in current if item["id"] in wanted_ids and item["id"] not in keep_ids]
    add = [item for item in wanted if item["id"] not in current_ids]
    remove = [item for item in current if item["id"] not in wanted_ids and item["id"] not in keep_ids] if mode == "exact" else []
    return add, remove


def after_owners(current, add, remove):
    removed = set(item["id"] for item in remove)
    return [item for item in current if item["id"] not in removed] + list(add)


def reference(graph, object_id):
    """The ``$ref`` body that names a directory object."""
    return {"@odata.id": "%s/directoryObjects/%s" % (graph.graph_root, object_id)}


def add_request(graph, object_path, object_id):
    return {"method": "POST", "url": object_path + "/owners/$ref", "body": reference(graph, object_id)}


def remove_request(object_path, object_id):
    return {"method": "DELETE", "url": entity_path(object_path + "/owners", object_id) + "/$ref"}


def has_owner(graph, object_path, object_id):
    refs = graph.list_all(object_path + "/owners/$ref")
    return any(ref.get("@odata.id", "").rstrip("/").lower().endswith("/" + object_id) for ref in refs)


def write_fallback(graph, request, object_path, object_id):
    """What to do when an owner write in a ``$batch`` failed: an owner already there, or already gone, is what was wanted."""
    def fallback(error):
        if request["method"] == "DELETE" and error.status == 404:
            return
        if request["method"] == "POST" and error.status == 400 and has_owner(graph, object_path, object_id):
            return
        raise error
    return fallback


def owner_writes(graph, object_path, add, remove):
    """``(request, fallback)`` pairs for ``run_writes``: the owners to add and to remove on one object."""
    writes = []
    for item in add:
        request = add_request(graph, object_path, item["id"])
        writes.append((request, write_fallback(graph, request, object_path, item["id"])))
    for item in remove:
        request = remove_request(object_path, item["id"])
        writes.append((request, write_fallback(graph, request, object_path, item["id"])))
    return writes


def add_owners_to_new_object(graph, object_path, add, retry_on):
    """Add owners to an object just created, one at a time, retried while it replicates."""
    for item in add:
        request = add_request(graph, object_path, item["id"])
        try:
            graph.post(request["url"], request["body"], retry_on=retry_on)
        except GraphError as error:
            if error.status != 400 or not has_owner(graph, object_path, item["id"]):
                raise

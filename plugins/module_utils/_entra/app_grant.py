# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``'s ``admin_consent``: the tenant-wide (AllPrincipals) delegated grant on Microsoft Graph, read, planned and written.

The grant's scopes are exactly the Graph permissions the app requests. Graph behaviour relied on: docs/graph-facts.md, Consent.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import graph_scope_ids, scope_names
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path, not_a_valid_reference_update, not_found


def read_grant(graph, sp_id, graph_sp_id, retry_on=()):
    """The tenant-wide (AllPrincipals) delegated grant of the app's service principal on Microsoft Graph, or None."""
    grants = graph.list_all(entity_path("/servicePrincipals", sp_id, "oauth2PermissionGrants"), retry_on=retry_on)
    return next((grant for grant in grants if grant.get("consentType") == "AllPrincipals" and grant.get("resourceId") == graph_sp_id), None)


def plan_grant(params, result, current):
    """Tenant-wide consent: the grant's scopes are exactly the Graph permissions the app requests (none: no grant)."""
    consent = params.get("admin_consent")
    if consent is None:
        return
    wanted = sorted(set(scope_names(current.graph_sp, graph_scope_ids(result.app)))) if consent else []
    grant = current.grant
    have = sorted(set((grant or {}).get("scope", "").split()))
    scope = " ".join(wanted)
    if wanted and grant is None:
        result.grant_op = ("create", scope)
    elif wanted and have != wanted:
        result.grant_op = ("patch", scope)
    elif not wanted and grant is not None:
        result.grant_op = ("delete", None)
    result.grant = dict(grant or {}, scope=scope) if wanted else None


def grant_request(operation, current, sp):
    """The write of a grant operation, as a ``$batch`` request."""
    kind, scope = operation
    if kind == "create":
        return {"method": "POST", "url": "/oauth2PermissionGrants",
                "body": {"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": current.graph_sp["id"], "scope": scope}}
    url = entity_path("/oauth2PermissionGrants", current.grant["id"])
    return {"method": "DELETE", "url": url} if kind == "delete" else {"method": "PATCH", "url": url, "body": {"scope": scope}}


def grant_fallback(error, graph, operation, current, sp):
    """A grant write that failed in a batch: a deleted grant already gone is fine; anything else is done again on its own."""
    if operation[0] == "delete" and error.status == 404:
        return
    if error.status in (400, 401, 403) and not not_a_valid_reference_update(error):
        raise error
    apply_grant(graph, operation, current, sp)


def apply_grant(graph, operation, current, sp):
    kind, scope = operation
    if kind == "delete":
        graph.delete(entity_path("/oauth2PermissionGrants", current.grant["id"]), missing_ok=True)
        return
    if kind == "patch":
        graph.patch(entity_path("/oauth2PermissionGrants", current.grant["id"]), {"scope": scope})
        return
    body = grant_request(operation, current, sp)["body"]

    def find_existing():
        try:
            return read_grant(graph, sp["id"], current.graph_sp["id"])
        except GraphError:
            return None

    try:
        graph.create("/oauth2PermissionGrants", body, find_existing=find_existing,
                     retry_on=(not_found, not_a_valid_reference_update))
    except GraphError as error:
        if error.status != 409:
            raise
        existing = read_grant(graph, sp["id"], current.graph_sp["id"], retry_on=(not_found,))
        if existing and sorted(existing.get("scope", "").split()) != sorted(scope.split()):
            graph.patch(entity_path("/oauth2PermissionGrants", existing["id"]), {"scope": scope})

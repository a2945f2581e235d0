# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reads of a preflight: the tenant, the automation identity, groups, users and the instance's app, in one ``$batch``
(a second round only when the first one's answers tell it is needed). Shared by ``entra_tenant_info`` and ``entra_sso_plan``."""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import closest_names, fold
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import utc_now
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant import (
    ORGANIZATION_REQUEST,
    adoptable_apps_result,
    app_request,
    app_result,
    assignments_result,
    candidate_apps_request,
    deleted_app_request,
    deleted_apps_result,
    group_request,
    group_result,
    identity_from_claims,
    mark_other_assignments,
    organization_result,
    service_principal_id_result,
    service_principal_request,
    token_claims,
    user_assignments_request,
    user_request,
    user_result,
)

READ_NEEDS = "Directory.Read.All (or Organization.Read.All, Group.Read.All, User.Read.All and Application.Read.All), with admin consent"


def read_failure_text(exc, token_provider):
    """What to say when the reads fail; a 403 names the identity, its permissions and what reading needs.
    ``token_provider``: a callable giving the access token, or None when none was built."""
    if getattr(exc, "status", None) != 403 or token_provider is None:
        return "could not read the tenant"
    identity = identity_from_claims(token_claims(token_provider()))
    return ("could not read the tenant: the automation identity %s (%s) holds the Microsoft Graph permissions %s; reading needs %s"
            % (identity["display_name"] or "", identity["app_id"] or "unknown app", ", ".join(identity["permissions"]) or "none", READ_NEEDS))


def send(graph, requests):
    """One request alone, several through $batch; one result (body or error) per request."""
    if len(requests) == 1:
        return [graph.get(requests[0]["url"])]
    return graph.batch(requests)


def second_round(graph, unique_name, display_name, app, users):
    """What only the first round's answers tell to be needed: the app's service principal (a user has assignments),
    or the deleted apps holding the unique name and the adoptable apps (the app does not exist)."""
    requests = []
    if app["found"] and any(user["assignments"] for user in users):
        requests.append(service_principal_request(app["app_id"]))
    if not app["found"] and display_name:
        requests += [deleted_app_request(), candidate_apps_request(display_name)]
    answers = dict(zip([request["id"] for request in requests], send(graph, requests) if requests else []))
    if users:
        app["service_principal_id"] = service_principal_id_result(answers["app-sp"]) if "app-sp" in answers else None
        mark_other_assignments(users, app["service_principal_id"])
    if "deleted-app" in answers:
        app["deleted_holders"] = deleted_apps_result(answers["deleted-app"], unique_name, graph.list_all)
        app["adoptable"] = adoptable_apps_result(answers["candidate-apps"])


def read_tenant(graph, token_provider, groups=(), users=(), unique_name=None, display_name=None, details=False, suggest=()):
    """The result of ``entra_tenant_info`` (without ``changed``): tenant_id, tenant_display_name, verified_domains,
    default_domain, identity, groups, users and, with ``unique_name``, app. Raises what Graph raised."""
    groups, users = list(groups), list(users)
    requests = [dict(ORGANIZATION_REQUEST)]
    requests += [group_request(index, name) for index, name in enumerate(groups)]
    requests += [user_request(index, name, details) for index, name in enumerate(users)]
    if details:
        requests += [user_assignments_request(index, name) for index, name in enumerate(users)]
    if unique_name:
        requests.append(app_request(unique_name))
    results = send(graph, requests)
    tenant_id, display, domains, default_domain = organization_result(results[0])
    rest = results[1:]
    group_results = [group_result(name, result) for name, result in zip(groups, rest[:len(groups)])]
    rest = rest[len(groups):]
    user_results = [user_result(name, result, details) for name, result in zip(users, rest[:len(users)])]
    rest = rest[len(users):]
    if details:
        for user, result in zip(user_results, rest[:len(users)]):
            user["assignments"] = assignments_result(result, graph.list_all)
        rest = rest[len(users):]
    app = app_result(unique_name, rest[0], utc_now()) if unique_name else None
    if app is not None:
        second_round(graph, unique_name, display_name, app, user_results if details else [])
    elif details:
        mark_other_assignments(user_results, None)
    for kind, collection, prop, found in (("groups", "/groups", "displayName", group_results),
                                          ("users", "/users", "userPrincipalName", user_results)):
        missing = [item for item in found if not item["found"] and not item.get("matches")]
        if kind in suggest and missing:
            closest = closest_names(graph, collection, prop, [item["name"] for item in missing])
            for item in missing:
                item["suggestions"] = closest.get(fold(item["name"]), [])
    identity = identity_from_claims(token_claims(token_provider()))
    result = dict(tenant_id=tenant_id, tenant_display_name=display, verified_domains=domains, default_domain=default_domain,
                  identity=identity, groups=group_results, users=user_results)
    if unique_name:
        result["app"] = app
    return result

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``: from the module's options to Graph writes, and the app's settings as the module shows them.

The steps, each a function, each concern a file: ``validate`` (``_app_validate``: every option, before any request) ->
``read_current`` (here: one ``$batch``: the app, its service principal, the Microsoft Graph service principal, and with
``likely_new`` the gallery template; then, only for ``admin_consent``, the tenant-wide grant) -> ``plan`` (``_app_plan``: what differs, from the property table
``_app_properties``; nothing when nothing differs) -> ``apply`` (``_app_apply``, skipped in check mode) -> ``settings``
(``_app_view``: the flat view returned and shown in the diff). This module re-exports them for ``entra_app``.

Graph behaviour relied on: docs/graph-facts.md: Applications, Service principals, Idempotency, Replication.
"""

# pylint: disable=unused-import
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import (
    GRAPH_APP_ID,
    GRAPH_SP_SELECT,
    SP_SELECT,
    AmbiguousApplicationError,
    app_lookup_request,
    get_service_principal,
    odata_string,
    one_application,
    read_many,
    select,
    sp_path,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_apply import apply, create_app
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_grant import grant_request, read_grant
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_plan import (
    Plan,
    merged_roles,
    plan,
    plan_owners,
    required_resource_access,
    roles_to_disable,
    scope_ids,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import LIST_MODES, SIGN_IN_AUDIENCES
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_validate import OptionError, derived_unique_name, validate
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_view import settings
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_owners as owners_
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path


#: Current.template_answer when the gallery template was not read with the app
NOT_READ = object()


class Current:
    """What Graph holds: the app, its service principal, the Graph service principal, the tenant-wide Graph grant.

    With the option ``owners``: the owners of the app and of the service principal, the owners the option names
    (resolved) and the ids never to remove (the identity the module signs in as); else all None.
    """

    def __init__(self, app=None, sp=None, graph_sp=None, grant=None, grant_read=False):
        self.app, self.sp, self.graph_sp, self.grant, self.grant_read = app, sp, graph_sp, grant, grant_read
        self.owners = self.sp_owners = self.wanted_owners = None
        self.keep_owner_ids = frozenset()
        #: the gallery template's answer from the same ``$batch`` (``likely_new``), else NOT_READ: resolve_template reads it then
        self.template_answer = NOT_READ


def read_current(graph, params, caller=None):
    """Read what the options need, in as few requests as possible (one when nothing is missing, two for admin_consent).

    With ``owners``, the app and its service principal come with their owners (``$expand``) and the owners to resolve
    travel in the same ``$batch``. ``caller`` (``object_id``, ``app_id``) is the identity the module signs in as.
    """
    app_id, unique_name, display_name = params.get("app_id"), params.get("unique_name"), params["display_name"]
    present = params["state"] == "present"
    with_owners = present and params.get("owners") is not None
    expand = owners_.EXPAND if with_owners else {}
    requests = [app_lookup_request(app_id, unique_name, display_name)]
    if unique_name and not app_id and present:
        requests.append(app_lookup_request(display_name=display_name))  # adoption of an app without uniqueName
    requests = [(path, dict(query, **expand)) for path, query in requests]
    sp_index = graph_index = None
    if present:
        sp_index = len(requests)
        if app_id:
            requests.append((sp_path(app_id=app_id), dict(select(SP_SELECT), **expand)))
        else:  # the service principal usually carries the app's display name: found in the same round trip
            requests.append(("/servicePrincipals", dict(select(SP_SELECT), **dict(expand, **{"$filter": "displayName eq %s" % odata_string(display_name)}))))
        graph_index = len(requests)
        requests.append((sp_path(app_id=GRAPH_APP_ID), select(GRAPH_SP_SELECT)))
    template_index = None
    if present and not app_id and params.get("gallery_template") and params.get("likely_new"):
        template_index = len(requests)  # the caller expects a new app: the template it needs travels with the app's read
        requests.append(template_request(params["gallery_template"]))
    owners_index = len(requests)
    if with_owners:
        requests.extend(owners_.resolution_requests(params["owners"]))
    answers = read_many(graph, requests, keep_errors=() if template_index is None else (template_index,))
    current = read_answers(graph, params, answers, sp_index, graph_index)
    if template_index is not None:
        current.template_answer = answers[template_index]  # an error in it matters only if the app must be created
    if with_owners:
        read_owners(graph, params, current, answers[owners_index:], caller or {})
    return current


def read_owners(graph, params, current, answers, caller):
    """The owners the option names (an unknown one is an error naming it), the current owners, the ids never to remove."""
    wanted, unknown = owners_.resolve(params["owners"], answers)
    if unknown:
        raise OptionError("owners: no user or service principal in the tenant is %s; name users by user principal name or object id "
                          "and service principals by application (client) id" % ", ".join(repr(value) for value in unknown))
    current.wanted_owners = wanted
    current.owners = owners_.expanded_owners(graph, "/applications", current.app)
    current.sp_owners = owners_.expanded_owners(graph, "/servicePrincipals", current.sp)
    keep = set([(caller.get("object_id") or "").lower()]) - set([""])
    keep.update(item["id"] for item in current.owners + current.sp_owners + wanted
                if item["kind"] == "servicePrincipal" and caller.get("app_id") and item["name"].lower() == caller["app_id"].lower())
    current.keep_owner_ids = frozenset(keep)
    if params["list_mode"] == "remove":
        kept = [item["name"] for item in wanted if item["id"] in keep]
        if kept:
            raise OptionError("owners: %s is the identity this module signs in as; it stays an owner of the apps it manages, "
                              "remove it from owners" % ", ".join(kept))


def read_answers(graph, params, answers, sp_index, graph_index):
    """The app, its service principal and the Graph service principal from the first ``$batch`` (and the grant, for admin_consent)."""
    app_id, unique_name, display_name = params.get("app_id"), params.get("unique_name"), params["display_name"]
    present = params["state"] == "present"
    app = one_application(answers[0], display_name)
    if app is None and unique_name and not app_id and present:
        candidates = [found for found in (answers[1] or {}).get("value") or [] if not found.get("uniqueName")]
        app = one_application({"value": candidates}, display_name)
    current = Current(app=app)
    if not present or app is None:
        current.graph_sp = answers[graph_index] if graph_index is not None else None
        return current
    sp_answer = answers[sp_index]
    if sp_answer is not None and "value" in sp_answer:
        sp_answer = next((sp for sp in sp_answer["value"] if sp.get("appId") == app["appId"]), None)
        if sp_answer is None:  # renamed service principal, or none: ask by appId
            sp_answer = get_service_principal(graph, app["appId"])  # owners, when asked for, read by expanded_owners
    current.sp, current.graph_sp = sp_answer, answers[graph_index]
    if params.get("admin_consent") is not None and current.sp is not None and current.graph_sp is not None:
        current.grant, current.grant_read = read_grant(graph, current.sp["id"], current.graph_sp["id"]), True
    return current


TEMPLATE_FIELDS = {"$select": "id,displayName,homePageUrl"}


def template_request(template):
    """The GET (path, params) that finds the gallery application by template id or by name."""
    if GUID_RE.match(template):
        return entity_path("/applicationTemplates", template.lower()), dict(TEMPLATE_FIELDS)
    return "/applicationTemplates", dict(TEMPLATE_FIELDS, **{"$filter": "displayName eq %s" % odata_string(template)})


def resolve_template(graph, template, answer=NOT_READ):
    """The gallery application (``id``, ``displayName``, ``homePageUrl``) by name (``SmartTrace``) or template id; exactly one must match.

    ``answer`` is the template's answer already read in ``read_current``'s ``$batch`` (``likely_new``): it is used as the
    separate GET's would be (a 404 by id is no template, any other error raises); a name matching more than one page of
    templates is read again whole. NOT_READ: the template is read here.
    """
    path, params = template_request(template)
    by_id = bool(GUID_RE.match(template))
    if isinstance(answer, GraphError) and by_id and answer.status == 404:
        answer = None
    if isinstance(answer, GraphError):
        raise answer
    if answer is NOT_READ or not by_id and (answer is None or "@odata.nextLink" in answer):
        if by_id:
            answer = graph.get_or_none(path, params=params)
        else:
            answer = {"value": graph.list_all(path, params=params)}
    found = ([answer] if answer else []) if by_id else answer.get("value") or []
    if len(found) != 1:
        raise OptionError("gallery_template: %s gallery application is %s %r; give its exact name or its template id"
                          % ("no" if not found else "more than one", "identified by" if by_id else "named", template))
    return found[0]


__all__ = ["AmbiguousApplicationError", "OptionError", "validate", "read_current", "resolve_template", "template_request", "plan", "apply", "settings",
           "derived_unique_name", "LIST_MODES", "SIGN_IN_AUDIENCES", "Current", "Plan", "create_app", "grant_request", "merged_roles",
           "plan_owners", "required_resource_access", "roles_to_disable", "scope_ids"]

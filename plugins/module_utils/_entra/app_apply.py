# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``'s writes: a plan (``_app_plan.Plan``) carried out, creates made safe to repeat.

Writes to an app and service principal that existed before go in one ``$batch`` (with the grant and the owners);
writes right after a create are sent one by one, retried while the new objects replicate. Errors are decided on
Graph's codes (``GraphError.code``, detail codes) or, where Graph gives only text, on ``_graph_client.message_kind``.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_grant import apply_grant, grant_fallback, grant_request
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_plan import after_instantiate, merge_app
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_validate import OptionError, derived_unique_name
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_owners as owners_
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ANOTHER_RUN_FIRST, ConcurrentRunError
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import (
    APP_SELECT,
    SP_SELECT,
    app_lookup_request,
    app_path,
    create_service_principal,
    select,
    sp_path,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import APP_ROLE_NOT_DISABLED, conflict_409, entity_path, message_kind, not_found

UNIQUE_NAME_ATTEMPTS = 5


def apply(graph, params, current, result):
    """Carry out ``result`` (a Plan); returns (app, service principal) as they are now (ids known).

    Writes to an app and service principal that existed before go in one ``$batch`` (with the grant);
    writes right after a create are sent one by one, retried while the new objects replicate.
    """
    app, sp = current.app, current.sp
    fresh = result.create_app is not None
    if fresh:
        if result.template_id:
            app, sp = instantiate(graph, result.template_id, result.create_app["displayName"])
            result.app_patch = after_instantiate(params, app, current.graph_sp, result.app.get("uniqueName"))
        else:
            app = create_app(graph, result.create_app, bool(params.get("unique_name")))
    app_url = app_path(object_id=app["id"])
    if result.disable_roles is not None:
        graph.patch(app_url, {"appRoles": result.disable_roles})
    if fresh:
        if result.app_patch and result.template_id:
            take_unique_name(graph, app_url, result.app_patch)
        elif result.app_patch:
            graph.patch(app_url, result.app_patch, retry_on=(not_found, conflict_409))
        if sp is not None and result.sp_patch:
            graph.patch(sp_path(object_id=sp["id"]), result.sp_patch, retry_on=(not_found,))
    else:
        def patch_app_again(error):  # the removal of a role may not see its disabling yet
            if not roles_not_disabled_yet(error):
                raise error
            graph.patch(app_url, result.app_patch, retry_on=(roles_not_disabled_yet,))

        writes = []
        if result.app_patch:
            writes.append(({"method": "PATCH", "url": app_url, "body": result.app_patch}, patch_app_again))
        if sp is not None and result.sp_patch:
            writes.append(({"method": "PATCH", "url": sp_path(object_id=sp["id"]), "body": result.sp_patch}, None))
        if result.grant_op and sp is not None:
            writes.append((grant_request(result.grant_op, current, sp), lambda error: grant_fallback(error, graph, result.grant_op, current, sp)))
        writes.extend(owners_.owner_writes(graph, app_url, result.owners_add, result.owners_remove))
        if sp is not None:
            writes.extend(owners_.owner_writes(graph, sp_path(object_id=sp["id"]), result.sp_owners_add, result.sp_owners_remove))
        run_writes(graph, writes)
    if fresh:  # owners of an app just created: one by one, while it replicates
        owners_.add_owners_to_new_object(graph, app_url, result.owners_add, retry_on=(not_found,))
    if result.create_sp is not None and sp is None:
        body = result.create_sp
        if result.sp_owners_add:  # bound in the create: no request of their own
            body = dict(body, **{"owners@odata.bind": [owners_.reference(graph, item["id"])["@odata.id"] for item in result.sp_owners_add]})
        sp = create_service_principal(graph, app["appId"], body)
        if result.grant_op:
            apply_grant(graph, result.grant_op, current, sp)
    else:
        if fresh and sp is not None:  # instantiated from the gallery
            owners_.add_owners_to_new_object(graph, sp_path(object_id=sp["id"]), result.sp_owners_add, retry_on=(not_found,))
        if result.grant_op and fresh:
            apply_grant(graph, result.grant_op, current, sp)
    return merge_app(app, result.app_patch), dict(sp or {}, **result.sp_patch)


def run_writes(graph, writes):
    """Send independent writes (one ``$batch`` when several); a failed one goes to its fallback, or is raised."""
    if not writes:
        return
    if len(writes) == 1:
        (write, fallback), = writes
        answers = []
        try:
            graph.request(write["method"], write["url"], body=write.get("body"))
        except GraphError as error:
            answers.append(error)
    else:
        answers = graph.batch([write for write, _fallback in writes])
    for answer, (write, fallback) in zip(answers, writes):
        if isinstance(answer, GraphError):
            if fallback is None:
                raise answer
            fallback(answer)


def roles_not_disabled_yet(error):
    """400: an app role removed in the same PATCH that disabled it (Graph says so only in words)."""
    return message_kind(error) == APP_ROLE_NOT_DISABLED


def create_app(graph, body, unique_name_given):
    """Create the app by upsert on its uniqueName: repeating it (timeout, 504, a second run while it replicates) never makes a second app.

    201 answers the new app; 204 means an app with that uniqueName existed already (still replicating,
    or renamed): it was updated and is read. A derived uniqueName still held by a deleted app is
    replaced by the next candidate.
    """
    for attempt in range(UNIQUE_NAME_ATTEMPTS):
        try:
            payload = dict((key, value) for key, value in body.items() if key != "uniqueName")  # the key is in the URL
            app = graph.request("PATCH", app_path(unique_name=body["uniqueName"]), body=payload, headers={"Prefer": "create-if-missing"})
        except GraphError as error:
            if not unique_name_held(error):
                raise
            if unique_name_given:
                raise OptionError("unique_name: %r is held by a deleted app registration; restore or permanently delete that app, "
                                  "or choose another unique_name" % body["uniqueName"])
            body = dict(body, uniqueName=derived_unique_name(body["displayName"], attempt + 1))
            continue
        if app is None:
            app = graph.get(app_path(unique_name=body["uniqueName"]), params=select(APP_SELECT), retry_on=(not_found,))
        return app
    raise OptionError("unique_name: every derived unique name for %r is held by a deleted app registration; set unique_name" % body["displayName"])


def take_unique_name(graph, app_url, patch):
    """The PATCH right after instantiate: the app takes its unique name (and its display name back from the claim name).

    When another app holds that unique name already, another run of this instance instantiated and named its app first
    (or, rarely, a deleted app holds it, which preflight reads would have named): the app this run has just instantiated
    (no unique name, nothing refers to it) is deleted with its service principal, and the run stops.
    """
    try:
        graph.patch(app_url, patch, retry_on=(not_found, conflict_409))
    except GraphError as error:
        if not unique_name_held(error):
            raise
        graph.delete(app_url, missing_ok=True)
        raise ConcurrentRunError("%s: its run added the app registration with the unique name %r first. This run deleted the gallery app it had "
                                 "added at the same moment (nothing refers to it) and stopped; run again when the other run has finished. (If no "
                                 "other run is under way, a deleted app registration holds that unique name: restore or permanently delete it, or "
                                 "choose another unique_name.)" % (ANOTHER_RUN_FIRST, patch.get("uniqueName")))


def unique_name_held(error):
    """400 with an ``ObjectConflict`` detail on ``uniqueName``: another app (or a deleted one) holds the unique name.

    Decided on the detail's code and target; a detail without a target counts, as the write that fails this way
    (the upsert by unique name, the PATCH giving it) sends no other unique property.
    """
    return error.status == 400 and any(detail.get("code") == "ObjectConflict" and (detail.get("target") or "uniqueName").lower() == "uniquename"
                                       for detail in error.details)


def instantiate(graph, template_id, display_name):
    """Add the gallery application: app and service principal in one call; after a lost answer, look before a second try."""
    def find_existing():
        try:
            found = graph.list_all(*app_lookup_request(display_name=display_name))
        except GraphError:
            return None
        found = [app for app in found if app.get("applicationTemplateId") == template_id]
        return {"application": found[0], "servicePrincipal": None} if len(found) == 1 else None

    answer = graph.create(entity_path("/applicationTemplates", template_id, "instantiate"), {"displayName": display_name}, find_existing=find_existing)
    app, sp = answer.get("application"), answer.get("servicePrincipal")
    if sp is None:
        sp = graph.get(sp_path(app_id=app["appId"]), params=select(SP_SELECT), retry_on=(not_found,))
    return app, sp

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service principal made an owner of app registrations (``entra_app_owner``); subpackage "entra".

An identity with ``Application.ReadWrite.OwnedBy`` may change only the apps it owns: this gives it existing apps. Reads: one
``$batch`` (the owner's service principal, each app with ``$expand=owners``). Writes: ``POST /applications/{id}/owners/$ref`` per app
the owner is missing from, retried while a new owner replicates; an owner already there (400) is decided by reading the owners
again (``_app_owners.has_owner``). Owners are never removed.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_owners import EXPAND, EXPAND_LIMIT, add_request, has_owner
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    entity_path,
    key_path,
    not_a_valid_reference_update,
    not_found,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_guid, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import found_or_none


class OwnerOptionError(ValueError):
    """Bad input or an object that does not exist; the message names the option and the fix."""


def check_options(params, check_mode):
    owner = params["owner_app_id"]
    if not is_guid(owner) and not (check_mode and is_known_after_run(owner)):
        raise OwnerOptionError("owner_app_id %r is not an application (client) ID: give the GUID of the service principal's app" % owner)
    wrong = [value for value in params["app_ids"] if not is_guid(value) and not (check_mode and is_known_after_run(value))]
    if wrong:
        raise OwnerOptionError("app_ids holds %s, not application (client) IDs: give the GUIDs of the app registrations" % ", ".join(map(repr, wrong)))


def ensure(graph, owner_app_id, app_ids, check_mode):
    """Make the service principal of ``owner_app_id`` an owner of each app of ``app_ids``; ``(changed, before, after, result)``."""
    app_ids = list(dict.fromkeys(value if is_known_after_run(value) else value.lower() for value in app_ids))
    new_apps = [app_id for app_id in app_ids if is_known_after_run(app_id)]  # check mode: an app that would be created has no owner yet
    existing = [app_id for app_id in app_ids if app_id not in new_apps]
    placeholder = is_known_after_run(owner_app_id)
    requests_ = [] if placeholder else [{"url": key_path("/servicePrincipals", "appId", owner_app_id), "params": {"$select": "id"}}]
    # the owners come with each app ($expand: Graph attaches navigation to key-segment paths only, not to /applications(appId=...))
    requests_ += [{"url": key_path("/applications", "appId", app_id), "params": dict(EXPAND, **{"$select": "id"})} for app_id in existing]
    answers = graph.batch(requests_) if requests_ else []
    owner_id = KNOWN_AFTER_RUN
    if not placeholder:
        owner = found_or_none(answers.pop(0))
        if owner is None:
            raise OwnerOptionError("owner_app_id: no service principal with application (client) ID %s in this tenant" % owner_app_id)
        owner_id = owner["id"]
    missing, missing_apps, object_ids = list(new_apps), [], {}
    for app_id, answer in zip(existing, answers):
        app = found_or_none(answer)
        if app is None:
            missing_apps.append(app_id)
            continue
        object_ids[app_id] = app["id"]
        if not _owns(graph, app, owner_id):
            missing.append(app_id)
    if missing_apps:
        raise OwnerOptionError("app_ids: no app registration with application (client) ID %s" % ", ".join(missing_apps))
    if missing and not check_mode:  # (no placeholder outside check mode: check_options)
        for app_id in missing:
            add_owner(graph, entity_path("/applications", object_ids[app_id]), owner_id)
    before = {"owned_apps": sorted(set(app_ids) - set(missing))}
    after = {"owned_apps": sorted(app_ids)}
    return bool(missing), before, after, dict(owner_app_id=owner_app_id, owner_id=owner_id, added=missing, app_ids=app_ids)


def _owns(graph, app, owner_id):
    """Whether ``owner_id`` owns ``app`` (read with ``$expand=owners``: at most 20 come, so a full app is read again, whole)."""
    owners = [item.get("id") for item in app.get("owners") or []]
    if owner_id in owners:
        return True
    if len(owners) < EXPAND_LIMIT or is_known_after_run(owner_id):
        return False
    return has_owner(graph, entity_path("/applications", app["id"]), owner_id)


def add_owner(graph, app_path, owner_id):
    request = add_request(graph, app_path, owner_id)
    try:
        graph.post(request["url"], request["body"], retry_on=(not_found, not_a_valid_reference_update), idempotent=False)
    except GraphError as error:
        if error.status != 400 or not has_owner(graph, app_path, owner_id):
            raise

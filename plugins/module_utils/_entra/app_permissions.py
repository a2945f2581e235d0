# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application permissions of an API granted to an app (``entra_app_permissions``); subpackage "entra".

An application permission is an app role of the API's service principal (``appRoles[]`` allowing ``Application``). It is
*requested* in the app registration's ``requiredResourceAccess`` (an entry per API, ``type: Role``) and *granted* with admin
consent as an ``appRoleAssignment`` of the app's service principal to the API's service principal.

Reads: one ``$batch`` (the API's service principal, the app, the app's service principal), then the app's assignments to
that API. Writes: ``PATCH /applications/{id}`` (only ``requiredResourceAccess``, only when its ``Role`` ids for the API
differ; other APIs' entries and the API's delegated ``Scope`` entries are kept), ``POST
/servicePrincipals/{api}/appRoleAssignedTo`` per missing permission, ``DELETE .../appRoleAssignedTo/{id}`` per extra one
(``exclusive``). Nothing is read or written for a check-mode placeholder app.
"""

import difflib

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    entity_path,
    key_path,
    not_a_valid_reference_update,
    not_found,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_guid, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline, wait_until
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import found_or_none

MICROSOFT_GRAPH = "00000003-0000-0000-c000-000000000000"
API_SELECT = "id,appId,displayName,appRoles"
APP_SELECT = "id,appId,displayName,requiredResourceAccess"
SP_SELECT = "id,appId"
# A grant naming a service principal created moments before may fail until it has replicated.
GRANT_RETRY_ON = (not_found, not_a_valid_reference_update)


class PermissionsOptionError(ValueError):
    """Bad input, found before any write; the message names the option and the fix."""


def check_options(params, check_mode):
    """Problems with the options that need no request (raises ``PermissionsOptionError``)."""
    app_id, api = params["app_id"], params["api"]
    if not is_guid(app_id) and not (check_mode and is_known_after_run(app_id)):
        raise PermissionsOptionError("app_id %r is not an application (client) ID: give the GUID of the app registration "
                                     "(entra_app returns it as app_id)" % app_id)
    if not is_guid(api):
        raise PermissionsOptionError("api %r is not an application (client) ID: give the GUID of the API, such as %s for Microsoft Graph"
                                     % (api, MICROSOFT_GRAPH))
    names = params["permissions"]
    blank = [name for name in names if not isinstance(name, str) or not name.strip()]
    if blank:
        raise PermissionsOptionError("permissions holds an empty name: give the API's application permissions by name, such as Directory.Read.All")
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise PermissionsOptionError("permissions names %s more than once: give each permission once" % ", ".join(duplicates))


def resolve_roles(api_sp, names):
    """``{name: app role id}`` for ``names`` among the API's enabled application roles; unknown names raise, listing them."""
    roles = dict((role.get("value"), role) for role in api_sp.get("appRoles") or []
                 if role.get("value") and "Application" in (role.get("allowedMemberTypes") or []) and role.get("isEnabled", True))
    unknown = [name for name in names if name not in roles]
    if unknown:
        label = api_sp.get("displayName") or api_sp.get("appId")
        folded = dict((name.lower(), name) for name in roles)

        def suggestion(name):
            close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.8)
            return "%s (did you mean %s?)" % (name, folded[close[0]]) if close else name
        raise PermissionsOptionError("permissions: %s offers no application permission %s; give the names of its application permissions "
                                     "(app roles), exact case, not delegated ones" % (label, ", ".join(suggestion(name) for name in unknown)))
    return dict((name, roles[name]["id"]) for name in names)


def role_names(api_sp):
    """``{app role id: name}`` for every app role of the API (to show grants by name)."""
    return dict((role["id"], role.get("value") or role["id"]) for role in api_sp.get("appRoles") or [] if role.get("id"))


def requested_role_ids(app, api_app_id):
    """The ``Role`` ids the app's ``requiredResourceAccess`` asks of the API."""
    ids = []
    for entry in app.get("requiredResourceAccess") or []:
        if (entry.get("resourceAppId") or "").lower() == api_app_id.lower():
            ids.extend(access["id"] for access in entry.get("resourceAccess") or [] if access.get("type") == "Role")
    return ids


def desired_required_access(app, api_app_id, wanted_ids, exclusive):
    """The whole ``requiredResourceAccess`` to PATCH: the API's entry with ``wanted_ids`` (plus, unless ``exclusive``, the Role ids
    it asks already) and its ``Scope`` entries; other APIs' entries unchanged."""
    entries, scopes, current = [], [], []
    for entry in app.get("requiredResourceAccess") or []:
        if (entry.get("resourceAppId") or "").lower() != api_app_id.lower():
            entries.append(entry)
            continue
        for access in entry.get("resourceAccess") or []:
            (current if access.get("type") == "Role" else scopes).append(access)
    roles = list(wanted_ids) if exclusive else [access["id"] for access in current] + [i for i in wanted_ids if i not in [a["id"] for a in current]]
    accesses = scopes + [{"id": role_id, "type": "Role"} for role_id in sorted(set(roles))]
    if accesses:
        entries.append({"resourceAppId": api_app_id, "resourceAccess": accesses})
    return entries


def plan(wanted, granted, requested, exclusive):
    """What to change: ``(to_grant ids, to_remove assignments, requested ids after)``.

    ``wanted``: ``{name: role id}``; ``granted``: the app's assignments to the API (``id``, ``appRoleId``); ``requested``: the
    Role ids its ``requiredResourceAccess`` asks of the API."""
    wanted_ids = list(wanted.values())
    have = set(assignment["appRoleId"] for assignment in granted)
    to_grant = [role_id for role_id in wanted_ids if role_id not in have]
    to_remove = [assignment for assignment in granted if assignment["appRoleId"] not in wanted_ids] if exclusive else []
    after = set(wanted_ids) | (set() if exclusive else set(requested))
    return to_grant, to_remove, sorted(after)


class AppPermissions:
    """The API, the app and their grants, read through one ``GraphClient``."""

    def __init__(self, graph, api_app_id, app_id, wait_timeout=120, sleep=None):
        self.graph = graph
        self.api_app_id = api_app_id
        self.app_id = app_id
        self.wait_timeout = wait_timeout
        self._sleep = sleep
        self.api_sp = self.app = self.sp = None

    def read(self):
        """The API's service principal, the app and its service principal: one ``$batch`` (only the API for a placeholder app)."""
        requests_ = [{"url": key_path("/servicePrincipals", "appId", self.api_app_id), "params": {"$select": API_SELECT}}]
        placeholder = is_known_after_run(self.app_id)
        if not placeholder:
            requests_ += [{"url": key_path("/applications", "appId", self.app_id), "params": {"$select": APP_SELECT}},
                          {"url": key_path("/servicePrincipals", "appId", self.app_id), "params": {"$select": SP_SELECT}}]
        answers = self.graph.batch(requests_)
        self.api_sp = found_or_none(answers[0])
        if self.api_sp is None:
            raise PermissionsOptionError("api: no service principal with application (client) ID %s in this tenant; give the API's "
                                         "application ID (Microsoft Graph is %s)" % (self.api_app_id, MICROSOFT_GRAPH))
        if placeholder:
            return
        self.app, self.sp = found_or_none(answers[1]), found_or_none(answers[2])
        if self.app is None:
            self.app = self._wait_for(key_path("/applications", "appId", self.app_id), APP_SELECT)
        if self.app is None:
            raise PermissionsOptionError("app_id: no app registration with application (client) ID %s; create it first "
                                         "(smarttrace.sso.entra_app)" % self.app_id)
        if self.sp is None:
            self.sp = self._wait_for(key_path("/servicePrincipals", "appId", self.app_id), SP_SELECT)
        if self.sp is None:
            raise PermissionsOptionError("app_id: the app registration %s has no service principal (enterprise application) to grant "
                                         "permissions to; smarttrace.sso.entra_app creates it" % self.app_id)

    def _wait_for(self, path, select):
        """An object created moments before may not be visible yet: read again within ``wait_timeout``."""
        kwargs = {"sleep": self._sleep} if self._sleep else {}
        return wait_until(lambda: self.graph.get_or_none(path, params={"$select": select}), Deadline(self.wait_timeout), **kwargs)

    def grants(self):
        """The app's assignments to the API (``id``, ``appRoleId``); none for a placeholder app."""
        if self.sp is None:
            return []
        return self.graph.list_all(entity_path("/servicePrincipals", self.sp["id"], "appRoleAssignments"),
                                   params={"$filter": "resourceId eq %s" % self.api_sp["id"], "$select": "id,appRoleId,resourceId"})

    def write(self, required_access, to_grant, to_remove):
        """PATCH ``required_access`` (unless None), grant ``to_grant`` role ids, remove the ``to_remove`` assignments."""
        if required_access is not None:
            self.graph.patch(entity_path("/applications", self.app["id"]), {"requiredResourceAccess": required_access}, retry_on=(not_found,))
        assigned_to = entity_path("/servicePrincipals", self.api_sp["id"], "appRoleAssignedTo")
        for role_id in to_grant:
            self.graph.post(assigned_to, {"principalId": self.sp["id"], "resourceId": self.api_sp["id"], "appRoleId": role_id},
                            retry_on=GRANT_RETRY_ON, idempotent=False)
        for assignment in to_remove:
            self.graph.delete(entity_path("/servicePrincipals", self.api_sp["id"], "appRoleAssignedTo", assignment["id"]), missing_ok=True)


def ensure(store, params, check_mode):
    """Make the app request and hold exactly (``exclusive``) or at least the given permissions; the module's result."""
    store.read()
    wanted = resolve_roles(store.api_sp, params["permissions"])
    names = role_names(store.api_sp)
    exclusive = params["exclusive"]
    granted = store.grants()
    requested = requested_role_ids(store.app, store.api_app_id) if store.app else []
    to_grant, to_remove, requested_after = plan(wanted, granted, requested, exclusive)
    required_access = None
    if store.app is None or sorted(set(requested)) != requested_after or len(requested) != len(set(requested)):
        required_access = desired_required_access(store.app or {}, store.api_app_id, wanted.values(), exclusive)
    changed = bool(to_grant or to_remove or required_access is not None)
    if changed and not check_mode:
        store.write(required_access if store.app else None, to_grant, to_remove)

    def named(ids):
        return sorted(names.get(role_id, role_id) for role_id in ids)

    granted_ids = [assignment["appRoleId"] for assignment in granted]
    granted_after = [i for i in granted_ids if i not in [a["appRoleId"] for a in to_remove]] + to_grant
    before = {"granted": named(set(granted_ids)), "requested": named(set(requested))}
    after = {"granted": named(set(granted_after)), "requested": named(requested_after)}
    result = dict(app_id=store.app_id, api_app_id=store.api_app_id, api_service_principal_id=store.api_sp["id"],
                  service_principal_id=store.sp["id"] if store.sp else KNOWN_AFTER_RUN,
                  app_role_ids=wanted, granted=after["granted"], requested=after["requested"],
                  added=named(to_grant), removed=named(a["appRoleId"] for a in to_remove))
    return changed, before, after, result

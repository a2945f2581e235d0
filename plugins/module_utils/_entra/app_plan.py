# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``'s plan: what differs between the options and the app, its service principal, grant and owners.

The application's and the service principal's properties come from the table (``_app_properties``); the rows with a
handler (graph_permissions, app_roles, unique_name, gallery) are planned here, the grant in ``_app_grant``, the owners
in ``_app_owners``. Lists are compared order-insensitively; the ``web`` object is sent whole; nothing differs, nothing is planned.
"""

import copy
import uuid

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import (
    APP,
    APP_PROPERTIES,
    GRAPH_APP_ID,
    PERSONAL_AUDIENCES,
    SP,
    WHOLE,
    graph_scope_ids,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_grant import plan_grant
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_validate import OptionError, check_redirect_count, derived_unique_name
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_owners as owners_
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import ENTERPRISE_APP_TAG
from ansible_collections.smarttrace.sso.plugins.module_utils._common.property_table import desired, predict_created
from ansible_collections.smarttrace.sso.plugins.module_utils._common.reconcile import merge_list, values_equal

ROLE_NAMESPACE = uuid.UUID("5b0c8f0e-2f3c-4e8a-9d57-0c2f4b6d1a39")


def scope_ids(graph_sp, names):
    """Ids of Microsoft Graph delegated permissions by name (case-insensitive), from the Graph service principal."""
    known = dict((scope["value"].lower(), scope) for scope in (graph_sp or {}).get("oauth2PermissionScopes") or [] if scope.get("value"))
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        # imported here: only a "did you mean" hint needs difflib (6 ms per task otherwise)
        import difflib
        hints = sorted(set(hint for name in unknown for hint in difflib.get_close_matches(name.lower(), list(known), 3)))
        raise OptionError("graph_permissions: %s %s not a delegated permission of Microsoft Graph%s" % (
            ", ".join(repr(name) for name in unknown), "is" if len(unknown) == 1 else "are",
            "; did you mean %s?" % ", ".join(known[hint]["value"] for hint in hints) if hints else
            "; use names such as openid, profile, email, offline_access, User.Read"))
    return [known[name.lower()]["id"] for name in names]


def role_from_option(role, existing_id=None):
    display = role.get("display_name") or role["value"]
    role_id = role.get("id") or existing_id or str(uuid.uuid5(ROLE_NAMESPACE, role["value"]))
    return {"allowedMemberTypes": sorted(role["allowed_member_types"]), "description": role.get("description") or display,
            "displayName": display, "id": role_id.lower(), "isEnabled": role["enabled"], "value": role["value"]}


def merged_roles(current, wanted_options, mode):
    """App roles to store, matched by value; an existing role keeps its id."""
    current = without_origin(current)
    ids = dict((role.get("value"), role.get("id")) for role in current)
    wanted = [role_from_option(option, ids.get(option["value"])) for option in wanted_options]
    by_value = dict((role["value"], role) for role in wanted)
    if mode == "exact":
        return wanted
    if mode == "remove":
        return [role for role in current if role.get("value") not in by_value]
    present = set(role.get("value") for role in current)
    return [by_value.get(role.get("value"), role) for role in current] + [role for role in wanted if role["value"] not in present]


def desired_properties(params, app, graph_sp):
    """The application properties the options ask for: the table's rows (``web`` whole, lists merged per ``list_mode``),
    then the rows with a handler (graph_permissions, app_roles) and the token version personal accounts need."""
    app, mode = app or {}, params["list_mode"]
    props = desired(APP_PROPERTIES, APP, params, app, mode, WHOLE)
    if params.get("graph_permissions") is not None:
        props["requiredResourceAccess"] = required_resource_access(app, scope_ids(graph_sp, params["graph_permissions"]), mode)
    if params.get("app_roles") is not None:
        props["appRoles"] = merged_roles(app.get("appRoles"), params["app_roles"], mode)
    if params["sign_in_audience"] in PERSONAL_AUDIENCES and ((app.get("api") or {}).get("requestedAccessTokenVersion") != 2):
        props["api"] = {"requestedAccessTokenVersion": 2}  # Entra ID requires v2 tokens for personal accounts
    return props


def required_resource_access(app, wanted_ids, mode):
    """``requiredResourceAccess`` with the Graph delegated permissions merged; other resources and app permissions kept."""
    resources = [copy.deepcopy(resource) for resource in app.get("requiredResourceAccess") or [] if resource.get("resourceAppId") != GRAPH_APP_ID]
    graph_entry = next((resource for resource in app.get("requiredResourceAccess") or [] if resource.get("resourceAppId") == GRAPH_APP_ID), {})
    others = [copy.deepcopy(access) for access in graph_entry.get("resourceAccess") or [] if access.get("type") != "Scope"]
    ids = merge_list(graph_scope_ids(app), wanted_ids, mode)
    accesses = others + [{"id": scope_id, "type": "Scope"} for scope_id in ids]
    if accesses:
        resources.append({"resourceAppId": GRAPH_APP_ID, "resourceAccess": accesses})
    return resources


def changed(current, props):
    """The properties of ``props`` that differ from ``current`` (``web`` compared on the keys the module sends)."""
    delta = {}
    for key, value in props.items():
        have = (current or {}).get(key)
        if key in ("web", "api") and isinstance(have, dict):
            have = dict((name, have.get(name)) for name in value)
        elif key == "appRoles":
            have = without_origin(have)
        if not values_equal(have, value):
            delta[key] = value
    return delta


class Plan:
    """The writes that bring Graph to the options, and the app/service principal/grant as they will be."""

    def __init__(self):
        self.create_app = None        # body of the app to create
        self.template_id = None       # gallery template to instantiate instead of a plain create
        self.app_patch = {}           # PATCH body of an existing (or just instantiated) app
        self.disable_roles = None     # appRoles to PATCH first: roles to remove, disabled
        self.create_sp = None         # body of the service principal to create
        self.sp_patch = {}
        self.grant_op = None          # ("create", scope) | ("patch", scope) | ("delete", None)
        self.owners_add, self.owners_remove = [], []        # owners of the app to add and to remove
        self.sp_owners_add, self.sp_owners_remove = [], []  # the same for the service principal
        self.owners = self.sp_owners = None                 # owners after the task (None: not managed)
        self.app = self.sp = self.grant = None

    @property
    def changes(self):
        return bool(self.create_app is not None or self.app_patch or self.create_sp is not None or self.sp_patch or self.grant_op
                    or self.owners_add or self.owners_remove or self.sp_owners_add or self.sp_owners_remove)


def plan(params, current, template=None):
    """Compare the options with ``current``; nothing to do gives a Plan whose ``changes`` is False.

    ``template`` (from ``resolve_template``) is the gallery application to instantiate when the app does not exist.
    """
    result = Plan()
    app, sp = current.app, current.sp
    template_id = (template or {}).get("id")
    if app is None:
        unique_name = params.get("unique_name") or derived_unique_name(params["display_name"])
        if template_id:  # instantiate takes only the display name: the rest is a PATCH right after, against the gallery's defaults
            base = gallery_app(template, claim_name(params["display_name"], unique_name))
            result.create_app, result.template_id = {"displayName": base["displayName"]}, template_id
            result.app_patch = after_instantiate(params, base, current.graph_sp, unique_name)
            result.app = merge_app(base, result.app_patch)
        else:
            result.create_app = dict(desired_properties(params, None, current.graph_sp), uniqueName=unique_name)
            result.app = predict_created(APP_PROPERTIES, APP, result.create_app)
    else:
        props = desired_properties(params, app, current.graph_sp)
        if params.get("unique_name") and app.get("uniqueName") not in (None, params["unique_name"]):
            raise OptionError("unique_name: the app %s already has the unique name %r, which cannot change; remove unique_name or set it to %r"
                              % (app["appId"], app["uniqueName"], app["uniqueName"]))
        if params.get("unique_name") and not app.get("uniqueName"):
            props["uniqueName"] = params["unique_name"]
        result.app_patch = changed(app, props)
        if "appRoles" in result.app_patch:
            result.disable_roles = roles_to_disable(app.get("appRoles"), result.app_patch["appRoles"])
        result.app = merge_app(app, result.app_patch)
    check_redirect_count(params, result.app)
    plan_service_principal(params, result, sp, template_id)
    plan_grant(params, result, current)
    plan_owners(params, result, current)
    return result


def plan_owners(params, result, current):
    """Owners of the app and of its service principal per ``list_mode`` (objects about to be created have none)."""
    if current.wanted_owners is None:
        return
    mode, keep = params["list_mode"], current.keep_owner_ids
    app_owners = current.owners if current.app is not None else []
    sp_owners = current.sp_owners if current.sp is not None else []
    result.owners_add, result.owners_remove = owners_.plan_owners(mode, current.wanted_owners, app_owners, keep)
    result.sp_owners_add, result.sp_owners_remove = owners_.plan_owners(mode, current.wanted_owners, sp_owners, keep)
    result.owners = owners_.after_owners(app_owners, result.owners_add, result.owners_remove)
    result.sp_owners = owners_.after_owners(sp_owners, result.sp_owners_add, result.sp_owners_remove)


def without_origin(roles):
    """App roles as they are written: ``origin`` is read-only."""
    return [dict((key, value) for key, value in role.items() if key != "origin") for role in roles or []]


def roles_to_disable(current, wanted):
    """All current roles, those about to be removed disabled, when any of them is enabled (Entra ID refuses removing an enabled role); else None."""
    kept = set(role.get("id") for role in wanted)
    current = without_origin(current)
    if not any(role.get("isEnabled") and role.get("id") not in kept for role in current):
        return None
    return [role if role.get("id") in kept else dict(role, isEnabled=False) for role in current]


def claim_name(display_name, unique_name):
    """The display name a gallery app is instantiated under: ``SmartTrace (smarttrace-sso-acme)``.

    Instantiate takes no unique name, so until the PATCH right after gives the app its unique name (and its
    display name back), this name keeps other runs from taking it for an app to adopt: an app that only
    carries ``display_name`` and no unique name (made by hand) is adopted; one of another instance's runs,
    still on its way, is not. Entra ID allows 256 characters.
    """
    return ("%s (%s)" % (display_name, unique_name))[:256]


def gallery_app(template, display_name):
    """The app as the gallery creates it (what the instantiate answer holds), for check mode's prediction: the table's
    values of a new app, the gallery's home page, no unique name."""
    return predict_created(APP_PROPERTIES, APP, {"displayName": display_name, "uniqueName": None, "applicationTemplateId": template["id"],
                                                 "signInAudience": "AzureADMyOrg", "web": {"homePageUrl": template.get("homePageUrl")}})


def after_instantiate(params, app, graph_sp, unique_name):
    """The PATCH that gives an app just instantiated from the gallery the options and its unique name."""
    props = desired_properties(params, app, graph_sp)
    if not app.get("uniqueName"):
        props["uniqueName"] = unique_name
    return changed(app, props)


def merge_app(app, patch):
    merged = copy.deepcopy(app)
    for key, value in patch.items():
        if key in ("web", "api") and isinstance(merged.get(key), dict):
            merged[key].update(copy.deepcopy(value))
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def plan_service_principal(params, result, sp, template_id):
    """The service principal's rows of the table (``appRoleAssignmentRequired``), and the tag that lists it as an enterprise app."""
    wanted = desired(APP_PROPERTIES, SP, params, sp)
    if sp is None and not template_id:
        result.create_sp = dict({"tags": [ENTERPRISE_APP_TAG]}, **wanted)
        result.sp = predict_created(APP_PROPERTIES, SP, result.create_sp)
        return
    if sp is None:  # instantiated from the gallery under its claim name: tagged, the rest as a new one
        sp = predict_created(APP_PROPERTIES, SP, {"displayName": result.create_app["displayName"], "tags": [ENTERPRISE_APP_TAG]})
        wanted["displayName"] = params["display_name"]
    wanted["tags"] = merge_list(sp.get("tags"), [ENTERPRISE_APP_TAG], "append")
    result.sp_patch = changed(sp, wanted)
    result.sp = dict(copy.deepcopy(sp), **result.sp_patch)

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``'s properties, one row each (``_property_table``): the app registration (``application``) and its
enterprise application (``servicePrincipal``).

From ``APP_PROPERTIES`` come ``entra_app``'s argument spec, the ``$select`` of both objects, the desired PATCH/POST
bodies (``_app_plan.desired_properties``), the ``app`` view (``_app_view.settings``) and check mode's prediction of a new
app. Rows with a ``handler`` (unique_name, gallery_template, graph_permissions, admin_consent, app_roles, owners) name
the dedicated code that writes them; their view is a function here. Adding a plain property, such as ``notes``, is one
row (and its documentation in the module).
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._common.property_table import (
    ORDER_INSENSITIVE,
    OMIT,
    Prop,
    argument_spec,
    select,
)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
PERSONAL_AUDIENCES = ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
LIST_MODES = ("exact", "append", "remove")
APP, SP = "application", "servicePrincipal"


# ---------------------------------------------------------------------------------------------- views of handled properties

def graph_scope_ids(app):
    """Ids of the Microsoft Graph delegated permissions (``Scope``) an app requests."""
    for resource in (app or {}).get("requiredResourceAccess") or []:
        if resource.get("resourceAppId") == GRAPH_APP_ID:
            return [access["id"] for access in resource.get("resourceAccess") or [] if access.get("type") == "Scope"]
    return []


def scope_names(graph_sp, ids):
    by_id = dict((scope.get("id"), scope.get("value")) for scope in (graph_sp or {}).get("oauth2PermissionScopes") or [])
    return [by_id.get(scope_id, scope_id) for scope_id in ids]


def owner_names(owners):
    """Owners as the modules show them: users by UPN, service principals by application id, sorted."""
    return sorted((item["name"] for item in owners or []), key=lambda name: (name.lower(), name))


def _roles_view(context):
    return sorted(({"value": role.get("value"), "display_name": role.get("displayName"), "description": role.get("description"),
                    "allowed_member_types": sorted(role.get("allowedMemberTypes") or []), "enabled": bool(role.get("isEnabled")),
                    "id": role.get("id")} for role in context[APP].get("appRoles") or []), key=lambda role: role["value"] or "")


def _optional(name, shown):
    """The view of ``context[name]`` through ``shown``, left out when the context does not know it (None)."""
    return lambda context: OMIT if context.get(name) is None else shown(context[name])


def _url(value):
    return value or None  # an empty string removes the URL


ROLE_OPTIONS = dict(
    value=dict(type="str", required=True),
    display_name=dict(type="str"),
    description=dict(type="str"),
    allowed_member_types=dict(type="list", elements="str", choices=["User", "Application"], default=["User"]),
    enabled=dict(type="bool", default=True),
    id=dict(type="str"),
)

#: entra_app: option, Graph path, object, type, comparison, list modes, check mode prediction, handler; in the order of the view
APP_PROPERTIES = (
    Prop("display_name", "displayName", APP, spec=dict(required=True)),
    Prop("unique_name", "uniqueName", APP, handler="unique_name"),  # set once, never changed: _app_plan.plan
    Prop("app_id", "appId", APP, writable=False, predictable=False),  # a key to find the app by; Entra ID chooses it
    Prop(None, "id", APP, key="object_id", predictable=False),
    Prop(None, "id", SP, key="service_principal_id", predictable=False),
    Prop(None, "appOwnerOrganizationId", SP, key="tenant_id",
         view=lambda context: (context.get(SP) or {}).get("appOwnerOrganizationId") or context.get("tenant_id")),
    Prop("gallery_template", None, APP, key=None, handler="gallery"),  # _app_plan.gallery_app, _app_apply.instantiate
    Prop(None, "applicationTemplateId", APP, key="gallery_template_id"),
    Prop("sign_in_audience", "signInAudience", APP, spec=dict(choices=list(SIGN_IN_AUDIENCES), default="AzureADMyOrg")),
    Prop("redirect_uris", "web.redirectUris", APP, type="list", elements="str", compare=ORDER_INSENSITIVE, list_modes=True, empty=[]),
    Prop("logout_url", "web.logoutUrl", APP, to_graph=_url),
    Prop("home_page_url", "web.homePageUrl", APP, to_graph=_url),
    Prop("id_token_issuance", "web.implicitGrantSettings.enableIdTokenIssuance", APP, type="bool", shown=bool, empty=False),
    Prop("access_token_issuance", "web.implicitGrantSettings.enableAccessTokenIssuance", APP, type="bool", shown=bool, empty=False),
    Prop("graph_permissions", "requiredResourceAccess", APP, type="list", elements="str", compare=ORDER_INSENSITIVE, list_modes=True,
         handler="graph_permissions", empty=[],  # _app_plan.scope_ids, required_resource_access
         view=lambda context: sorted(scope_names(context.get("graph_sp"), graph_scope_ids(context[APP])), key=str.lower)),
    Prop("admin_consent", None, None, type="bool", key="admin_consent_scopes", handler="grant",  # _app_grant
         view=lambda context: sorted((context.get("grant") or {}).get("scope", "").split(), key=str.lower) if context.get("grant_known") else OMIT),
    Prop("app_roles", "appRoles", APP, type="list", elements="dict", spec=dict(options=ROLE_OPTIONS), compare=ORDER_INSENSITIVE,
         list_modes=True, handler="app_roles", view=_roles_view, empty=[]),  # _app_plan.merged_roles, roles_to_disable
    Prop("app_role_assignment_required", "appRoleAssignmentRequired", SP, type="bool", empty=False),
    Prop("notes", "notes", APP),
    Prop("tags", "tags", APP, type="list", elements="str", compare=ORDER_INSENSITIVE, list_modes=True, empty=[]),
    Prop("owners", None, None, type="list", elements="str", compare=ORDER_INSENSITIVE, list_modes=True, handler="owners",  # _app_owners
         view=_optional("owners", owner_names)),
    Prop(None, None, None, key="service_principal_owners", view=_optional("sp_owners", owner_names)),
    Prop("list_mode", spec=dict(choices=list(LIST_MODES), default="exact"), key=None),
    Prop("likely_new", type="bool", spec=dict(default=False), key=None),  # a hint for read_current's $batch, never the outcome
    Prop("state", spec=dict(choices=["present", "absent"], default="present"), key=None),
)

#: the web platform's object, sent whole (Graph replaces it whole): every row under ``web``
WHOLE = ("web",)
ARGUMENT_SPEC = argument_spec(APP_PROPERTIES)
#: what the collection reads of an application: its keys, every row's property, and what entra_app_info and entra_secret show
APP_SELECT = select(APP_PROPERTIES, APP, always=("id", "appId", "displayName", "uniqueName", "createdDateTime")) + ("passwordCredentials", "keyCredentials")
#: what the collection reads of a service principal: every row's property and what entra_app_info and entra_assignment show
SP_SELECT = select(APP_PROPERTIES, SP, always=("id", "appId", "displayName")) + ("tags", "accountEnabled", "appRoles", "preferredSingleSignOnMode")

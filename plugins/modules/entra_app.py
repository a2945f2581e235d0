#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app
short_description: Manage the SmartTrace app registration and its enterprise application in Microsoft Entra ID
version_added: 0.1.0
description:
  - Creates, updates or deletes an app registration (Microsoft Graph C(application)) and makes sure its service principal
    (the enterprise application) exists, as the first steps of Microsoft's SmartTrace SSO guide do.
  - "Finds the app without stored ids: by O(app_id), else O(unique_name), else by display name. Several apps with that display
    name is an error that lists them (ids and creation dates); the module never guesses."
  - Never creates a duplicate. An app the module creates gets a unique name (Graph alternate key) and is created with an
    upsert on it, so a create repeated after a timeout or a C(504), or by a second run while the first run's app is still
    replicating, updates that app instead of adding another one.
  - Writes only what differs. Lists are compared regardless of order; the C(web) object is sent whole.
  - Options left out are not managed, except O(sign_in_audience), which has a default.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
options:
  display_name:
    description:
      - Display name of the app registration (and of a service principal the module creates).
      - When the app is found by O(app_id) or O(unique_name), a different display name renames it.
    type: str
    required: true
  app_id:
    description:
      - Application (client) ID of an existing app registration to manage.
      - With O(state=present), an O(app_id) that does not exist is an error (Entra ID chooses the ids of new apps).
    type: str
  unique_name:
    description:
      - Unique name of the app, a Microsoft Graph alternate key, for exact adoption and idempotent creation.
      - It can be set only while the app has none, and never changed. An app found by display name without a unique name gets this one.
      - When not set and the app must be created, the module gives it C(smarttrace-sso-<display name>-<hash>), derived from O(display_name).
    type: str
  gallery_template:
    description:
      - When the app does not exist, create it by adding this application from the Microsoft Entra application gallery,
        by name (for example V(SmartTrace)) or by template ID. The gallery creates the app and its service principal.
      - Without it, a plain app is registered and its service principal created.
      - Has no effect on an app that exists.
    type: str
  sign_in_audience:
    description:
      - Who can sign in. V(AzureADMyOrg) (this tenant only) suits a single-tenant SaaS such as SmartTrace.
      - Apps for personal Microsoft accounts get v2 access tokens (C(api.requestedAccessTokenVersion=2)), as Entra ID requires.
    type: str
    choices: [AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount]
    default: AzureADMyOrg
  redirect_uris:
    description:
      - Redirect URIs of the web platform (where SmartTrace receives the authorization code), such as
        V(https://acme.smarttrace.ai/auth/callback).
      - Each must use https (http only for C(localhost), C(127.0.0.1) and C([::1])), have at most 256 characters and none of C(! $ ' ( ) , ;).
      - Merged with the app's redirect URIs according to O(list_mode).
    type: list
    elements: str
  logout_url:
    description:
      - The front-channel logout URL of the web platform. An empty string removes it.
    type: str
  home_page_url:
    description:
      - The home page URL of the web platform. An empty string removes it.
    type: str
  id_token_issuance:
    description:
      - Whether the app may get ID tokens from the authorization endpoint (implicit and hybrid flows).
        SmartTrace uses the authorization code flow and does not need it.
    type: bool
  access_token_issuance:
    description:
      - Whether the app may get access tokens from the authorization endpoint (implicit flow).
    type: bool
  graph_permissions:
    description:
      - Delegated Microsoft Graph permissions the app requests, by name, such as V(openid), V(profile), V(email), V(User.Read).
      - Names are resolved to ids from the Microsoft Graph service principal of the tenant; an unknown name is an error.
      - Merged according to O(list_mode); Microsoft Graph application permissions and other APIs of the app are kept.
    type: list
    elements: str
  admin_consent:
    description:
      - V(true) grants tenant-wide (admin) consent to the app's delegated Microsoft Graph permissions, so users are not asked;
        the grant then covers exactly the permissions the app requests.
      - V(false) removes that tenant-wide grant. Not set, the grant is not managed.
      - Needs the Microsoft Graph permission C(DelegatedPermissionGrant.ReadWrite.All).
    type: bool
  app_role_assignment_required:
    description:
      - Whether only users and groups assigned to the enterprise application can sign in ("Assignment required?").
    type: bool
  app_roles:
    description:
      - App roles of the application, matched by O(app_roles[].value). Merged according to O(list_mode).
      - A role to remove that is enabled is first disabled, then removed, as Entra ID requires.
    type: list
    elements: dict
    suboptions:
      value:
        description: Value of the role in the C(roles) claim of tokens; no spaces.
        type: str
        required: true
      display_name:
        description: Display name of the role; defaults to O(app_roles[].value).
        type: str
      description:
        description: Description of the role; defaults to the display name.
        type: str
      allowed_member_types:
        description: Who can be given the role.
        type: list
        elements: str
        choices: [User, Application]
        default: [User]
      enabled:
        description: Whether the role is enabled.
        type: bool
        default: true
      id:
        description:
          - Id (GUID) of the role. By default the id of the app's role with the same value, else a GUID derived from the value.
        type: str
  notes:
    description: Notes on the app registration (for example who owns it).
    type: str
  tags:
    description: Tags of the app registration. Merged according to O(list_mode).
    type: list
    elements: str
  owners:
    description:
      - Owners of the app registration and of its enterprise application (people and services who may manage the SmartTrace app
        in the portal), as the portal's Owners pages show them.
      - Users by user principal name (V(alice@contoso.com)) or object id; service principals by application (client) id.
        A name that matches no user or service principal is an error, before any change.
      - Merged with the owners of both according to O(list_mode). The identity the module signs in as is never removed
        (V(exact) keeps it; V(remove) refuses it).
      - Adding or removing owners needs C(Application.ReadWrite.All) (C(Application.ReadWrite.OwnedBy) cannot name other owners).
      - Not set, owners are not read and not managed.
    type: list
    elements: str
  list_mode:
    description:
      - How the list options (O(redirect_uris), O(graph_permissions), O(app_roles), O(tags), O(owners)) apply to what the app has.
      - V(exact) makes each given list the app's whole list; V(append) adds the items that are missing and keeps the others
        (so redirect URIs someone else added survive); V(remove) removes the given items.
    type: str
    choices: [exact, append, remove]
    default: exact
  likely_new:
    description:
      - An optimisation hint that never changes the outcome. V(true) says the app probably does not exist yet, for example
        because an earlier read in the play found none (the role smarttrace.sso.entra_sso sets it so).
      - With O(gallery_template), the gallery application is then looked up in the same request as the app, which saves
        one round trip when the app is created. The module still reads the app and decides on what it finds. When the app
        exists after all, the template's answer is not used (an error in it is ignored) and the hint cost one sub-request.
      - With V(false), the template is looked up only when the app must be created.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the app and makes sure its service principal exists.
      - V(absent) deletes the app registration, and with it its service principal (Entra ID keeps both restorable for 30 days).
    type: str
    choices: [present, absent]
    default: present
notes:
  - With O(gallery_template), the gallery cannot take a unique name at creation, so the app is added under the display name
    C(<display_name> (<unique_name>\)), and the PATCH right after gives it its unique name and O(display_name). When two runs
    add the same app at the same moment, the second run's PATCH finds the unique name taken; that run deletes the app it has
    just added and fails saying that another run is configuring this instance, so one app remains.
  - "Creating an app with C(Application.ReadWrite.OwnedBy) makes the automation identity its owner, so later runs may change it."
seealso:
  - module: smarttrace.sso.entra_app_info
  - name: Redirect URI restrictions
    description: Microsoft's rules for redirect URIs.
    link: https://learn.microsoft.com/entra/identity-platform/reply-url
author:
  - SmartTrace SSO contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Register SmartTrace for OpenID Connect sign-in (instance acme, as in Microsoft's guide)
  smarttrace.sso.entra_app:
    display_name: SmartTrace
    unique_name: smarttrace-sso-acme
    redirect_uris:
      - https://api.smarttrace.ai/v1/auth/callback/azure/acme
    logout_url: https://api.smarttrace.ai/v1/auth/callback/azure-logout/acme
    graph_permissions: [openid, profile, email, User.Read]
    admin_consent: true
    app_role_assignment_required: true
    app_roles:
      - value: SmartTrace.User
        display_name: SmartTrace user
  register: smarttrace_app

- name: Show what SmartTrace's configuration needs
  ansible.builtin.debug:
    msg: "client id {{ smarttrace_app.app_id }}, tenant {{ smarttrace_app.tenant_id }}"

- name: Add SmartTrace from the gallery (when it does not exist yet)
  smarttrace.sso.entra_app:
    display_name: SmartTrace
    unique_name: smarttrace-sso-acme
    gallery_template: SmartTrace

- name: Add a redirect URI, keeping those the app has
  smarttrace.sso.entra_app:
    app_id: "{{ smarttrace_app.app_id }}"
    display_name: SmartTrace
    redirect_uris:
      - https://api.smarttrace.ai/v1/auth/callback/azure/acme-staging
    list_mode: append

- name: Make two people owners of the app and its enterprise application, keeping the other owners
  smarttrace.sso.entra_app:
    display_name: SmartTrace
    unique_name: smarttrace-sso-acme
    owners:
      - alice@contoso.onmicrosoft.com
      - bob@contoso.onmicrosoft.com
    list_mode: append

- name: Delete the app registration and its enterprise application
  smarttrace.sso.entra_app:
    display_name: SmartTrace
    unique_name: smarttrace-sso-acme
    state: absent
"""

RETURN = r"""
app_id:
  description: Application (client) ID, for SmartTrace's configuration. In check mode, C((known after the real run)) for a new app.
  returned: always (null when the app does not exist)
  type: str
  sample: 6d316b4a-7f6b-4793-b318-ad4c1db2b452
object_id:
  description: Object ID of the app registration. In check mode, C((known after the real run)) for a new app.
  returned: always (null when the app does not exist)
  type: str
service_principal_id:
  description: Object ID of the service principal (enterprise application). C((known after the real run)) in check mode when it would be created.
  returned: when O(state=present)
  type: str
tenant_id:
  description: Directory (tenant) ID that owns the app, for SmartTrace's configuration.
  returned: when O(state=present)
  type: str
app:
  description: The app's settings after the task (predicted in check mode); empty after O(state=absent).
  returned: always
  type: dict
  contains:
    display_name:
      description: Display name.
      type: str
      returned: always
    unique_name:
      description: Unique name (alternate key).
      type: str
      returned: always
    app_id:
      description: Application (client) ID.
      type: str
      returned: always
    object_id:
      description: Object ID of the app registration.
      type: str
      returned: always
    service_principal_id:
      description: Object ID of the service principal.
      type: str
      returned: always
    tenant_id:
      description: Directory (tenant) ID.
      type: str
      returned: always
    gallery_template_id:
      description: Id of the gallery template the app was created from (null for a plain app).
      type: str
      returned: always
    sign_in_audience:
      description: Who can sign in.
      type: str
      returned: always
    redirect_uris:
      description: Web redirect URIs (sorted).
      type: list
      elements: str
      returned: always
    logout_url:
      description: Front-channel logout URL.
      type: str
      returned: always
    home_page_url:
      description: Home page URL.
      type: str
      returned: always
    id_token_issuance:
      description: Whether the authorization endpoint may issue ID tokens.
      type: bool
      returned: always
    access_token_issuance:
      description: Whether the authorization endpoint may issue access tokens.
      type: bool
      returned: always
    graph_permissions:
      description: Delegated Microsoft Graph permissions the app requests.
      type: list
      elements: str
      returned: always
    admin_consent_scopes:
      description: Scopes of the tenant-wide Microsoft Graph grant; only when O(admin_consent) is set.
      type: list
      elements: str
      returned: always
    app_roles:
      description: App roles, each with value, display_name, description, allowed_member_types, enabled and id.
      type: list
      elements: dict
      returned: always
    app_role_assignment_required:
      description: Whether users must be assigned to sign in.
      type: bool
      returned: always
    notes:
      description: Notes.
      type: str
      returned: always
    tags:
      description: Tags of the app registration.
      type: list
      elements: str
      returned: always
    owners:
      description: Owners of the app registration (users by user principal name, service principals by application id), sorted.
      type: list
      elements: str
      returned: when O(owners) is set
    service_principal_owners:
      description: Owners of the enterprise application, as O(owners).
      type: list
      elements: str
      returned: when O(owners) is set
  sample:
    display_name: SmartTrace
    app_id: 6d316b4a-7f6b-4793-b318-ad4c1db2b452
    redirect_uris: [https://acme.smarttrace.ai/auth/azure/callback]
    graph_permissions: [email, openid, profile, User.Read]
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import ARGUMENT_SPEC  # derived from the property table
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_registration import (
    OptionError,
    apply,
    plan,
    read_current,
    resolve_template,
    settings,
    validate,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ConcurrentRunError
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.apps import UNKNOWN, app_path
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule


def main():
    module = EntraModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    try:
        validate(params)
    except OptionError as exc:
        module.fail_json(msg=str(exc))
    tenant = params["tenant_id"] if GUID_RE.match(params.get("tenant_id") or "") else UNKNOWN
    try:
        current = read_current(module.graph, params, caller=signed_in_as(module) if params["owners"] is not None else None)
        if params["state"] == "absent":
            absent(module, current)
        grant_known = params["admin_consent"] is not None
        before = settings(current.app, current.sp, current.graph_sp, current.grant, grant_known and current.app is not None, tenant,
                          owners=current.owners if current.app is not None else None, sp_owners=current.sp_owners if current.sp is not None else None)
        if current.app is None and params["app_id"]:
            raise OptionError("app_id: no app registration has the Application (client) ID %s; remove app_id to create the app" % params["app_id"])
        template = None
        if current.app is None and params["gallery_template"]:  # read with the app (likely_new) or now
            template = resolve_template(module.graph, params["gallery_template"], current.template_answer)
        todo = plan(params, current, template)
        app, sp = todo.app, todo.sp
        if todo.changes and not module.check_mode:
            app, sp = apply(module.graph, params, current, todo)
    except (OptionError, ConcurrentRunError) as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    after = settings(app, sp, current.graph_sp, todo.grant, grant_known, tenant, owners=todo.owners, sp_owners=todo.sp_owners)
    module.exit_with(todo.changes, before=before, after=after, app_id=after["app_id"], object_id=after["object_id"],
                     service_principal_id=after["service_principal_id"], tenant_id=after["tenant_id"], app=after)


def signed_in_as(module):
    """The identity the module signs in as (object id from the token, application id from the options): never removed from owners."""
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.tenant import token_claims  # only with owners (docs/performance.md)
    claims = token_claims(module.token_provider())
    return {"object_id": claims.get("oid"), "app_id": claims.get("appid") or claims.get("azp") or module.params.get("client_id")}


def absent(module, current):
    """Delete the app (its service principal goes with it); absent already is unchanged."""
    app = current.app
    if app is not None and not module.check_mode:
        module.graph.delete(app_path(object_id=app["id"]), missing_ok=True)
    module.exit_with(app is not None, before=settings(app, None), after={}, app_id=(app or {}).get("appId"), object_id=(app or {}).get("id"), app={})


if __name__ == "__main__":
    main()

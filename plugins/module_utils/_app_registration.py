# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``: from the module's options to Graph writes, and the app's settings as the module shows them.

The steps, each a function: ``validate`` (every option, before any request) -> ``read_current``
(one ``$batch``: the app, its service principal, the Microsoft Graph service principal; then, only
for ``admin_consent``, the tenant-wide grant) -> ``plan`` (what differs, compared order-insensitively;
the ``web`` object whole; nothing when nothing differs) -> ``apply`` (skipped in check mode) ->
``settings`` (the flat view returned and shown in the diff).

Graph behaviour relied on: docs/graph-facts.md: Applications, Service principals, Idempotency, Replication.
"""

import copy
import hashlib
import re
import uuid
from urllib.parse import urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._entra_apps import (
    APP_SELECT,
    ENTERPRISE_APP_TAG,
    GRAPH_APP_ID,
    GRAPH_SP_SELECT,
    SP_SELECT,
    UNKNOWN,
    AmbiguousApplicationError,
    app_lookup_request,
    app_path,
    create_service_principal,
    get_service_principal,
    odata_string,
    one_application,
    read_many,
    select,
    sp_path,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._app_view import graph_scope_ids, scope_names, settings
from ansible_collections.smarttrace.sso.plugins.module_utils._identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils import _app_owners as owners_
from ansible_collections.smarttrace.sso.plugins.module_utils._concurrent_runs import ANOTHER_RUN_FIRST, ConcurrentRunError
from ansible_collections.smarttrace.sso.plugins.module_utils._errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph_client import entity_path
from ansible_collections.smarttrace.sso.plugins.module_utils._graph_client import conflict_409, not_found
from ansible_collections.smarttrace.sso.plugins.module_utils._reconcile import merge_list, values_equal

SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
PERSONAL_AUDIENCES = ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
LIST_MODES = ("exact", "append", "remove")
WEB_KEYS = ("homePageUrl", "logoutUrl", "redirectUris", "implicitGrantSettings")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
FORBIDDEN_URI_CHARACTERS = "!$'(),;"
MAX_URI_LENGTH = 256
ROLE_VALUE_RE = re.compile(r"^[!#-&(-\[\]-~]+$")  # printable ASCII without space, " and '
ROLE_NAMESPACE = uuid.UUID("5b0c8f0e-2f3c-4e8a-9d57-0c2f4b6d1a39")
UNIQUE_NAME_ATTEMPTS = 5


class OptionError(ValueError):
    """An option that cannot work; the message names it and says what to do."""


# ---------------------------------------------------------------------------------------------- validation

def uri_problem(uri):
    """Why Entra ID would refuse ``uri`` as a redirect or logout URL (docs/graph-facts.md, Redirect URIs), or None."""
    if len(uri) > MAX_URI_LENGTH:
        return "has %d characters, at most %d are allowed" % (len(uri), MAX_URI_LENGTH)
    bad = sorted(set(ch for ch in uri if ch in FORBIDDEN_URI_CHARACTERS or ch.isspace()))
    if bad:
        return "contains %s, which Entra ID does not allow (%s and white space)" % (" ".join(repr(ch) for ch in bad), " ".join(FORBIDDEN_URI_CHARACTERS))
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS:
        return None
    if parts.scheme == "http":
        return "uses http, which Entra ID allows only for localhost, 127.0.0.1 and [::1]: use https"
    return "is not an absolute https URL"


def validate(params):
    """Raise ``OptionError`` for the first option that cannot work (no request has been made yet)."""
    if params.get("app_id") and not GUID_RE.match(params["app_id"]):
        raise OptionError("app_id %r is not a GUID: give the Application (client) ID shown on the app's Overview page, or leave app_id out"
                          % params["app_id"])
    if params["state"] == "absent":
        return
    for option in ("display_name", "unique_name", "gallery_template", "notes"):
        if params.get(option) is not None and option != "notes" and not params[option].strip():
            raise OptionError("%s must not be empty" % option)
    audience = params["sign_in_audience"]
    for uri in params.get("redirect_uris") or []:
        problem = uri_problem(uri)
        if problem is None and audience in PERSONAL_AUDIENCES and ("*" in uri or "?" in uri):
            problem = "has a wildcard or query, which apps for personal Microsoft accounts cannot use"
        if problem:
            raise OptionError("redirect_uris: %r %s" % (uri, problem))
    for option in ("logout_url", "home_page_url"):
        if params.get(option):
            problem = uri_problem(params[option])
            if problem:
                raise OptionError("%s: %r %s" % (option, params[option], problem))
    for tag in params.get("tags") or []:
        if not tag or len(tag) > 256:
            raise OptionError("tags: every tag must have 1 to 256 characters (got %r)" % tag)
    for name in params.get("graph_permissions") or []:
        if not name or not name.strip() or " " in name.strip():
            raise OptionError("graph_permissions: %r is not a permission name; give names such as openid, profile, email, User.Read" % name)
    validate_app_roles(params.get("app_roles") or [])
    for value in params.get("owners") or []:
        problem = owners_.owner_problem(value)
        if problem:
            raise OptionError("owners: %s" % problem)


def validate_app_roles(roles):
    values = set()
    for role in roles:
        value = role["value"]
        if not ROLE_VALUE_RE.match(value) or value.startswith("."):
            raise OptionError("app_roles: value %r may not contain spaces or quotes nor start with a dot (it appears in the roles claim)" % value)
        if value in values:
            raise OptionError("app_roles: value %r is given twice; values must be unique" % value)
        values.add(value)
        if role.get("id") and not GUID_RE.match(role["id"]):
            raise OptionError("app_roles: id %r of role %r is not a GUID; leave id out to keep or derive it" % (role["id"], value))
        if not role.get("allowed_member_types"):
            raise OptionError("app_roles: role %r needs allowed_member_types (User and/or Application)" % value)


def derived_unique_name(display_name, attempt=0):
    """The uniqueName given to an app the module creates without ``unique_name``: the same for the same display name.

    It makes creating idempotent (an upsert on the alternate key), also when a second run starts while
    the first run's app is still replicating. ``attempt`` > 0 gives the next candidate when a deleted app
    still holds the name.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:60] or "app"
    digest = hashlib.sha256(display_name.encode("utf-8")).hexdigest()[:10]
    return "smarttrace-sso-%s-%s%s" % (slug, digest, "-%d" % (attempt + 1) if attempt else "")


# ---------------------------------------------------------------------------------------------- reading

class Current:
    """What Graph holds: the app, its service principal, the Graph service principal, the tenant-wide Graph grant.

    With the option ``owners``: the owners of the app and of the service principal, the owners the option names
    (resolved) and the ids never to remove (the identity the module signs in as); else all None.
    """

    def __init__(self, app=None, sp=None, graph_sp=None, grant=None, grant_read=False):
        self.app, self.sp, self.graph_sp, self.grant, self.grant_read = app, sp, graph_sp, grant, grant_read
        self.owners = self.sp_owners = self.wanted_owners = None
        self.keep_owner_ids = frozenset()


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
    owners_index = len(requests)
    if with_owners:
        requests.extend(owners_.resolution_requests(params["owners"]))
    answers = read_many(graph, requests)
    current = read_answers(graph, params, answers, sp_index, graph_index)
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


def read_grant(graph, sp_id, graph_sp_id, retry_on=()):
    """The tenant-wide (AllPrincipals) delegated grant of the app's service principal on Microsoft Graph, or None."""
    grants = graph.list_all(entity_path("/servicePrincipals", sp_id, "oauth2PermissionGrants"), retry_on=retry_on)
    return next((grant for grant in grants if grant.get("consentType") == "AllPrincipals" and grant.get("resourceId") == graph_sp_id), None)


def resolve_template(graph, template):
    """The gallery application (``id``, ``displayName``, ``homePageUrl``) by name (``SmartTrace``) or template id; exactly one must match."""
    fields = {"$select": "id,displayName,homePageUrl"}
    if GUID_RE.match(template):
        found = graph.get_or_none(entity_path("/applicationTemplates", template.lower()), params=fields)
        found = [found] if found else []
    else:
        found = graph.list_all("/applicationTemplates", params=dict(fields, **{"$filter": "displayName eq %s" % odata_string(template)}))
    if len(found) != 1:
        raise OptionError("gallery_template: %s gallery application is %s %r; give its exact name or its template id"
                          % ("no" if not found else "more than one", "identified by" if GUID_RE.match(template) else "named", template))
    return found[0]


# ---------------------------------------------------------------------------------------------- planning

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
    """The application properties the options ask for, whole (``web`` whole, collections merged per ``list_mode``)."""
    app, mode = app or {}, params["list_mode"]
    props = {"displayName": params["display_name"], "signInAudience": params["sign_in_audience"]}
    if params.get("notes") is not None:
        props["notes"] = params["notes"]
    if params.get("tags") is not None:
        props["tags"] = merge_list(app.get("tags"), params["tags"], mode)
    web_options = ("redirect_uris", "logout_url", "home_page_url", "id_token_issuance", "access_token_issuance")
    if any(params.get(option) is not None for option in web_options):
        web = dict((key, copy.deepcopy((app.get("web") or {}).get(key))) for key in WEB_KEYS)
        grants = dict(web.get("implicitGrantSettings") or {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False})
        if params.get("redirect_uris") is not None:
            web["redirectUris"] = merge_list(web.get("redirectUris"), params["redirect_uris"], mode)
        for option, key in (("logout_url", "logoutUrl"), ("home_page_url", "homePageUrl")):
            if params.get(option) is not None:
                web[key] = params[option] or None
        for option, key in (("id_token_issuance", "enableIdTokenIssuance"), ("access_token_issuance", "enableAccessTokenIssuance")):
            if params.get(option) is not None:
                grants[key] = params[option]
        web["implicitGrantSettings"] = grants
        web["redirectUris"] = web.get("redirectUris") or []
        props["web"] = web
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
            result.app = dict(merge_app(base, result.app_patch), id=UNKNOWN, appId=UNKNOWN)
        else:
            result.create_app = dict(desired_properties(params, None, current.graph_sp), uniqueName=unique_name)
            result.app = dict(copy.deepcopy(result.create_app), id=UNKNOWN, appId=UNKNOWN, applicationTemplateId=None)
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
    """The app as the gallery creates it (what the instantiate answer holds), for check mode's prediction."""
    return {"displayName": display_name, "uniqueName": None, "applicationTemplateId": template["id"], "signInAudience": "AzureADMyOrg",
            "web": {"homePageUrl": template.get("homePageUrl"), "logoutUrl": None, "redirectUris": [],
                    "implicitGrantSettings": {"enableIdTokenIssuance": False, "enableAccessTokenIssuance": False}},
            "requiredResourceAccess": [], "appRoles": [], "notes": None, "tags": []}


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


def check_redirect_count(params, app):
    uris = ((app or {}).get("web") or {}).get("redirectUris") or []
    limit = 100 if params["sign_in_audience"] in PERSONAL_AUDIENCES else 256
    if len(uris) > limit:
        raise OptionError("redirect_uris: the app would have %d redirect URIs; Entra ID allows at most %d for sign_in_audience %s"
                          % (len(uris), limit, params["sign_in_audience"]))


def plan_service_principal(params, result, sp, template_id):
    required = params.get("app_role_assignment_required")
    if sp is None and not template_id:
        result.create_sp = {"tags": [ENTERPRISE_APP_TAG]}
        if required is not None:
            result.create_sp["appRoleAssignmentRequired"] = required
        result.sp = dict(result.create_sp, id=UNKNOWN, appRoleAssignmentRequired=bool(required), appOwnerOrganizationId=None)
        return
    wanted = {}
    if sp is None:  # instantiated from the gallery under its claim name: tagged, assignment not required
        sp = {"id": UNKNOWN, "displayName": result.create_app["displayName"], "tags": [ENTERPRISE_APP_TAG], "appRoleAssignmentRequired": False,
              "appOwnerOrganizationId": None}
        wanted["displayName"] = params["display_name"]
    wanted["tags"] = merge_list(sp.get("tags"), [ENTERPRISE_APP_TAG], "append")
    if required is not None:
        wanted["appRoleAssignmentRequired"] = required
    result.sp_patch = changed(sp, wanted)
    result.sp = dict(copy.deepcopy(sp), **result.sp_patch)


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


# ---------------------------------------------------------------------------------------------- applying

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
    return error.status == 400 and "disabled first" in error.message


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
    return error.status == 400 and "ObjectConflict" in error.detail_codes and "uniquename" in (error.message + str(error.details)).lower()


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
    if error.status in (400, 401, 403) and not (error.status == 400 and "not a valid reference update" in error.message.lower()):
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
                     retry_on=(not_found, lambda error: error.status == 400 and "not a valid reference update" in error.message.lower()))
    except GraphError as error:
        if error.status != 409:
            raise
        existing = read_grant(graph, sp["id"], current.graph_sp["id"], retry_on=(not_found,))
        if existing and sorted(existing.get("scope", "").split()) != sorted(scope.split()):
            graph.patch(entity_path("/oauth2PermissionGrants", existing["id"]), {"scope": scope})


__all__ = ["AmbiguousApplicationError", "OptionError", "validate", "read_current", "resolve_template", "plan", "apply", "settings",
           "derived_unique_name", "LIST_MODES", "SIGN_IN_AUDIENCES"]

"""Shared pieces of the Graph surface: the per-request context, permissions, lookups, responses.

Authorization follows app-only Graph: the ``roles`` claim of the token (the Graph application
permissions granted when the token was issued) must include one of the permissions an operation
accepts (contract section 8); otherwise 403 ``Authorization_RequestDenied`` "Insufficient privileges to
complete the operation.". ``Application.ReadWrite.OwnedBy`` may create applications and service
principals (the caller becomes an owner) and change only those it owns.
"""
from __future__ import annotations

import copy
import dataclasses
import re
import typing as t
import urllib.parse

from . import graph_schema, odata
from .graph_schema import UUID_RE, BodyError
from .http import Request, Response
from .odata import GraphError, Queryable, bad_request, not_found

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DENIED = "Insufficient privileges to complete the operation."

OWNED_BY = "Application.ReadWrite.OwnedBy"
APP_READ = frozenset({"Application.Read.All", "Application.ReadWrite.All", OWNED_BY, "Directory.Read.All", "Directory.ReadWrite.All"})
APP_WRITE = frozenset({"Application.ReadWrite.All"})
APP_CREATE = APP_WRITE | {OWNED_BY}
USER_READ = frozenset({"User.Read.All", "User.ReadWrite.All", "User.ReadBasic.All", "Directory.Read.All", "Directory.ReadWrite.All"})
USER_WRITE = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
PASSWORD_WRITE = frozenset({"User-PasswordProfile.ReadWrite.All"})
GROUP_READ = frozenset({"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All", "Directory.Read.All",
                        "Directory.ReadWrite.All"})
GROUP_WRITE = frozenset({"Group.ReadWrite.All", "Directory.ReadWrite.All"})
MEMBER_WRITE = frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
ASSIGNMENT_WRITE = frozenset({"AppRoleAssignment.ReadWrite.All"})
ASSIGNMENT_READ = APP_READ | ASSIGNMENT_WRITE
GRANT_READ = frozenset({"DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
GRANT_WRITE = frozenset({"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"})
DOMAIN_READ = frozenset({"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
ORGANIZATION_READ = frozenset({"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})

QUERY_OPTION_NAMES = {"$filter": "Filter", "$select": "Select", "$top": "Top", "$skip": "Skip", "$expand": "Expand", "$count": "Count",
                      "$search": "Search", "$orderby": "OrderBy", "$skiptoken": "SkipToken", "$deltatoken": "DeltaToken", "$format": "Format"}
COLLECTION_OPTIONS = frozenset({"$filter", "$select", "$top", "$count", "$search", "$orderby", "$expand", "$skiptoken"})
ENTITY_OPTIONS = frozenset({"$select", "$expand"})

# What each resource supports in $filter / $search / $orderby (v1.0 property notes and the advanced-query tables).
STRING_DEFAULT = "eq in ge le startswith null"
STRING_ADVANCED = "ne not endswith"
APPLICATIONS = Queryable(
    "Application", "microsoft.graph.application",
    default={"id": "eq in", "appId": "eq in", "displayName": STRING_DEFAULT, "uniqueName": "eq in startswith", "publisherDomain": "eq in ge le startswith",
             "signInAudience": "eq in", "identifierUris": "any any_startswith", "tags": "any any_startswith", "createdDateTime": "eq ge le in",
             "applicationTemplateId": "eq"},
    advanced={"id": "ne not", "appId": "ne not", "displayName": STRING_ADVANCED, "uniqueName": "ne not", "publisherDomain": "ne not",
              "signInAudience": "ne not", "identifierUris": "not", "tags": "not", "createdDateTime": "ne not", "applicationTemplateId": "ne not",
              "web/redirectUris": "any any_startswith"},
    search=("displayName", "description"), orderby_advanced=("displayName", "createdDateTime"))
SERVICE_PRINCIPALS = Queryable(
    "ServicePrincipal", "microsoft.graph.servicePrincipal",
    default={"id": "eq in", "appId": "eq in", "displayName": STRING_DEFAULT, "accountEnabled": "eq in", "appOwnerOrganizationId": "eq in",
             "servicePrincipalNames": "any any_startswith", "tags": "any any_startswith", "servicePrincipalType": "eq in",
             "preferredSingleSignOnMode": "eq in", "applicationTemplateId": "eq"},
    advanced={"id": "ne not", "appId": "ne not", "displayName": STRING_ADVANCED, "accountEnabled": "ne not", "appOwnerOrganizationId": "ne not",
              "servicePrincipalNames": "not", "tags": "not", "servicePrincipalType": "ne not", "appRoleAssignmentRequired": "eq ne not",
              "preferredSingleSignOnMode": "ne not", "applicationTemplateId": "ne not"},
    search=("displayName", "description"), orderby_advanced=("displayName",))
USERS = Queryable(
    "User", "microsoft.graph.user",
    default={"id": "eq in", "userPrincipalName": STRING_DEFAULT, "displayName": STRING_DEFAULT, "mail": STRING_DEFAULT,
             "mailNickname": STRING_DEFAULT, "givenName": STRING_DEFAULT, "surname": STRING_DEFAULT, "jobTitle": STRING_DEFAULT,
             "accountEnabled": "eq in", "userType": "eq in", "usageLocation": "eq in ge le startswith", "otherMails": "any any_startswith",
             "proxyAddresses": "any any_startswith", "createdDateTime": "eq ge le in"},
    advanced={"id": "ne not", "userPrincipalName": STRING_ADVANCED, "displayName": STRING_ADVANCED, "mail": STRING_ADVANCED,
              "mailNickname": STRING_ADVANCED, "givenName": STRING_ADVANCED, "surname": STRING_ADVANCED, "jobTitle": STRING_ADVANCED,
              "accountEnabled": "ne not", "userType": "ne not", "usageLocation": "ne not", "otherMails": "not", "proxyAddresses": "not",
              "createdDateTime": "ne not", "department": STRING_DEFAULT + " " + STRING_ADVANCED, "companyName": STRING_DEFAULT + " " + STRING_ADVANCED},
    search=("displayName", "givenName", "surname", "mail", "mailNickname", "userPrincipalName"),
    orderby=("displayName", "userPrincipalName"), orderby_advanced=("createdDateTime", "mail", "givenName", "surname"))
GROUPS = Queryable(
    "Group", "microsoft.graph.group",
    default={"id": "eq in", "displayName": STRING_DEFAULT, "mail": STRING_DEFAULT, "mailNickname": STRING_DEFAULT, "securityEnabled": "eq in",
             "mailEnabled": "eq in", "groupTypes": "any", "uniqueName": "eq in startswith", "createdDateTime": "eq ge le in"},
    advanced={"id": "ne not", "displayName": STRING_ADVANCED, "mail": STRING_ADVANCED, "mailNickname": STRING_ADVANCED, "securityEnabled": "ne not",
              "mailEnabled": "ne not", "groupTypes": "not", "uniqueName": "ne not", "createdDateTime": "ne not"},
    search=("displayName", "description", "mail", "mailNickname"), orderby=("displayName",), orderby_advanced=("createdDateTime",))
ASSIGNMENTS = Queryable(
    "AppRoleAssignment", "microsoft.graph.appRoleAssignment",
    default={"resourceId": "eq", "principalDisplayName": "eq startswith"},
    advanced={}, count=True)
GRANTS = Queryable(
    "OAuth2PermissionGrant", "microsoft.graph.oAuth2PermissionGrant",
    default={"clientId": "eq", "consentType": "eq", "principalId": "eq", "resourceId": "eq"}, count=False)
TEMPLATES = Queryable(
    "ApplicationTemplate", "microsoft.graph.applicationTemplate",
    default={"id": "eq", "displayName": "eq startswith", "categories": "any", "publisher": "eq startswith"},
    search=("displayName", "description", "publisher"), count=False)
DOMAINS = Queryable("Domain", "microsoft.graph.domain", default={}, count=False)
ORGANIZATION = Queryable("Organization", "microsoft.graph.organization", default={}, count=False)

USER_DEFAULT_PROPERTIES = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage",
                           "surname", "userPrincipalName", "id")
TYPE_OF_KIND = {"application": "microsoft.graph.application", "servicePrincipal": "microsoft.graph.servicePrincipal",
                "user": "microsoft.graph.user", "group": "microsoft.graph.group"}


@dataclasses.dataclass
class Segment:
    name: str
    key: dict[str, str] | None = None      # {"appId": "..."} for alternate keys, {"": "..."} for (key)


_SEGMENT_RE = re.compile(r"^([^()]+)(?:\((.*)\))?$")
_KEY_RE = re.compile(r"^(?:(\w+)=)?(?:'((?:[^']|'')*)'|([^',()]+))$")


def split_key(segments: list[Segment]) -> tuple[dict | None, list[Segment]]:
    """(key, the segments after it) of ``/collection/{id}/...`` or ``/collection(key)/...``; key None for the collection itself."""
    first = segments[0]
    if first.key is not None:
        return first.key, segments[1:]
    if len(segments) == 1:
        return None, []
    return {"": segments[1].name}, segments[2:]


COUNT_KEY = {"": "$count"}


def parse_segments(path: str) -> list[Segment]:
    """URL path (after /v1.0) split into segments; quotes protect '/' inside key values."""
    parts, current, quoted = [], [], False
    for ch in path:
        if ch == "'":
            quoted = not quoted
        if ch == "/" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    segments = []
    for part in parts:
        if part == "":
            continue
        m = _SEGMENT_RE.match(part)
        if not m:
            raise bad_request("Resource not found for the segment '%s'." % part, code="BadRequest")
        name, key_text = m.groups()
        key = None
        if key_text is not None:
            k = _KEY_RE.match(key_text.strip())
            if not k:
                raise bad_request("Bad Request - Error in query syntax.", code="BadRequest")
            prop, quoted_value, bare = k.groups()
            key = {prop or "": quoted_value.replace("''", "'") if quoted_value is not None else bare}
        segments.append(Segment(name, key))
    return segments


@dataclasses.dataclass
class Ctx:
    """One Graph request as handlers see it."""

    req: Request
    directory: t.Any
    faults: t.Any
    claims: dict
    request_id: str

    @property
    def roles(self) -> frozenset:
        return frozenset(self.claims.get("roles") or ())

    @property
    def caller_id(self) -> str:
        return self.claims.get("oid", "")

    @property
    def caller_app_id(self) -> str:
        return self.claims.get("appid", "")

    @property
    def query(self) -> dict[str, str]:
        return self.req.query

    @property
    def method(self) -> str:
        return self.req.method

    @property
    def body(self) -> t.Any:
        return self.req.body

    @property
    def graph_root(self) -> str:
        return self.req.base_url + "/v1.0"

    def header(self, name: str) -> str | None:
        return self.req.header(name)

    def context(self, fragment: str) -> str:
        return "%s/$metadata#%s" % (self.graph_root, fragment)

    @property
    def eventual(self) -> bool:
        return (self.header("consistencylevel") or "").strip().lower() == "eventual"

    @property
    def advanced(self) -> bool:
        return self.eventual and self.query.get("$count", "").lower() == "true"

    def prefers(self, preference: str) -> bool:
        return any(p.strip().lower() == preference for p in (self.header("prefer") or "").split(","))

    # ---- authorization
    def require(self, allowed: t.Iterable[str]) -> None:
        if not self.roles & frozenset(allowed):
            raise GraphError(403, "Authorization_RequestDenied", DENIED)

    def owned_only(self) -> bool:
        """True when the caller may write applications only through Application.ReadWrite.OwnedBy."""
        return OWNED_BY in self.roles and not self.roles & APP_WRITE

    def require_app_write(self, object_id: str) -> None:
        """Write access to an application or service principal (OwnedBy: only those the caller owns)."""
        if self.roles & APP_WRITE:
            return
        if OWNED_BY in self.roles and self.caller_id in self.directory.owners(object_id):
            return
        raise GraphError(403, "Authorization_RequestDenied", DENIED)

    # ---- visibility
    def visible(self, object_id: str) -> bool:
        return not self.directory.is_young(object_id)


# ---------------------------------------------------------------------------------------------- lookups (404 while replicating)

def find_application(ctx: Ctx, key: dict) -> dict:
    """The app a key names (object id, appId or uniqueName); 404 while it replicates."""
    directory = ctx.directory
    if "appId" in key:
        app = directory.app_by_app_id(key["appId"])
        shown = key["appId"]
    elif "uniqueName" in key:
        app = directory.app_by_unique_name(key["uniqueName"])
        shown = key["uniqueName"]
    elif "" in key:
        app = directory.applications.get(guid_key(key[""]))
        shown = key[""]
    else:
        raise bad_request("Bad Request - Error in query syntax.", code="BadRequest")
    if app is None or not ctx.visible(app["id"]):
        raise not_found(shown)
    return app


def find_service_principal(ctx: Ctx, key: dict) -> dict:
    directory = ctx.directory
    if "appId" in key:
        sp = directory.sp_by_app_id(key["appId"])
        shown = key["appId"]
    elif "" in key:
        sp = directory.service_principals.get(guid_key(key[""]))
        shown = key[""]
    else:
        raise bad_request("Bad Request - Error in query syntax.", code="BadRequest")
    if sp is None or not ctx.visible(sp["id"]):
        raise not_found(shown)
    return sp


def find_user(ctx: Ctx, key: dict) -> dict:
    """A user by object id or userPrincipalName (``/users/{x}``, ``/users('x')``, ``/users(userPrincipalName='x')``)."""
    directory = ctx.directory
    value = key.get("userPrincipalName", key.get(""))
    if value is None:
        raise bad_request("Bad Request - Error in query syntax.", code="BadRequest")
    user = directory.users.get(value.lower()) if UUID_RE.match(value) and "userPrincipalName" not in key else directory.user_by_upn(value)
    if user is None or not ctx.visible(user["id"]):
        raise not_found(value)
    return user


def find_group(ctx: Ctx, key: dict) -> dict:
    directory = ctx.directory
    if "uniqueName" in key:
        group = next((g for g in directory.groups.values() if (g.get("uniqueName") or "").lower() == key["uniqueName"].lower()), None)
        shown = key["uniqueName"]
    else:
        shown = key.get("", "")
        group = directory.groups.get(guid_key(shown))
    if group is None or not ctx.visible(group["id"]):
        raise not_found(shown)
    return group


# ---------------------------------------------------------------------------------------------- helpers

def check_options(ctx: Ctx, allowed: frozenset) -> None:
    """Refuse query options the route does not take, as Graph's OData layer does."""
    for key in ctx.query:
        if key == "$skip" and "$top" in allowed:
            raise bad_request("'$skip' is not supported by the service.")
        if key.startswith("$"):
            if key not in QUERY_OPTION_NAMES:
                raise bad_request("The query parameter '%s' is not supported." % key, code="BadRequest")
            if key not in allowed:
                raise bad_request("The query specified in the URI is not valid. Query option '%s' is not allowed. To allow it, set the "
                                  "'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings." % QUERY_OPTION_NAMES[key],
                                  code="BadRequest")
        else:
            raise bad_request("The query parameter '%s' is not supported." % key, code="BadRequest")


def require_body(ctx: Ctx) -> dict:
    body = ctx.body
    if body is None:
        raise bad_request("Empty Payload. JSON content expected.", code="BadRequest")
    if not isinstance(body, dict):
        raise bad_request("An unexpected '%s' node was found when reading from the JSON reader. A 'StartObject' node was expected."
                          % ("StartArray" if isinstance(body, list) else "PrimitiveValue"), code="BadRequest")
    return body


def validate_body(type_name: str, body: dict, *, read_only: t.Iterable[str] = (), binds: t.Iterable[str] = ()) -> None:
    """Schema check (Microsoft's description), then the properties the directory will not let a caller set."""
    try:
        graph_schema.check_object(type_name, body, allow_binds=binds)
    except BodyError as exc:
        raise bad_request(exc.message, code=exc.code) from None
    for name in read_only:
        if name in body:
            raise bad_request("Property '%s' is read-only and cannot be set." % name)


def invalid_value(prop: str, resource: str, reason: str | None = None, target: str | None = None) -> GraphError:
    details = [{"code": "InvalidValue", "message": reason, "target": target or prop}] if reason else None
    return bad_request("Invalid value specified for property '%s' of resource '%s'." % (prop, resource), details=details)


def conflict_400(prop: str) -> GraphError:
    message = "Another object with the same value for property %s already exists." % prop
    return bad_request(message, details=[{"code": "ObjectConflict", "message": message, "target": prop}])


def merge(target: dict, patch: dict) -> None:
    """OData PATCH as Entra applies it: nested complex values merge, collections and primitives are replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict) and "@odata.type" not in value:
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def bound_ids(ctx: Ctx, body: dict, nav: str) -> list[str]:
    """Object ids named by ``<nav>@odata.bind`` (URLs ending in the object id)."""
    refs = body.get(nav + "@odata.bind")
    if refs is None:
        return []
    if isinstance(refs, str):
        refs = [refs]
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise bad_request("Invalid value specified for property '%s@odata.bind'." % nav)
    return [object_id_of_reference(ctx, ref) for ref in refs]


def object_id_of_reference(ctx: Ctx, ref: t.Any) -> str:
    """The object id at the end of an ``@odata.id``/``@odata.bind`` URL; it must name an existing object."""
    if not isinstance(ref, str) or not ref:
        raise bad_request("Invalid URL format specified in @odata.bind for %s" % ref, code="BadRequest")
    path = urllib.parse.urlsplit(ref).path.rstrip("/")
    last = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    m = re.match(r"^(?:\w+\(')?([0-9a-fA-F-]{36})(?:'\))?$", last)
    if not m or not UUID_RE.match(m.group(1)):
        raise bad_request("Invalid object identifier '%s'." % last)
    object_id = m.group(1).lower()
    if ctx.directory.directory_object(object_id) is None or not ctx.visible(object_id):
        raise not_found(object_id)
    return object_id


def guid_key(value: str) -> str:
    if not UUID_RE.match(value or ""):
        raise bad_request("Invalid object identifier '%s'." % value)
    return value.lower()


def entity_body(ctx: Ctx, obj: dict, fragment: str, type_name: str, default: t.Sequence[str] | None = None) -> dict:
    """An entity answer with @odata.context and $select applied (default properties when given)."""
    check_options(ctx, ENTITY_OPTIONS)
    select = odata.parse_select(ctx.query.get("$select"), type_name)
    expand = expand_names(ctx, type_name)
    suffix = "(%s)" % ",".join(select) if select else ""
    body = {"@odata.context": ctx.context(fragment + suffix + "/$entity")}
    body.update(odata.apply_select(obj, select, default))
    for name in expand:
        body[name] = expanded(ctx, type_name, obj, name)
    return body


def expand_names(ctx: Ctx, type_name: str) -> list[str]:
    raw = ctx.query.get("$expand")
    if raw is None:
        return []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    navigation = graph_schema.navigation_names(type_name)
    supported = EXPANDABLE.get(type_name, ())
    for name in names:
        if name not in navigation:
            raise bad_request("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'." % (name, type_name),
                              code="BadRequest")
        if name not in supported:
            raise GraphError(501, "NotImplemented", "The sandbox does not implement $expand=%s on %s." % (name, type_name))
    return names


EXPANDABLE = {"microsoft.graph.application": ("owners",), "microsoft.graph.servicePrincipal": ("owners",), "microsoft.graph.group": ("members",)}


def expanded(ctx: Ctx, type_name: str, obj: dict, name: str) -> list[dict]:
    directory = ctx.directory
    if name == "owners":
        ids = directory.owners(obj["id"])
    else:
        ids = directory.group_members.get(obj["id"], [])
    return [directory_object_view(ctx, object_id) for object_id in ids if directory.directory_object(object_id) and ctx.visible(object_id)]


def directory_object_view(ctx: Ctx, object_id: str) -> dict:
    """A directoryObject inside a heterogeneous collection: ``@odata.type`` first, users with their default properties."""
    kind, obj = ctx.directory.directory_object(object_id)
    view = {"@odata.type": "#" + TYPE_OF_KIND[kind]}
    if kind == "user":
        view.update(odata.apply_select(obj, None, USER_DEFAULT_PROPERTIES))
    else:
        view.update(copy.deepcopy(obj))
    return view


def list_body(ctx: Ctx, items: list[dict], spec: Queryable, fragment: str, *, default: t.Sequence[str] | None = None,
              view: t.Callable[[dict], dict] | None = None) -> dict:
    """A collection answer: $filter, $search, $orderby, $count, $select and paging with an absolute nextLink."""
    check_options(ctx, COLLECTION_OPTIONS)
    query = ctx.query
    select = odata.parse_select(query.get("$select"), spec.type_name)
    expand = expand_names(ctx, spec.type_name)
    if "$filter" in query:
        node = odata.parse_filter(query["$filter"])
        odata.FilterCheck(spec, ctx.advanced).check_all(node)
        items = [i for i in items if odata.evaluate(node, i)]
    if "$search" in query:
        if not ctx.eventual:
            raise odata.unsupported_query("Request with $search query parameter only works through MSGraph with a special request header: "
                                          "'ConsistencyLevel: eventual'")
        groups = odata.parse_search(query["$search"], spec)
        items = [i for i in items if odata.search_matches(groups, i)]
    ordered = False
    if "$orderby" in query:
        items = order_by(ctx, items, spec, query["$orderby"])
        ordered = True
    count = None
    if query.get("$count", "").lower() == "true" and ctx.eventual:
        if not spec.count:
            raise bad_request("$count is not currently supported.")
        count = len(items)
    elif query.get("$count", "").lower() not in ("", "true", "false"):
        raise bad_request("Invalid value for $count: '%s'." % query["$count"], code="BadRequest")
    size = odata.page_size(query, ctx.faults.page_size)
    start = 0
    if "$skiptoken" in query:
        state = odata.decode_token(query["$skiptoken"])
        if ordered:
            start = int(state.get("o", 0))
        else:
            after = int(state.get("a", 0))
            start = next((i for i, item in enumerate(items) if ctx.directory.seq(item["id"]) > after), len(items))
    page = items[start:start + size]
    body: dict[str, t.Any] = {"@odata.context": ctx.context(fragment + ("(%s)" % ",".join(select) if select else ""))}
    if count is not None:
        body["@odata.count"] = count
    if start + size < len(items):
        token = {"o": start + size} if ordered else {"a": ctx.directory.seq(page[-1]["id"])}
        next_query = {k: v for k, v in query.items() if k != "$skiptoken"}
        next_query["$skiptoken"] = odata.encode_token(token)
        body["@odata.nextLink"] = odata.build_link(ctx.req.base_url, ctx.req.path, next_query)
    values = []
    for item in page:
        shown = view(item) if view else odata.apply_select(item, select, default)
        if view and (select or default):
            shown = odata.apply_select(shown, select, default)
        for name in expand:
            shown[name] = expanded(ctx, spec.type_name, item, name)
        values.append(shown)
    body["value"] = values
    return body


def order_by(ctx: Ctx, items: list[dict], spec: Queryable, text: str) -> list[dict]:
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request("Syntax error at position %d in '%s'." % (len(text), text), code="BadRequest")
        name = words[0]
        if name not in graph_schema.properties(spec.type_name):
            raise odata.no_such_property(name, spec.type_name)
        allowed = spec.orderby + (spec.orderby_advanced if ctx.advanced else ())
        if name not in allowed:
            raise odata.unsupported_query("Sorting not supported for current query.")
        keys.append((name, len(words) == 2 and words[1].lower() == "desc"))
    result = list(items)
    for name, descending in reversed(keys):
        result.sort(key=lambda i, n=name: (i.get(n) is None, str(i.get(n) or "").lower()), reverse=descending)
    return result


def count_response(ctx: Ctx, items: list[dict], spec: Queryable) -> Response:
    """``GET /<collection>/$count``: text/plain, only with ConsistencyLevel: eventual."""
    for key in ctx.query:
        if key not in ("$filter", "$search"):
            raise bad_request("The query parameter '%s' is not supported." % key, code="BadRequest")
    if not ctx.eventual:
        raise bad_request("$count is not currently supported.")
    if "$filter" in ctx.query:
        node = odata.parse_filter(ctx.query["$filter"])
        odata.FilterCheck(spec, True).check_all(node)
        items = [i for i in items if odata.evaluate(node, i)]
    if "$search" in ctx.query:
        groups = odata.parse_search(ctx.query["$search"], spec)
        items = [i for i in items if odata.search_matches(groups, i)]
    return Response(200, str(len(items)).encode(), {"Content-Type": "text/plain"})


def visible_items(ctx: Ctx, store: dict) -> list[dict]:
    """Objects a list shows: not younger than the replication delay, in creation order."""
    directory = ctx.directory
    return [store[k] for k in sorted(store, key=directory.seq) if ctx.visible(k)]


def method_not_allowed() -> GraphError:
    return GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def segment_not_found(name: str) -> GraphError:
    return bad_request("Resource not found for the segment '%s'." % name, code="BadRequest")


def not_implemented(ctx: Ctx) -> GraphError:
    return GraphError(501, "NotImplemented", "The sandbox does not implement %s %s (it exists in Microsoft Graph v1.0)." % (ctx.method, ctx.req.path))


def created(ctx: Ctx, body: dict, location_type: str) -> Response:
    location = "%s/directoryObjects/%s/Microsoft.DirectoryServices.%s" % (ctx.graph_root, body.get("id"), location_type)
    return Response(201, body, {"Location": location})


def no_content() -> Response:
    return Response(204, None)


def collection_request(ctx: Ctx, key: dict | None, rest: list[Segment], *, read: frozenset, items: t.Callable[[], list[dict]], spec: Queryable,
                       fragment: str, create: t.Callable[[Ctx], Response], default: t.Sequence[str] | None = None) -> Response | None:
    """The collection itself (GET lists, POST creates) and ``/$count``; None when the path names one object."""
    if key is None:
        if ctx.method == "GET":
            ctx.require(read)
            return Response(200, list_body(ctx, items(), spec, fragment, default=default))
        if ctx.method == "POST":
            return create(ctx)
        raise method_not_allowed()
    if key == COUNT_KEY and not rest:
        if ctx.method != "GET":
            raise method_not_allowed()
        ctx.require(read)
        return count_response(ctx, items(), spec)
    return None


def upsert(ctx: Ctx, existing: dict | None, shown: str, create: t.Callable[[], Response], update: t.Callable[[dict], Response]) -> Response:
    """PATCH on an alternate key: with ``Prefer: create-if-missing`` create (201) or update (204), a write Entra
    carries out on the object even while it replicates; without the header an unknown or still replicating key is 404."""
    if existing is None and ctx.prefers("create-if-missing"):
        return create()
    if existing is not None and (ctx.prefers("create-if-missing") or ctx.visible(existing["id"])):
        return update(existing)
    raise not_found(shown)


DIRECTORY_OBJECTS = Queryable("DirectoryObject", "microsoft.graph.directoryObject", default={})


def references_route(ctx: Ctx, owner_id: str, ids: list[str], nav: str, rest: list[Segment], *, authorize_write: t.Callable[[], None],
                     kinds: tuple[str, ...]) -> Response:
    """A reference collection (owners, members): ``/{nav}`` (GET), ``/{nav}/$ref`` (GET, POST ``{"@odata.id": url}``)
    and ``/{nav}/{id}/$ref`` (DELETE), with Graph's messages for a reference added twice or removed when absent."""
    directory = ctx.directory
    if not rest:
        if ctx.method != "GET":
            raise method_not_allowed()
        items = [directory.directory_object(i)[1] for i in ids if directory.directory_object(i) and ctx.visible(i)]
        return Response(200, list_body(ctx, items, DIRECTORY_OBJECTS, "directoryObjects", view=lambda o: directory_object_view(ctx, o["id"])))
    if rest[0].name == "$ref" and len(rest) == 1:
        if ctx.method == "GET":
            refs = [{"@odata.id": "%s/directoryObjects/%s" % (ctx.graph_root, i)} for i in ids if ctx.visible(i)]
            return Response(200, {"@odata.context": ctx.context("Collection($ref)"), "value": refs})
        if ctx.method != "POST":
            raise method_not_allowed()
        authorize_write()
        body = require_body(ctx)
        if set(body) != {"@odata.id"}:
            raise bad_request("Invalid request body: send {\"@odata.id\": \"<url of the directory object>\"}.", code="BadRequest")
        added = object_id_of_reference(ctx, body["@odata.id"])
        if directory.kind_of(added) not in kinds or added == owner_id:
            raise bad_request("Invalid object identifier '%s'." % added)
        if added in ids:
            raise bad_request("One or more added object references already exist for the following modified properties: '%s'." % nav)
        ids.append(added)
        return no_content()
    if len(rest) == 2 and rest[1].name == "$ref":
        if ctx.method != "DELETE":
            raise method_not_allowed()
        authorize_write()
        removed = guid_key(rest[0].name)
        if removed not in ids:
            raise GraphError(404, "Request_ResourceNotFound",
                             "One or more removed object references do not exist for the following modified properties: '%s'." % nav)
        ids.remove(removed)
        return no_content()
    raise segment_not_found(rest[0].name)


def bind_owners(ctx: Ctx, body: dict) -> list[str]:
    """Owners of a new application/service principal: owners@odata.bind, plus the caller under OwnedBy."""
    owners = bound_ids(ctx, body, "owners")
    for owner in owners:
        kind = ctx.directory.kind_of(owner)
        if kind not in ("user", "servicePrincipal"):
            raise bad_request("Invalid object identifier '%s'." % owner)
        if ctx.owned_only() and owner != ctx.caller_id:
            raise GraphError(403, "Authorization_RequestDenied", DENIED)
    if ctx.owned_only() and ctx.caller_id not in owners:
        owners.append(ctx.caller_id)
    return owners

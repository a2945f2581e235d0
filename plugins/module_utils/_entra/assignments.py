# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App role assignments of one enterprise application: who may sign in, with which app role.

Graph behaviour relied on (docs/graph-facts.md: App role assignments, Replication, Batching):

* the resource is the app's service principal, ``/servicePrincipals(appId='..')`` or ``/servicePrincipals/{id}``;
  its ``appRoles`` (copied from the app) say which role ids exist. An app without roles takes the
  all-zero "Default Access" id; an app with roles takes one of them (enabled, for ``User`` members).
* ``GET /servicePrincipals/{id}/appRoleAssignedTo`` lists every assignment (paged; no ``$filter`` on
  principal or role), so it is read once and matched here. Navigation from the alternate key
  (``servicePrincipals(appId='..')/appRoleAssignedTo``) is not in Graph's description: it needs the object id.
* ``POST .../appRoleAssignedTo {principalId, resourceId, appRoleId}`` creates one; the same one twice
  is 400 "Permission being assigned already exists on the object." (so re-sending is harmless);
  a principal created moments ago is 404 or 400 "Not a valid reference update." for a while.
* ``DELETE .../appRoleAssignedTo/{assignment id}``; 404 means it is gone already.
"""


from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import (
    all_items,
    closest_names,
    collection_url,
    did_you_mean,
    find_many_waiting,
    find_many_with,
    fold,
    is_ambiguous,
    is_replication_lag,
    write_all,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, SsoError, mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    APP_ROLE_NOT_ON_RESOURCE,
    ASSIGNMENT_EXISTS,
    entity_path,
    key_path,
    message_kind,
)

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_guid, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import found_or_none

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
SP_SELECT = ("id", "appId", "displayName", "appRoles")
ASSIGNMENT_SELECT = ("id", "appRoleId", "principalId", "principalType", "principalDisplayName")
USER_SELECT = ("id", "userPrincipalName", "displayName")
GROUP_SELECT = ("id", "displayName")
MANAGED_TYPES = ("User", "Group")   # exclusive mode never removes service principals (app-to-app assignments)


class AssignmentError(SsoError):
    """A problem with what was asked (unknown principal, unknown role, no service principal): nothing was changed."""

    result_key = "problems"

    def __init__(self, message, problems=None):
        self.message = message
        self.problems = problems or [message]
        super().__init__(message)

    def to_dict(self):
        return self.problems


# ---------------------------------------------------------------------------------------------- reading
def read_state(graph, app_id, object_id, users, groups, wait, waiter, new_sp=False):
    """``(service principal, its assignments, principal lookups)`` in as few requests as the ids given allow.

    One round (a ``$batch``) reads the service principal, its assignments when ``object_id`` is given, and every
    principal lookup; with ``app_id`` the assignments follow in one more request (their path needs the object id).
    A service principal created moments ago is waited for up to ``wait`` seconds; its assignments are not read when the
    caller says it was created in this run (``new_sp``: nothing can be assigned to it yet). A service principal that check
    mode predicts (its id or app id the placeholder) is not read at all. The lookups are
    ``{(kind, property): (query, found)}`` for ``wait_for_principals`` and ``resolve_principals``.
    """
    named, queries = principal_queries(users, groups)

    def lookups(found):
        return dict((key, (query, result)) for key, query, result in zip(named, queries, found))

    if is_known_after_run(app_id) or is_known_after_run(object_id):
        return {"id": KNOWN_AFTER_RUN, "appId": app_id, "appRoles": None}, [], lookups(find_many_with(graph, queries)[0])
    extra = [{"method": "GET", "url": collection_url(sp_path(app_id, object_id), select=SP_SELECT)}]
    if object_id and not new_sp:
        extra.append({"method": "GET", "url": assignments_url(object_id)})
    found, answers = find_many_with(graph, queries, extra)
    sp = found_or_none(answers[0])
    if sp is None:
        sp = read_resource(graph, app_id, object_id, wait, waiter, known_missing=True)
    if new_sp:
        assignments = []
    elif object_id and isinstance(answers[1], dict):
        assignments = all_items(graph, answers[1])
    else:
        assignments = graph.list_all(assignments_url(sp["id"]))
    return sp, assignments, lookups(found)


def sp_path(app_id, object_id):
    return entity_path("/servicePrincipals", object_id) if object_id else key_path("/servicePrincipals", "appId", app_id)


def assignments_url(sp_id):
    return "%s?$select=%s&$top=999" % (entity_path("/servicePrincipals", sp_id, "appRoleAssignedTo"), ",".join(ASSIGNMENT_SELECT))


def read_resource(graph, app_id, object_id, timeout, waiter, known_missing=False):
    """The service principal (``SP_SELECT``), asked again while a just-created one is not visible yet."""
    skip_first = [known_missing]  # a service principal this run just created: the first read would only miss it

    def read():
        if skip_first.pop() if skip_first else False:
            return None
        return graph.get_or_none(sp_path(app_id, object_id), params={"$select": ",".join(SP_SELECT)})

    sp = waiter.wait_until(read, timeout, done=lambda found: found is not None)
    if sp is None:
        what = "service_principal_id %s" % object_id if object_id else "app_id %s" % app_id
        raise AssignmentError("No enterprise application (service principal) found for %s%s: check %s, or create the app and its "
                              "service principal first (smarttrace.sso.entra_app does both)"
                              % (what, " after %d s" % timeout if timeout else "", what.split()[0]))
    return sp


def role_label(role):
    return "%s (%s)" % (role.get("value"), role.get("displayName")) if role.get("displayName") not in (None, role.get("value")) else role.get("value")


def pick_role(sp, role):
    """The ``(appRoleId, label)`` to assign: the role named by value (or display name), or Default Access.

    For a service principal check mode predicts (``appRoles`` None: not read), a named role's id is the placeholder."""
    if sp.get("appRoles") is None and is_known_after_run(sp.get("id")):
        return (DEFAULT_ACCESS, "Default Access") if role is None else (KNOWN_AFTER_RUN, role)
    roles = sp.get("appRoles") or []
    usable = [item for item in roles if item.get("isEnabled", True) and "User" in (item.get("allowedMemberTypes") or [])]
    listing = ", ".join(role_label(item) for item in usable) or "none"
    name = sp.get("displayName") or sp.get("appId")
    if role is None:
        if roles:
            raise AssignmentError("role is required: %s defines app roles, so Default Access cannot be assigned; set role to one of: %s"
                                  % (name, listing))
        return DEFAULT_ACCESS, "Default Access"
    matches = ([item for item in roles if item.get("value") == role] or [item for item in roles if fold(item.get("value")) == fold(role)]
               or [item for item in roles if fold(item.get("displayName")) == fold(role)])
    if len(matches) > 1:
        raise AssignmentError("role %r matches %d app roles of %s by display name: give the role's value (one of: %s)" % (role, len(matches), name, listing))
    if not matches:
        if not roles:
            raise AssignmentError("role %r: %s defines no app roles, so only Default Access can be assigned: remove role" % (role, name))
        raise AssignmentError("role %r is not an app role of %s: use one of: %s" % (role, name, listing))
    found = matches[0]
    if found not in usable:
        why = "is disabled" if not found.get("isEnabled", True) else "is not for users and groups (allowedMemberTypes %s)" % found.get("allowedMemberTypes")
        raise AssignmentError("role %r of %s %s: use one of: %s" % (role, name, why, listing))
    return found["id"], role_label(found)


# ---------------------------------------------------------------------------------------------- principals

PRINCIPAL_KINDS = (("User", "/users", "userPrincipalName", USER_SELECT), ("Group", "/groups", "displayName", GROUP_SELECT))


def principal_queries(users, groups):
    """``([(kind, property)], [find_many query])``: users by userPrincipalName or id, groups by displayName or id."""
    named, queries = [], []
    for (kind, collection, by_name, select), names in zip(PRINCIPAL_KINDS, (users, groups)):
        names = [name for name in names if not is_known_after_run(name)]  # check mode's placeholder: nothing to look up
        for prop, values in (("id", [name for name in names if is_guid(name)]), (by_name, [name for name in names if not is_guid(name)])):
            if values:
                named.append((kind, prop))
                queries.append((collection, prop, values, select))
    return named, queries


def wait_for_principals(graph, lookups, wait, waiter, may_be_new):
    """The lookups, with the principals not found asked again for ``wait`` seconds (created moments ago).

    ``may_be_new(kind, name)`` (``new_principal_test``) says which names may have been created moments ago; only those
    are waited for, so a name that was never created fails at once.
    """
    waiting = {}
    for key, (query, found) in lookups.items():
        names = [name for name in query[2] if not found[fold(name)] and may_be_new(key[0], name)]
        if names:
            waiting[key] = (query[0], query[1], names, query[3])
    if not waiting:
        return lookups
    keys = list(waiting)
    again = find_many_waiting(graph, [waiting[key] for key in keys], wait, waiter, [lookups[key][1] for key in keys])
    result = dict(lookups)
    result.update((key, (lookups[key][0], found)) for key, found in zip(keys, again))
    return result


def new_principal_test(new_principals):
    """``may_be_new(kind, name)`` for ``wait_for_principals`` from the option ``new_principals``. Its default (None):
    users may be new, groups not (this collection creates users, never groups)."""
    if new_principals is None:
        return lambda kind, _name: kind == "User"
    folded = set(fold(name) for name in new_principals)
    return lambda _kind, name: fold(name) in folded


def resolve_principals(users, groups, lookups, predicted=lambda kind, name: False):
    """``(principals, unknown, ambiguous)`` for ``users`` and ``groups`` from the lookups of ``read_state``.

    Principals are dicts ``name``, ``principal_type``, ``principal_id``, ``principal_display_name``; unknown
    is a list of ``(kind, name)``, ambiguous of ``(kind, name, ids)``. In check mode, a name that is the placeholder, or
    that is not found and ``predicted(kind, name)`` (a principal an earlier task would create), is a principal whose id
    is known after the real run.
    """
    principals, unknown, ambiguous = [], [], []
    for (kind, _collection, by_name, _select), names in zip(PRINCIPAL_KINDS, (users, groups)):
        for name in names:
            matches = [] if is_known_after_run(name) else lookups[(kind, "id" if is_guid(name) else by_name)][1][fold(name)]
            if not matches and (is_known_after_run(name) or predicted(kind, name)):
                principals.append(dict(name=name, principal_type=kind, principal_id=KNOWN_AFTER_RUN, principal_display_name=None))
            elif not matches:
                unknown.append((kind, name))
            elif len(matches) > 1:
                ambiguous.append((kind, name, [match["id"] for match in matches]))
            else:
                principals.append(dict(name=name, principal_type=kind, principal_id=fold(matches[0]["id"]),
                                       principal_display_name=matches[0].get("displayName")))
    return principals, unknown, ambiguous


def principal_problems(unknown, ambiguous, waited, suggestions=None):
    """Texts naming each principal that could not be resolved.

    ``waited`` is the seconds waited for a principal to replicate, or ``waited(kind, name)``; ``suggestions`` maps
    ``(kind, folded name)`` to the closest existing names."""
    option = {"User": "users", "Group": "groups"}
    suggestions = suggestions or {}
    problems = []
    for kind, name in unknown:
        seconds = waited(kind, name) if callable(waited) else waited
        problems.append("%s: %r %s" % (option[kind], name, "was not found" + (" (waited %d s for it to replicate)" % seconds if seconds else "")
                                       + ("; give a user principal name (name@domain) or an object id" if kind == "User" and "@" not in name
                                          and not is_guid(name) else "")
                                       + did_you_mean(suggestions.get((kind, fold(name))))))
    problems.extend("%s: %r matches %d %ss (ids %s): give the object id of the one to use" % (option[kind], name, len(ids), kind.lower(), ", ".join(ids))
                    for kind, name, ids in ambiguous)
    return problems


def suggest_principals(graph, unknown):
    """``{(kind, folded name): [closest existing names]}`` for unknown principals: one request per kind that has any."""
    suggestions = {}
    for kind, collection, by_name, _select in PRINCIPAL_KINDS:
        names = [name for unknown_kind, name in unknown if unknown_kind == kind]
        if names:
            suggestions.update(((kind, name), found) for name, found in closest_names(graph, collection, by_name, names).items())
    return suggestions


# ---------------------------------------------------------------------------------------------- plan and apply

def plan_changes(principals, assignments, role_id, state, exclusive):
    """``(add, remove, keep)``: principals to assign, assignments to delete, and the listed principals left as they are."""
    current = dict((fold(item["principalId"]), item) for item in assignments if fold(item.get("appRoleId")) == fold(role_id))
    wanted, add, keep, remove = set(), [], [], []
    for principal in principals:
        key = principal["principal_id"] if not is_known_after_run(principal["principal_id"]) else (principal["principal_type"], fold(principal["name"]))
        if key in wanted:
            continue
        wanted.add(key)
        existing = current.get(principal["principal_id"])
        if state == "present":
            (keep if existing else add).append(dict(principal, assignment_id=existing["id"] if existing else None))
        elif existing:
            remove.append(dict(principal, assignment_id=existing["id"]))
        else:
            keep.append(dict(principal, assignment_id=None))
    if state == "present" and exclusive:
        for principal_id, item in current.items():
            if principal_id not in wanted and item.get("principalType") in MANAGED_TYPES:
                remove.append(dict(name=item.get("principalDisplayName"), principal_type=item.get("principalType"), principal_id=principal_id,
                                   principal_display_name=item.get("principalDisplayName"), assignment_id=item["id"]))
    return add, remove, keep


def apply_changes(graph, sp_id, role_id, add, remove, wait, waiter):
    """Write the plan in batches. Returns ``(added, removed, kept, failures)`` (kept: already there after all)."""
    base = entity_path("/servicePrincipals", sp_id, "appRoleAssignedTo")
    requests = [{"method": "POST", "url": base, "body": {"principalId": item["principal_id"], "resourceId": sp_id, "appRoleId": role_id}} for item in add]
    requests += [{"method": "DELETE", "url": entity_path(base, item["assignment_id"])} for item in remove]
    unsure = set()

    def classify(request, error):
        if request["method"] == "POST" and _already_exists(error):
            return None
        if is_ambiguous(error):
            unsure.add(id(request))
            return "transient"
        if request["method"] == "POST" and is_replication_lag(error):
            return "replication"
        return None

    answers = write_all(graph, requests, classify, wait, waiter)
    added, removed, kept, failures = [], [], [], []
    for item, request, answer in zip(add + remove, requests, answers):
        if request["method"] == "POST":
            if isinstance(answer, dict):
                added.append(dict(item, assignment_id=answer.get("id")))
            elif _already_exists(answer):
                (added if id(request) in unsure else kept).append(item)
            else:
                failures.append((item, "assigning %s failed: %s" % (describe(item), _explain(answer))))
        elif not isinstance(answer, GraphError) or answer.status == 404:
            removed.append(item)
        else:
            failures.append((item, "removing the assignment of %s failed: %s" % (describe(item), _explain(answer))))
    return added, removed, kept, failures


def describe(item):
    shown = item.get("name") or item.get("principal_display_name")
    return "%s %s" % (item.get("principal_type", "principal").lower(), shown if shown == item["principal_id"] else "%s (%s)" % (shown, item["principal_id"]))


def _already_exists(error):
    return isinstance(error, GraphError) and message_kind(error) == ASSIGNMENT_EXISTS  # a 400 with no code of its own


def _explain(error):
    if message_kind(error) == APP_ROLE_NOT_ON_RESOURCE:
        return "the app role is not on the service principal (yet): check role, or run again when the app's roles have replicated (%s)" % error.message
    if error.status == 403:
        return ("the automation identity needs AppRoleAssignment.ReadWrite.All and Application.Read.All (or Directory.Read.All) (%s)"
                % mask_secrets(error.message))
    return mask_secrets(str(error))


def assignments_after(assignments, present, removed, role_id, names=None):
    """Every assignment of the service principal after the changes, as result entries (all app roles, all principal types).

    ``assignments`` as read (Graph fields, the task's one read), ``present`` the principals assigned ``role_id`` by this task or
    found assigned after all (``added`` and ``keep``), ``removed`` the assignments deleted; no request is made. ``names`` maps a
    principal id to the name it was listed by (``users``/``groups``); other principals are named by their display name.
    Sorted by principal type, then name.
    """
    names = names or {}
    gone = set(item.get("assignment_id") for item in removed if item.get("assignment_id"))
    after, seen = [], set()
    for item in assignments:
        if item.get("id") in gone:
            continue
        principal_id, app_role_id = fold(item.get("principalId")), fold(item.get("appRoleId"))
        seen.add((principal_id, app_role_id))
        after.append({"principal_type": item.get("principalType"), "principal_id": principal_id,
                      "name": names.get(principal_id) or item.get("principalDisplayName"),
                      "principal_display_name": item.get("principalDisplayName"), "app_role_id": app_role_id, "assignment_id": item.get("id")})
    for item in present:
        if (item["principal_id"], fold(role_id)) in seen and not is_known_after_run(item["principal_id"]):
            continue
        seen.add((item["principal_id"], fold(role_id)))
        entry = result_entry(item, role_id)
        entry["name"] = names.get(item["principal_id"]) or entry["name"] or entry["principal_display_name"]
        after.append(entry)
    return sorted(after, key=lambda entry: (entry["principal_type"] or "", fold(entry["name"] or ""), entry["principal_id"] or ""))


def result_entry(item, role_id):
    return {"principal_type": item["principal_type"], "principal_id": item["principal_id"], "name": item.get("name"),
            "principal_display_name": item.get("principal_display_name"), "app_role_id": role_id,
            "assignment_id": item.get("assignment_id")}

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users: a plan per user, batched writes, and errors that say what to do (the input rules are ``_entra/user_rules.py``).

Graph behaviour relied on (docs/graph-facts.md, Users):

* ``POST /users`` needs accountEnabled, displayName, mailNickname, userPrincipalName and passwordProfile;
  it answers 201 with the default property subset (the id is what matters). A plain GET does not show
  ``accountEnabled``: reads always ``$select`` what is compared.
* the UPN's local part takes ``A-Z a-z 0-9 ' . - _ ! # ^ ~ $`` and the backtick (real Graph accepted ``$user#000001@``); its domain must be a verified domain;
  a UPN held by another object is 400 with an ``ObjectConflict`` detail.
* passwords: 8-256 characters, three of lower case, upper case, digits and symbols, no Unicode, not banned.
* changing another user's password (``passwordProfile`` in a PATCH) needs more than User.ReadWrite.All (403).
* ``DELETE /users/{id}`` is a soft delete: the user stays restorable for 30 days, but Entra renames it to
  ``<object id without hyphens><UPN>`` and so frees its user principal name, which a new user may take at once
  (restoring the old one then needs another name). So a deleted user never blocks a create, and is not looked for.
* ``employeeType`` (a plain string, writable with User.ReadWrite.All, read with ``$select``) carries the ``created_by``
  mark: written only when a user is created, so a user someone else created never gets it.
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import (
    TRANSIENT_ROUNDS,
    all_items,
    find_by,
    find_many_waiting,
    fold,
    is_ambiguous,
    send_all,
    write_all,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, mask_secrets
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    MAIL_NICKNAME_INVALID,
    PASSWORD_TOO_WEAK,
    UPN_CONFLICT,
    UPN_DOMAIN_NOT_VERIFIED,
    UPN_INVALID,
    entity_path,
    message_kind,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.property_table import changed_options, desired
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import NICKNAME_RULE, PASSWORD_RULE, UPN_RULE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_properties import (  # re-exports the table's names  # pylint: disable=unused-import
    MARK_PROPERTY,
    USER,
    USER_PROPERTIES,
    USER_SELECT,
    shown,
    user_view,
)

DOMAINS_REQUEST = {"method": "GET", "url": "/domains?$select=id,isVerified"}

PASSWORD_PERMISSION = ("Changing the password of an existing user needs the Microsoft Graph permission User-PasswordProfile.ReadWrite.All "
                       "(or the User Administrator role) for the automation identity; keep update_password set to on_create to set passwords "
                       "only when users are created")


# ---------------------------------------------------------------------------------------------- plan and write

def desired_properties(entry, creating):
    """The Graph properties ``entry`` asks for (the table's compared rows); when ``creating``, with the defaults a new user needs."""
    wanted = desired(USER_PROPERTIES, USER, entry, None)
    if creating:
        local_part = entry["user_principal_name"].split("@")[0]
        wanted.setdefault("mailNickname", local_part)
        wanted.setdefault("displayName", local_part)
        wanted.setdefault("accountEnabled", True)
    return wanted


# ---------------------------------------------------------------------------------------------- the run

class UserSync:
    """Plans and applies many users: one lookup round, one round of writes, explanations for what failed."""

    def __init__(self, graph, waiter, check_mode=False):
        self.graph = graph
        self.waiter = waiter
        self.check_mode = check_mode
        self._domains = None

    def run(self, entries):
        """Per entry a result dict (``action``: created, updated, unchanged, deleted, absent, kept or failed); plus the diff."""
        found = find_by(self.graph, "/users", "userPrincipalName", [entry["user_principal_name"] for entry in entries], USER_SELECT)
        plans = [self._plan(entry, (found[fold(entry["user_principal_name"])] or [None])[0]) for entry in entries]
        writes = [plan for plan in plans if plan.get("request")]
        if writes and self.check_mode:
            self._predict_create_failures([plan for plan in writes if plan["action"] == "created"])
        elif writes:
            self._apply(writes)
        return [self._result(plan) for plan in plans], self._diff(plans)

    def _predict_create_failures(self, plans):
        """Check mode: the creates Entra ID would refuse for their domain (one read of the domains)."""
        if not plans:
            return
        verified = [fold(domain) for domain in self.verified_domains()]
        for plan in plans:
            upn = plan["entry"]["user_principal_name"]
            if verified and fold(upn.split("@")[1]) not in verified:
                plan["error"] = self.domain_error(upn)

    # ---- planning
    def _plan(self, entry, current):
        upn = entry["user_principal_name"]
        plan = {"entry": entry, "current": current, "changes": [], "action": "unchanged"}
        if entry["state"] == "absent":
            if current is not None and entry.get("created_by") is not None and current.get(MARK_PROPERTY) != entry["created_by"]:
                plan.update(action="kept", reason="not created by %s (its employeeType is %s): delete it by hand if no one needs it"
                            % (entry["created_by"], "empty" if not current.get(MARK_PROPERTY) else repr(current.get(MARK_PROPERTY))))
            elif current is not None:
                plan.update(action="deleted", request={"method": "DELETE", "url": entity_path("/users", current["id"])})
            else:
                plan["action"] = "absent"
            return plan
        if current is None:
            if entry.get("password") is None:
                return dict(plan, action="failed", error="password is required to create the user (it does not exist yet): set password")
            body = dict(desired_properties(entry, creating=True), userPrincipalName=upn)
            if entry.get("created_by") is not None:
                body[MARK_PROPERTY] = entry["created_by"]  # only on create: an existing user never gets the mark
            body["passwordProfile"] = {"password": entry["password"], "forceChangePasswordNextSignIn": entry["force_change_password_next_sign_in"]}
            plan.update(action="created", after=dict((k, v) for k, v in body.items() if k != "passwordProfile"),
                        request={"method": "POST", "url": "/users", "body": body})
            return plan
        wanted = desired_properties(entry, creating=False)
        plan["changes"] = changed_options(USER_PROPERTIES, USER, current, wanted)
        delta = dict((row.path, wanted[row.path]) for row in USER_PROPERTIES if row.option in plan["changes"])
        plan["after"] = dict(current, **delta)
        if entry.get("update_password") == "always":
            delta["passwordProfile"] = {"password": entry["password"], "forceChangePasswordNextSignIn": entry["force_change_password_next_sign_in"]}
            plan["changes"].append("password")
        if delta:
            plan.update(action="updated", request={"method": "PATCH", "url": entity_path("/users", current["id"]), "body": delta})
        return plan

    # ---- writing
    def _apply(self, plans):
        """Send every write in one batched round; creates with an unknown outcome are looked for before being sent again."""
        def classify(request, error):
            if request["method"] in ("PATCH", "DELETE") and is_ambiguous(error):
                return "transient"
            return None

        answers = write_all(self.graph, [plan["request"] for plan in plans], classify, 0, self.waiter)
        for plan, answer in zip(plans, answers):
            plan["answer"] = answer
        unsure = [plan for plan in plans if plan["action"] == "created" and isinstance(plan["answer"], GraphError) and is_ambiguous(plan["answer"])]
        for _round in range(TRANSIENT_ROUNDS - 1):
            if not unsure:
                break
            unsure = self._settle_creates(unsure)
        failed = [plan for plan in plans if isinstance(plan["answer"], GraphError)
                  and not (plan["action"] == "deleted" and plan["answer"].status == 404)]
        for plan in failed:
            plan["error"] = self._explain(plan, plan["answer"])

    def _settle_creates(self, plans):
        """Creates whose answer was lost: those now visible are done; the others are sent again. Returns those still unsure."""
        upns = [plan["entry"]["user_principal_name"] for plan in plans]
        found = find_many_waiting(self.graph, [("/users", "userPrincipalName", upns, USER_SELECT)], 30, self.waiter)[0]
        again = []
        for plan in plans:
            existing = found[fold(plan["entry"]["user_principal_name"])]
            if existing:
                plan["answer"] = existing[0]
            else:
                again.append(plan)
        for plan, answer in zip(again, send_all(self.graph, [plan["request"] for plan in again])):
            plan["answer"] = answer
        return [plan for plan in again if isinstance(plan["answer"], GraphError) and is_ambiguous(plan["answer"])]

    # ---- explaining
    def _explain(self, plan, error):
        upn = plan["entry"]["user_principal_name"]
        kind = message_kind(error)  # Graph tells these only in words (Request_BadRequest): _graph_client reads them, here they are explained
        if kind == UPN_DOMAIN_NOT_VERIFIED:
            return self.domain_error(upn)
        if kind == PASSWORD_TOO_WEAK:
            return ("password was refused by the password policy of Entra ID (%s, and not a commonly used or banned password): "
                    "choose another" % PASSWORD_RULE)
        if kind == UPN_INVALID:
            return "user_principal_name %r is invalid: %s" % (upn, UPN_RULE)
        if kind == MAIL_NICKNAME_INVALID:
            return "mail_nickname %r is invalid: %s" % (plan["request"]["body"].get("mailNickname"), NICKNAME_RULE)
        if _is_upn_conflict(error):
            return ("user_principal_name %s is already used by another object (a user created moments ago, or another object's "
                    "proxy address or sign-in name; a deleted user does not hold it): choose another user_principal_name" % upn)
        if error.status == 403 and "passwordProfile" in (plan["request"].get("body") or {}):
            return "%s (%s)" % (PASSWORD_PERMISSION, mask_secrets(error.message))
        return mask_secrets(str(error))

    def domain_error(self, upn):
        domain, verified = upn.split("@")[1], self.verified_domains()
        return ("the domain %s of user_principal_name %s is not a verified domain of the tenant: use one of %s, or verify %s first"
                % (domain, upn, ", ".join(verified) if verified else "(the verified domains could not be read)", domain))

    def verified_domains(self):
        """Names of the tenant's verified domains (read once, only to explain an error)."""
        if self._domains is None:
            try:
                self._domains = self._domain_names(send_all(self.graph, [DOMAINS_REQUEST])[0])
            except GraphError:
                self._domains = []
        return self._domains

    def _domain_names(self, answer):
        if isinstance(answer, GraphError):
            raise answer
        return sorted(domain["id"] for domain in all_items(self.graph, answer) if domain.get("isVerified"))

    # ---- reporting
    def _result(self, plan):
        entry, current, action = plan["entry"], plan["current"], plan["action"]
        upn = entry["user_principal_name"]
        if plan.get("error"):
            action = "failed"
        if action == "created":
            answer = plan.get("answer")
            user_id = answer.get("id") if isinstance(answer, dict) else KNOWN_AFTER_RUN
            result = user_view(upn, user_id, plan["after"])
        elif current is not None:
            result = user_view(current.get("userPrincipalName") or upn, current["id"], plan.get("after") or current)
        else:
            result = user_view(upn, None, {})
        result.update(action=action, changed=action in ("created", "updated", "deleted"), changes=plan["changes"])
        if action == "failed":
            result["error"] = plan["error"]
        if action == "kept":
            result["reason"] = plan["reason"]
        return result

    @staticmethod
    def _diff(plans):
        before, after = {}, {}
        for plan in plans:
            if plan["action"] not in ("created", "updated", "deleted") or plan.get("error"):
                continue
            upn = plan["entry"]["user_principal_name"]
            if plan["current"] is not None:
                before[upn] = shown(plan["current"])
            if plan["action"] != "deleted":
                after[upn] = shown(plan["after"])
                if "password" in plan["changes"]:
                    after[upn]["password"] = "(changed)"
        return before, after


def _is_upn_conflict(error):
    """400 with an ``ObjectConflict`` detail (the UPN is the only unique property a user write sends), or its words when Graph gives no detail."""
    return isinstance(error, GraphError) and error.status == 400 and ("ObjectConflict" in error.detail_codes or message_kind(error) == UPN_CONFLICT)

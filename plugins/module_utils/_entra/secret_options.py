# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_secret``'s options and plans: every input checked before the first request (the option and the fix named), the
lifetime refusals of a tenant's app management policy told by their error code, and which secrets to add or remove.
"""

import datetime

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import MAX_IN_FLIGHT_TIMEOUT
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import format_date_time, parse_date_time
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import DAY, in_use, is_expired, lifetime_problem, named, seconds_left

# addPassword refused by an app management policy (docs/graph-facts.md, Client secrets): Graph's error codes, not its words.
LIFETIME_POLICY_CODES = ("CredentialInvalidLifetimeAsPerAppPolicy",)
TYPE_POLICY_CODES = ("CredentialTypeNotAllowedAsPerAppPolicy",)


class SecretOptionError(ValueError):
    """An option value that cannot work; the message names the option and the fix."""


# ---------------------------------------------------------------------------------------------- options
def check_options(params, now, check_mode=False):
    """Validate the entra_secret options before any request; return the wanted end date (None for absent).

    In check mode, ``app_id`` / ``app_object_id`` may be check mode's placeholder (an app entra_app would create), and so may
    ``keep_key_id`` (the secret state=present would add); outside it the placeholder is refused. Raises ``SecretOptionError`` naming the option and the fix.
    """
    state = params["state"]
    for name in ("app_id", "app_object_id"):
        if is_known_after_run(params.get(name)) and not check_mode:
            raise SecretOptionError("%s is %r, check mode's placeholder for an app that does not exist yet: outside check mode give the "
                                    "app registration's real %s (entra_app's result after a real run)." % (
                                        name, params[name], "Application (client) ID" if name == "app_id" else "Object ID"))
    if is_known_after_run(params.get("keep_key_id")) and not check_mode:
        raise SecretOptionError("keep_key_id is %r, check mode's placeholder for a secret that is not added yet: outside check mode give "
                                "the real key_id that entra_secret (state=present) returned when it added the secret." % params["keep_key_id"])
    for name in ("app_id", "app_object_id", "key_id", "keep_key_id", "held_key_id"):
        value = params.get(name)
        if name in ("app_id", "app_object_id", "keep_key_id") and is_known_after_run(value):
            continue
        if value is not None and not GUID_RE.match(value) and not (name == "held_key_id" and value == ""):
            raise SecretOptionError("%s must be a GUID such as 00000000-0000-0000-0000-000000000000, got %r%s." % (
                name, value, ": the Application (client) ID of the app registration" if name == "app_id" else
                ": the Object ID of the app registration (not of its enterprise application)" if name == "app_object_id" else
                ": the key_id a previous run returned (the portal's Secret ID)" if name != "held_key_id" else
                ": the key_id of the secret its consumer holds now, or an empty string when it holds none"))
    if not (params.get("display_name") or "").strip():
        raise SecretOptionError("display_name must not be empty: give the description the secret has in the portal, e.g. 'smarttrace'.")
    if params["rotate_before_days"] < 0:
        raise SecretOptionError("rotate_before_days must be 0 or more (days before the end date when a new secret is added).")
    if params["wait_timeout"] < 0:
        raise SecretOptionError("wait_timeout must be 0 or more seconds.")
    if not 0 <= (params.get("in_flight_timeout") or 0) <= MAX_IN_FLIGHT_TIMEOUT:
        raise SecretOptionError("in_flight_timeout must be 0 (off) to %d seconds, got %s: how long a secret another run added counts as being "
                                "handed over." % (MAX_IN_FLIGHT_TIMEOUT, params.get("in_flight_timeout")))
    if params.get("held_key_id") is not None and not params.get("in_flight_timeout"):
        raise SecretOptionError("held_key_id is used only with in_flight_timeout (runs that overlap): set in_flight_timeout, or remove held_key_id.")
    current_problem = _current_secrets_problem(params.get("current_secrets"))
    if current_problem:
        raise SecretOptionError(current_problem)
    only = {"present": ("expires_in_days", "end_date", "force", "held_key_id", "verify", "allow_long_lifetime", "current_secrets"),
            "absent": ("key_id", "keep_key_id")}
    for other_state, names in only.items():
        if other_state == state:
            continue
        for name in names:
            if params.get(name) not in (None, False):
                raise SecretOptionError("%s is used only with state=%s: remove it, or set state=%s." % (name, other_state, other_state))
    if state == "absent":
        return None
    end_date = params.get("end_date")
    if end_date is None:
        days = 180 if params.get("expires_in_days") is None else params["expires_in_days"]
        if days < 1:
            raise SecretOptionError("expires_in_days must be 1 or more, got %d." % days)
        refusal = lifetime_problem(days, params.get("allow_long_lifetime"))
        if refusal:
            raise SecretOptionError(refusal)
        if params["rotate_before_days"] >= days:
            raise SecretOptionError("rotate_before_days (%d) must be less than expires_in_days (%d), or every run would add a new secret: "
                                    "lower rotate_before_days or raise expires_in_days." % (params["rotate_before_days"], days))
        return now + datetime.timedelta(days=days)
    end = parse_date_time(end_date)
    if end is None:
        raise SecretOptionError("end_date %r is not a date: give YYYY-MM-DD (midnight UTC) or a date-time such as 2027-01-31T12:00:00Z." % (end_date,))
    if end <= now:
        raise SecretOptionError("end_date %s is in the past (now is %s): give a future date, or use expires_in_days instead." % (
            format_date_time(end), format_date_time(now)))
    refusal = lifetime_problem((end - now).total_seconds() / DAY, params.get("allow_long_lifetime"), option="end_date %s" % format_date_time(end))
    if refusal:
        raise SecretOptionError(refusal)
    if (end - now).total_seconds() <= params["rotate_before_days"] * DAY:
        raise SecretOptionError("end_date %s is only %.1f days away, not more than rotate_before_days (%d): a secret ending then would be replaced "
                                "on the next run. Choose a later end_date or a smaller rotate_before_days." % (
                                    format_date_time(end), (end - now).total_seconds() / DAY, params["rotate_before_days"]))
    return end


def _current_secrets_problem(secrets):
    """Why ``current_secrets`` cannot be the app's secrets as read moments before, or None."""
    for index, item in enumerate(secrets or []):
        if not isinstance(item, dict) or not GUID_RE.match(str(item.get("key_id") or "")) or not isinstance(item.get("display_name"), str):
            return ("current_secrets[%d] must be a secret as entra_app_info, entra_tenant_info or this module's credentials return it "
                    "(key_id a GUID, display_name, start_date, end_date): remove current_secrets to have the module read the app." % index)
    return None


def graph_credentials(secrets):
    """``current_secrets`` (the modules' secret entries) as Graph's passwordCredentials."""
    return [{"keyId": item["key_id"], "displayName": item["display_name"], "hint": item.get("hint"),
             "startDateTime": item.get("start_date"), "endDateTime": item.get("end_date")} for item in secrets]


def lifetime_text(params):
    """How the caller asked for the lifetime, for messages (``expires_in_days=180`` or ``end_date=...``)."""
    if params.get("end_date") is not None:
        return "end_date=%s" % params["end_date"]
    return "expires_in_days=%s" % (180 if params.get("expires_in_days") is None else params["expires_in_days"])


def explain_add_error(error, params):
    """A clear message for an addPassword refused by a tenant policy (docs/graph-facts.md, Client secrets), else None.

    Decided on Graph's error code (and its details' codes), never on the message's words.
    """
    if not isinstance(error, GraphError) or error.status not in (400, 403):
        return None
    codes = set([error.code] + list(error.detail_codes))
    if codes.intersection(LIFETIME_POLICY_CODES):
        return ("%s is longer than the tenant allows: an app management policy limits the lifetime of client secrets. "
                "Choose a shorter expires_in_days or an earlier end_date" % lifetime_text(params))
    if codes.intersection(TYPE_POLICY_CODES):
        return ("the tenant does not allow client secrets on this application: an app management policy blocks them. "
                "Use a certificate, or ask an administrator for an exemption")
    return None


# ---------------------------------------------------------------------------------------------- plans
def plan_present(credentials, display_name, rotate_before_days, now, force=False):
    """``(current, add)``: the secret of this display name that stays in use, and whether to add a new one.

    Unchanged while a secret with this display name has more than ``rotate_before_days`` days left; else
    (or with ``force``) a new one is added. The old one is never removed in the same step.
    """
    current = in_use(named(credentials, display_name), now)
    if force or current is None:
        return current, True
    return current, seconds_left(current, now) <= rotate_before_days * DAY


def plan_absent(credentials, display_name, now, key_id=None, keep_key_id=None):
    """The credentials to remove (of this display name only). Raises ``SecretOptionError`` when keeping is unsafe."""
    mine = named(credentials, display_name)
    if key_id:
        for credential in credentials or []:
            if (credential.get("keyId") or "").lower() == key_id.lower() and credential.get("displayName") != display_name:
                owner = credential.get("displayName")
                raise SecretOptionError("key_id %s belongs to the secret named %r, not %r: nothing was removed. Give the display_name of that "
                                        "secret, or the key_id of a secret named %r." % (key_id, owner, display_name, display_name))
        return [credential for credential in mine if credential["keyId"].lower() == key_id.lower()]
    if is_known_after_run(keep_key_id):  # check mode: the secret to keep is the one state=present would add, so every other goes
        return list(mine)
    if keep_key_id:
        keep = [credential for credential in mine if credential["keyId"].lower() == keep_key_id.lower()]
        if not keep:
            raise SecretOptionError("keep_key_id %s is not a secret named %r of this application, so no secret is known to be in use: "
                                    "nothing was removed. Give the key_id that entra_secret returned when it added the new secret." % (
                                        keep_key_id, display_name))
        if is_expired(keep[0], now):
            raise SecretOptionError("keep_key_id %s expired on %s, so it cannot be the secret in use: nothing was removed. Add a new secret "
                                    "(state=present), give it to its consumer, then retire with its key_id." % (keep_key_id, keep[0].get("endDateTime")))
        return [credential for credential in mine if credential is not keep[0]]
    return list(mine)

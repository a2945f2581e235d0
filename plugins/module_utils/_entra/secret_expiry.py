# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dates of client secrets (``passwordCredentials``): parsing, time left, the secret in use, expiry warnings.

Shared by ``entra_secret`` (through ``_entra/secrets.py``), ``entra_app_info`` and ``entra_tenant_info``, which need only
this part: a task's module code is compiled anew from the AnsiballZ payload on every task (docs/performance.md).

    for text in expiry_warnings(app["passwordCredentials"], module.params["rotate_before_days"], utc_now(), app_label(app)):
        module.warn(text)
"""

import datetime
import math

from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import UTC, parse_date_time

DAY = 86400.0
CLOCK_SKEW = datetime.timedelta(minutes=5)  # between this host and Microsoft Graph, as Entra ID allows for tokens
#: The longest lifetime of a client secret without allow_long_lifetime: 24 months, the longest the Entra admin center
#: offers and Microsoft recommends. One definition for entra_secret and the role (filter smarttrace.sso.secret_lifetime_problem).
RECOMMENDED_MAX_DAYS = 730


# ---------------------------------------------------------------------------------------------- lifetime
def lifetime_problem(days, allowed, option="expires_in_days", allow_option="allow_long_lifetime"):
    """The refusal, naming ``option`` and the way out, for a lifetime of more than ``RECOMMENDED_MAX_DAYS`` whole days that is
    not ``allowed``; None when it is fine. ``days`` may be fractional (an end date): whole days count."""
    whole = int(math.floor(days))
    if allowed or whole <= RECOMMENDED_MAX_DAYS:
        return None
    return ("%s gives the secret %d days, more than the %d days (24 months) Microsoft recommends and the Entra admin center offers "
            "(a long-lived secret stays usable long after a leak): give at most %d days and rotate, or set %s to true to allow it."
            % (option, whole, RECOMMENDED_MAX_DAYS, RECOMMENDED_MAX_DAYS, allow_option))


def seconds_left(credential, now):
    """Seconds until the credential's ``endDateTime`` (negative once expired; -inf when unreadable)."""
    end = parse_date_time(credential.get("endDateTime"))
    return (end - now).total_seconds() if end else -math.inf


def days_left(credential, now):
    """Whole days left (rounded down; negative once expired)."""
    seconds = seconds_left(credential, now)
    return int(math.floor(seconds / DAY)) if seconds != -math.inf else None


def is_expired(credential, now):
    return seconds_left(credential, now) <= 0


def _started(credential, now):
    """True when the secret has started, allowing CLOCK_SKEW: Graph stamps a new secret with its own clock, a moment after the
    module's ``now`` (and the two clocks may differ), so a secret just added counts as started."""
    start = parse_date_time(credential.get("startDateTime"))
    return start is None or start <= now + CLOCK_SKEW


def describe(credential, now):
    """The public facts of one secret, as the modules return them (never a value)."""
    return {
        "key_id": credential.get("keyId"),
        "display_name": credential.get("displayName"),
        "hint": credential.get("hint"),
        "start_date": credential.get("startDateTime"),
        "end_date": credential.get("endDateTime"),
        "days_left": days_left(credential, now),
    }


# ---------------------------------------------------------------------------------------------- which secret
def named(credentials, display_name):
    """The credentials whose ``displayName`` is exactly ``display_name`` (Graph does not keep it unique)."""
    return [credential for credential in credentials or [] if credential.get("displayName") == display_name]


def _end_key(credential):
    """End, then start, then key id: a total order, so the pick never depends on the order Graph lists secrets in (it promises none)."""
    end = parse_date_time(credential.get("endDateTime"))
    start = parse_date_time(credential.get("startDateTime"))
    return (end or datetime.datetime.min.replace(tzinfo=UTC), start or datetime.datetime.min.replace(tzinfo=UTC), (credential.get("keyId") or "").lower())


def in_use(credentials, now, key_id=None):
    """The secret a consumer most probably signs in with, among ``credentials`` (of one display name).

    The one with ``key_id`` when given and present; else, of the valid ones (started, not expired), the one
    that ends last (after a rotation, the new one); else the one that ended last; None when there is none.
    Graph cannot know which value a consumer holds: this is the best guess, and the warnings say so.
    """
    credentials = list(credentials or [])
    if key_id:
        for credential in credentials:
            if (credential.get("keyId") or "").lower() == key_id.lower():
                return credential
    valid = [credential for credential in credentials if _started(credential, now) and not is_expired(credential, now)]
    pool = valid or credentials
    return max(pool, key=_end_key) if pool else None


def app_label(app):
    """``application 'SmartTrace' (app_id ...)`` for messages."""
    return "application '%s' (app_id %s)" % (app.get("displayName"), app.get("appId"))


def _credential_label(credential):
    return "Client secret '%s' (key_id %s, hint %s)" % (credential.get("displayName"), credential.get("keyId"), credential.get("hint"))


def as_graph_credential(item):
    """A passwordCredential as Graph shapes it, from Graph's shape or a module's view of it
    (``key_id``, ``display_name``, ``hint``, ``start``/``start_date``, ``end``/``end_date``)."""
    if "keyId" in item or "key_id" not in item:
        return item
    return {"keyId": item.get("key_id"), "displayName": item.get("display_name"), "hint": item.get("hint"),
            "startDateTime": item.get("start_date", item.get("start")), "endDateTime": item.get("end_date", item.get("end"))}


def expiry_warnings(credentials, rotate_before_days, now, app_text):
    """Warnings for the secrets that may break sign-in within ``rotate_before_days``, per display name.

    For each display name: the secret in use (``in_use``) when it expires within the window or has expired,
    and every older secret that expires within the window while a newer one exists (its consumer may not
    have the new value yet). Expired older secrets are not mentioned: nothing can sign in with them.
    ``credentials`` are Graph's ``passwordCredentials`` or a module's view of them (``as_graph_credential``).
    """
    window = rotate_before_days * DAY
    groups = {}
    for credential in (as_graph_credential(item) for item in credentials or []):
        groups.setdefault(credential.get("displayName"), []).append(credential)
    warnings = []
    for group in groups.values():
        group.sort(key=_end_key)   # the warnings come in one order, whatever order Graph listed the secrets in
    for name in sorted(groups, key=lambda item: item or ""):
        group = groups[name]
        current = in_use(group, now)
        left = seconds_left(current, now)
        if left <= 0:
            warnings.append("%s of %s expired on %s: nothing can sign in with it any more. Add a new one (smarttrace.sso.entra_secret, "
                            "state=present) and give its value to its consumer." % (_credential_label(current), app_text, current.get("endDateTime")))
        elif left <= window:
            warnings.append("%s of %s expires in %s, on %s (rotate_before_days=%s). Rotate it: add a new one (smarttrace.sso.entra_secret, "
                            "state=present), give its value to its consumer, then retire the old one (state=absent, keep_key_id=<the new key_id>)."
                            % (_credential_label(current), app_text, _days_text(current, now), current.get("endDateTime"), rotate_before_days))
        for older in group:
            if older is current or is_expired(older, now) or seconds_left(older, now) > window:
                continue
            warnings.append("%s of %s expires in %s, on %s, and a newer one exists (key_id %s). If its consumer still uses the old one, "
                            "give it the newer value now; then retire the old one (smarttrace.sso.entra_secret, state=absent, keep_key_id=%s)."
                            % (_credential_label(older), app_text, _days_text(older, now), older.get("endDateTime"), current.get("keyId"),
                               current.get("keyId")))
    return warnings


def _days_text(credential, now):
    days = days_left(credential, now)
    return "less than a day" if days is None or days < 1 else "%d day%s" % (days, "" if days == 1 else "s")

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SmartTrace's Azure AD integration as the modules see it: the values to store (input checks naming the option and the
fix), the integration "view" of an answer, and the plan (PUT, PATCH, DELETE or nothing) that makes SmartTrace hold them.
What the API is and how it is spoken is ``_smarttrace/client.py``; field names and rules of the contract are here.

Check mode's placeholder (``KNOWN_AFTER_RUN``) stands for a value only a real run knows (the app entra_app would create,
the secret entra_secret would add): ``desired_integration`` accepts it in check mode only, and the plan it gives is the one
the real run would carry out (a new secret is a ``PUT``).
"""

import collections
import re

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE, KNOWN_AFTER_RUN, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import parse_date_time as _parse_date_time

# SmartTrace's OIDC callbacks always live on its public API host, whatever api_url is used to configure it.
REDIRECT_URI = "https://api.smarttrace.ai/v1/auth/callback/azure/%s"
LOGOUT_URI = "https://api.smarttrace.ai/v1/auth/callback/azure-logout/%s"
DATE_TIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d+))?([Zz]|([+-])([01]\d|2[0-3]):([0-5]\d))\Z")
SECRET_MIN_LENGTH, SECRET_MAX_LENGTH, HINT_LENGTH = 16, 256, 3

# AzureAdIntegration: what the modules return. Anything else an answer holds is dropped (a secret never passes).
INTEGRATION_FIELDS = ("instance", "enabled", "application_id", "tenant_id", "client_secret_set", "client_secret_hint",
                      "client_secret_id", "client_secret_expires_at", "redirect_uri", "logout_uri", "updated_at")
# What a person compares in --diff (the secret only as its hint).
DIFF_FIELDS = ("enabled", "application_id", "tenant_id", "client_secret_hint", "client_secret_id", "client_secret_expires_at", "updated_at")
# The options that may be check mode's placeholder (values the real run learns from an earlier task).
PLACEHOLDER_OPTIONS = ("application_id", "tenant_id", "client_secret", "client_secret_id", "client_secret_expires_at")

Plan = collections.namedtuple("Plan", ["method", "body", "after"])


class InputError(ValueError):
    """Module input that cannot work; the message names the option and the fix."""


class NeedsSecretError(ValueError):
    """The change needs ``client_secret`` (SmartTrace cannot be given the secret's id alone); the message says why."""


# ---------------------------------------------------------------------- input
def parse_date_time(value):
    """An aware ``datetime`` for an RFC 3339 date-time with a time zone (what SmartTrace stores), or None when ``value`` is not one.

    The format rule (``DATE_TIME_RE``: a time and a zone required) is SmartTrace's; the parsing is the collection's one
    parser, ``_common/dates.parse_date_time``.
    """
    if not isinstance(value, str) or not DATE_TIME_RE.match(value):
        return None
    return _parse_date_time(value)


def _uuid_problem(option, value, what):
    if value is None or GUID_RE.match(value.strip()):
        return None
    text = "%s must be %s, a GUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6" % (option, what)
    if option == "tenant_id" and "." in value:
        text += "; SmartTrace does not take a domain name: use the Directory (tenant) ID from the tenant's Overview page"
    return text


def desired_integration(params, check_mode=False):
    """The values to store, normalized, from the module options; ``InputError`` listing every problem (option and fix).

    In check mode, an option of ``PLACEHOLDER_OPTIONS`` may be check mode's placeholder (it is then not checked further);
    outside check mode the placeholder is a problem naming the option.
    """
    problems = []
    placeholders = [option for option in PLACEHOLDER_OPTIONS if is_known_after_run(params.get(option))]
    if placeholders and not check_mode:
        problems.extend("%s is %r, check mode's placeholder for a value only a real run knows: outside check mode give the real value "
                        "(the result of the task that creates it)" % (option, KNOWN_AFTER_RUN) for option in placeholders)
    params = dict((name, None if name in placeholders else value) for name, value in params.items())
    for option, what in (("application_id", "the Application (client) ID of the app registration (not its Object ID)"),
                         ("tenant_id", "the Directory (tenant) ID"),
                         ("client_secret_id", "the Secret ID (keyId) of client_secret in the app registration")):
        problem = _uuid_problem(option, params.get(option), what)
        if problem:
            problems.append(problem)
    secret = params.get("client_secret")
    if secret is not None:
        if GUID_RE.match(secret.strip()):
            problems.append("client_secret looks like a Secret ID (a GUID): give the secret's Value, shown once when the secret was created")
        elif not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
            problems.append("client_secret must be %d to %d characters long (it has %d): give the secret's Value"
                            % (SECRET_MIN_LENGTH, SECRET_MAX_LENGTH, len(secret)))
    expires_at = params.get("client_secret_expires_at")
    if expires_at is not None and parse_date_time(expires_at) is None:
        problems.append("client_secret_expires_at must be an RFC 3339 date-time with a time zone, e.g. 2027-01-31T12:00:00Z "
                        "(the secret's endDateTime in Entra ID)")
    if problems:
        raise InputError("; ".join(problems))
    desired = {
        "application_id": _lower(params.get("application_id")),
        "tenant_id": _lower(params.get("tenant_id")),
        "client_secret": secret,
        "client_secret_id": _lower(params.get("client_secret_id")),
        "client_secret_expires_at": expires_at,
    }
    desired.update((option, KNOWN_AFTER_RUN) for option in placeholders)
    return desired


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


# ---------------------------------------------------------------------- the integration and what to change
def callback_uris(instance):
    """(redirect URI, front-channel logout URI) SmartTrace expects in the app registration for ``instance``."""
    return REDIRECT_URI % instance, LOGOUT_URI % instance


def integration_view(body, instance):
    """The integration as SmartTrace reports it, restricted to ``INTEGRATION_FIELDS`` (nothing secret can pass)."""
    body = body if isinstance(body, dict) else {}
    view = dict((name, body.get(name)) for name in INTEGRATION_FIELDS)
    redirect_uri, logout_uri = callback_uris(instance)
    view["instance"] = view["instance"] or instance
    view["enabled"] = bool(view["enabled"])
    view["client_secret_set"] = bool(view["client_secret_set"])
    view["redirect_uri"] = view["redirect_uri"] or redirect_uri
    view["logout_uri"] = view["logout_uri"] or logout_uri
    view["logout_url"] = view["logout_uri"]  # the collection's one spelling (entra_app, the role); logout_uri is SmartTrace's field
    return view


def given_integration(value, instance):
    """The integration a caller read moments before (``current_integration``: smarttrace_integration_info's ``integration``) as
    a view, or None when none was given (an empty dict counts as none). ``InputError`` when it is not one of ``instance``."""
    if not value:
        return None
    missing = [name for name in ("instance", "enabled", "client_secret_set") if name not in value]
    if missing or str(value.get("instance")).lower() != instance:
        raise InputError("current_integration must be the integration of instance %s as smarttrace.sso.smarttrace_integration_info returned "
                         "it (%s): remove current_integration to have the module read it" % (
                             instance, "missing %s" % ", ".join(missing) if missing else "it is of instance %s" % value.get("instance")))
    return integration_view(value, instance)


def diff_view(view):
    """The part of an integration view shown in ``--diff`` (the secret only as its hint)."""
    return dict((name, view.get(name)) for name in DIFF_FIELDS) if view else None


def same_id(first, second):
    return (first or "").lower() == (second or "").lower()


def same_instant(first, second):
    """Whether two date-times name the same moment (``2027-01-31T12:00:00Z`` = ``2027-01-31T13:00:00+01:00``)."""
    if first is None or second is None:
        return first == second
    parsed = parse_date_time(first), parse_date_time(second)
    return parsed[0] == parsed[1] if None not in parsed else first == second


def has_values(view):
    """Whether there is anything to remove."""
    return bool(view["enabled"] or view["client_secret_set"] or view["application_id"] or view["tenant_id"])


def plan_present(current, desired):
    """``Plan`` that makes SmartTrace hold ``desired`` (``method`` None: nothing to do); ``NeedsSecretError`` when it needs a secret.

    The secret is never read back: it counts as unchanged when its hint (first 3 characters) and, if
    ``client_secret_id`` is given, its key id match. A new secret is saved with ``PUT`` (all values, so a
    stale key id or expiry of the old secret goes too); other changes are a ``PATCH`` of what differs.
    """
    secret, secret_id = desired["client_secret"], desired["client_secret_id"]
    instance = current["instance"]
    if not current["client_secret_set"]:
        if secret is None:
            raise NeedsSecretError("SmartTrace holds no client secret for instance %s yet: give client_secret (the secret's Value) "
                                   "to configure the integration" % instance)
        return _put_plan(current, desired)
    if is_known_after_run(secret):  # check mode: a secret the real run adds is a new one
        return _put_plan(current, desired)
    if secret is not None:
        if secret[:HINT_LENGTH] != current["client_secret_hint"] or (secret_id is not None and not same_id(secret_id, current["client_secret_id"])):
            return _put_plan(current, desired)
    elif secret_id is not None and not same_id(secret_id, current["client_secret_id"]):
        raise NeedsSecretError("client_secret_id %s is not the key id of the secret SmartTrace holds for instance %s (%s): "
                               "give client_secret, the Value of secret %s, to replace it"
                               % (secret_id, instance, current["client_secret_id"] or "no key id recorded", secret_id))
    patch = dict((name, desired[name]) for name in ("application_id", "tenant_id") if not same_id(desired[name], current[name]))
    if desired["client_secret_expires_at"] is not None and not same_instant(desired["client_secret_expires_at"], current["client_secret_expires_at"]):
        patch["client_secret_expires_at"] = desired["client_secret_expires_at"]
    if not current["enabled"]:
        patch["enabled"] = True
    if not patch:
        return Plan(None, None, current)
    after = dict(current, updated_at=KNOWN_AFTER_RUN, **patch)
    return Plan("PATCH", patch, after)


def _put_plan(current, desired):
    body = dict((name, desired[name]) for name in ("application_id", "tenant_id", "client_secret", "client_secret_id", "client_secret_expires_at")
                if desired[name] is not None)
    after = dict(current, enabled=True, application_id=desired["application_id"], tenant_id=desired["tenant_id"], client_secret_set=True,
                 client_secret_hint=_hint(desired["client_secret"]), client_secret_id=desired["client_secret_id"],
                 client_secret_expires_at=desired["client_secret_expires_at"], updated_at=KNOWN_AFTER_RUN)
    return Plan("PUT", body, after)


def _hint(secret):
    """What SmartTrace will show of ``secret``: its first characters (check mode's placeholder for a secret not added yet)."""
    return KNOWN_AFTER_RUN if is_known_after_run(secret) else secret[:HINT_LENGTH]


def plan_absent(current):
    """``Plan`` that removes the integration: ``DELETE``, after which it reads as never configured; None when nothing is set."""
    if not has_values(current):
        return Plan(None, None, current)
    after = dict(current, enabled=False, application_id=None, tenant_id=None, client_secret_set=False, client_secret_hint=None,
                 client_secret_id=None, client_secret_expires_at=None, updated_at=None)
    return Plan("DELETE", None, after)

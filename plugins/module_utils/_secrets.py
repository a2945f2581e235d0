# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client secrets (``passwordCredentials``) of an application: the options, plans and the read / add / remove /
wait steps of ``entra_secret`` (docs/graph-facts.md: Client secrets, Idempotency, Replication). Dates, the secret in use and the expiry
warnings, which ``entra_app_info`` shares, are in ``_secret_expiry.py``.

Graph shows a secret's value only in the answer to ``addPassword``. ``AppSecrets.add`` takes it out of
that answer at once and hands it to the caller; nothing else here ever sees a value (``hint``, the first
three characters, is public in Graph and in the portal).
"""

import datetime
import time

from ansible_collections.smarttrace.sso.plugins.module_utils._concurrent_runs import (
    MAX_IN_FLIGHT_TIMEOUT,
    ConcurrentRunError,
    ahead_of,
    in_flight,
    secret_in_flight_message,
    spared,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._errors import AuthenticationError, GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph_client import entity_path, key_path
from ansible_collections.smarttrace.sso.plugins.module_utils._retry_policy import Deadline, RETRIED_STATUSES, backoff_delay, wait_until
from ansible_collections.smarttrace.sso.plugins.module_utils._secret_expiry import (
    DAY,
    app_label,
    describe,
    expiry_warnings,
    format_date_time,
    in_use,
    is_expired,
    lifetime_problem,
    named,
    parse_date_time,
    seconds_left,
)

from ansible_collections.smarttrace.sso.plugins.module_utils._identifiers import GUID_RE, KNOWN_AFTER_RUN
APP_SELECT = "id,appId,displayName,passwordCredentials"
# After addPassword, the new keyId must show up in this many consecutive reads, this many seconds apart,
# before a re-run can be trusted to see it (Terraform's azuread provider asks for 5).
SIGHTINGS = 3
SIGHTING_INTERVAL = 1.0
MAX_ADD_POSTS = 2  # a lost addPassword answer is sent once more (its secret's value is lost either way)
# Token endpoint answers that mean "not replicated yet" for a secret (or an app) added moments ago: Entra refuses a new
# secret with AADSTS7000215 until it reaches the token endpoint's replicas, a new app with 700016, a new service principal
# with 7000229. Within verify_timeout they are asked again; after it, they are the verdict.
VERIFY_REPLICATION_CODES = ("7000215", "700016", "7000229")
VERIFY_RETRY_STATUSES = RETRIED_STATUSES
VERIFY_MAX_DELAY = 10.0


class SecretOptionError(ValueError):
    """An option value that cannot work; the message names the option and the fix."""


# ---------------------------------------------------------------------------------------------- options
def check_options(params, now):
    """Validate the entra_secret options before any request; return the wanted end date (None for absent).

    Raises ``SecretOptionError`` naming the option and the fix.
    """
    state = params["state"]
    for name in ("app_id", "app_object_id", "key_id", "keep_key_id", "held_key_id"):
        value = params.get(name)
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
    only = {"present": ("expires_in_days", "end_date", "force", "held_key_id", "verify", "allow_long_lifetime"),
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


def lifetime_text(params):
    """How the caller asked for the lifetime, for messages (``expires_in_days=180`` or ``end_date=...``)."""
    if params.get("end_date") is not None:
        return "end_date=%s" % params["end_date"]
    return "expires_in_days=%s" % (180 if params.get("expires_in_days") is None else params["expires_in_days"])


def explain_add_error(error, params):
    """A clear message for an addPassword refused by a tenant policy (docs/graph-facts.md, Client secrets), else None."""
    if not isinstance(error, GraphError) or error.status not in (400, 403):
        return None
    text = "%s %s" % (error.code or "", error.message or "")
    lowered = text.lower()
    if "lifetime" in lowered:
        return ("%s is longer than the tenant allows: an app management policy limits the lifetime of client secrets. "
                "Choose a shorter expires_in_days or an earlier end_date" % lifetime_text(params))
    if "not allowed as per assigned policy" in lowered or "credentialtypenotallowed" in lowered:
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


# ---------------------------------------------------------------------------------------------- Graph steps
def _ambiguous(error):
    """True when an addPassword may or may not have happened: no answer, a timeout, or a 5xx other than 501/503."""
    return error.status is None or error.status in (408, 500, 502, 504)


class AppSecrets:
    """The client secrets of one application, read and changed through a ``GraphClient``.

    ``wait_timeout`` bounds every wait for replication: for the application to become visible, and for a
    new secret's keyId to show up in reads.
    """

    def __init__(self, graph, app_id=None, object_id=None, wait_timeout=120, sleep=None, clock=None):
        self.graph = graph
        self.app_id = app_id
        self.object_id = object_id
        self.wait_timeout = wait_timeout
        self.app = None
        self.lost_answers = []
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic

    @property
    def label(self):
        if self.app:
            return app_label(self.app)
        return "application with %s" % ("app_id %s" % self.app_id if self.app_id else "app_object_id %s" % self.object_id)

    @property
    def _path(self):
        return entity_path("/applications", self.object_id)

    def read(self):
        """The application (id, appId, displayName, passwordCredentials): one GET, repeated only while it 404s (replication)."""
        path = key_path("/applications", "appId", self.app_id) if self.app_id else self._path
        app = wait_until(lambda: self.graph.get_or_none(path, params={"$select": APP_SELECT}), Deadline(self.wait_timeout, self._clock),
                         sleep=self._sleep, delay=lambda attempt: backoff_delay(attempt, 1.0, 10.0), done=lambda found: found is not None)
        if app is None:
            raise SecretOptionError("there is no %s in this tenant%s: check %s. An application created moments ago can take a while to "
                                    "replicate: raise wait_timeout for that." % (
                                        self.label, " (waited %d s)" % self.wait_timeout if self.wait_timeout else "",
                                        "app_id, the Application (client) ID" if self.app_id else
                                        "app_object_id, the Object ID of the app registration (not of its enterprise application)"))
        self.app = app
        self.object_id = app.get("id") or self.object_id
        self.app_id = app.get("appId") or self.app_id
        return list(app.get("passwordCredentials") or [])

    def _read_credentials(self):
        body = self.graph.get(self._path, params={"$select": "passwordCredentials"}) or {}
        return list(body.get("passwordCredentials") or [])

    def add(self, display_name, end):
        """addPassword; return the new credential, ``secretText`` included (the only copy there will ever be).

        A POST whose answer is lost (timeout, 5xx other than 503) is sent once more: the value of a secret
        created by the lost request is lost too, so re-reading cannot help; ``wait_visible`` removes it.
        """
        body = {"passwordCredential": {"displayName": display_name, "endDateTime": format_date_time(end)}}
        for post in range(1, MAX_ADD_POSTS + 1):
            try:
                return self.graph.request("POST", self._path + "/addPassword", body=body, idempotent=False)
            except GraphError as error:
                if not _ambiguous(error) or post == MAX_ADD_POSTS:
                    raise
                self.lost_answers.append(error)
        raise AssertionError("unreachable")  # pragma: no cover

    def remove(self, key_ids):
        """removePassword for each keyId (``$batch`` when more than one); return (removed, already gone, errors)."""
        removed, gone, errors = [], [], []
        if not key_ids:
            return removed, gone, errors
        path = self._path + "/removePassword"
        if len(key_ids) == 1:
            try:
                self.graph.request("POST", path, body={"keyId": key_ids[0]}, idempotent=True)
                results = [None]
            except GraphError as error:
                results = [error]
        else:
            results = self.graph.batch([{"method": "POST", "url": path, "body": {"keyId": key_id}} for key_id in key_ids])
        for key_id, result in zip(key_ids, results):
            if not isinstance(result, GraphError):
                removed.append(key_id)
            elif result.status == 404:
                gone.append(key_id)
            else:
                errors.append(result)
        return removed, gone, errors

    def wait_visible(self, key_id, display_name, known_key_ids):
        """Read until ``key_id`` shows up in ``SIGHTINGS`` consecutive reads, within ``wait_timeout``.

        Returns (visible, credentials as last read, orphans removed). After a lost addPassword answer, a
        secret of this display name that was neither there before nor is the new one is an orphan (its value
        is lost): it is removed.
        """
        state = {"seen": 0, "credentials": None}
        orphans = []
        known = set(key.lower() for key in known_key_ids)
        if self.wait_timeout <= 0:
            return False, None, orphans

        def read():
            credentials = state["credentials"] = self._read_credentials()
            if self.lost_answers:
                lost = [c["keyId"] for c in named(credentials, display_name) if c["keyId"].lower() not in known and c["keyId"] != key_id]
                if lost:
                    removed, gone, _errors = self.remove(lost)
                    orphans.extend(removed + gone)
                    known.update(key.lower() for key in lost)
            state["seen"] = state["seen"] + 1 if any(c.get("keyId") == key_id for c in credentials) else 0
            return state["seen"] >= SIGHTINGS

        def delay(attempt):  # once seen, the next sightings come at a steady pace; until then, the policy's backoff shape
            return SIGHTING_INTERVAL if state["seen"] else min(SIGHTING_INTERVAL * 2 ** (attempt - 1), 10.0)

        if wait_until(read, Deadline(self.wait_timeout, self._clock), sleep=self._sleep, delay=delay):
            return True, state["credentials"], orphans
        credentials = state["credentials"]
        return False, credentials, orphans


class SecretVerifier:
    """Proves a new client secret where it will be used: a client-credentials token request to Entra ID's token endpoint.

    One POST per attempt (no OpenID discovery, no msal): ``grant_type=client_credentials`` for the app with the new secret
    and ``scope`` the cloud's Graph ``/.default``, which Entra answers for any app of the tenant (the token is discarded).
    Replication refusals (``VERIFY_REPLICATION_CODES``), throttling, 5xx and lost connections are asked again with a growing
    delay until ``timeout`` seconds have passed; any other AADSTS code is the verdict at once.
    """

    def __init__(self, session, token_url, scope, timeout=120, sleep=None, clock=None):
        self.session = session
        self.token_url = token_url
        self.scope = scope
        self.timeout = timeout
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic

    def verify(self, client_id, secret):
        """{"verified", "attempts", "waited", "error" (AuthenticationError or None)}; never raises for the endpoint's answers."""
        started = self._clock()
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": self.scope}
        last = {"error": None, "retry_after": None, "attempts": 0}

        def attempt():
            last["attempts"] += 1
            last["error"], last["retry_after"] = self._attempt(form)
            error = last["error"]
            # a verdict: a token came back, or an answer that waiting cannot change
            return error is None or not (error.aadsts in VERIFY_REPLICATION_CODES or error.status in VERIFY_RETRY_STATUSES or error.status is None)

        def delay(number):
            return last["retry_after"] if last["retry_after"] is not None else min(2.0 ** (number - 1), VERIFY_MAX_DELAY)

        wait_until(attempt, Deadline(self.timeout, self._clock), sleep=self._sleep, delay=delay)
        error = last["error"]
        return {"verified": error is None, "attempts": last["attempts"], "waited": round(self._clock() - started, 1), "error": error}

    def _attempt(self, form):
        """(None, None) when a token came back; else (AuthenticationError, Retry-After seconds or None). No secret in either."""
        try:
            response = self.session.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except Exception as exc:  # noqa: BLE001 - a transport failure (its text may name the URL, never the form)
            return AuthenticationError("cannot reach the token endpoint (%s)" % type(exc).__name__, method="client_secret"), None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return None, None
        retry_after = response.headers.get("Retry-After")
        try:
            retry_after = min(float(retry_after), 60.0) if retry_after is not None else None
        except ValueError:
            retry_after = None
        if isinstance(body, dict) and body.get("error"):
            return AuthenticationError.from_token_response(body, status=response.status_code, method="client_secret"), retry_after
        return AuthenticationError("the token endpoint answered HTTP %s" % response.status_code, status=response.status_code,
                                   method="client_secret"), retry_after


class SecretVerificationError(Exception):
    """The new secret did not work at the token endpoint; it was removed again (or the message says how to)."""

    def __init__(self, message, key_id, verification, removed):
        super().__init__(message)
        self.key_id = key_id
        self.removed = removed
        error = verification["error"]
        self.result = {"verification": {"verified": False, "attempts": verification["attempts"], "waited_seconds": verification["waited"],
                                        "aadsts": error.aadsts, "error": error.error},
                       "removed_key_ids": [key_id] if removed else []}


def verification_failed(store, new, verification):
    """Remove the secret that did not work and return the error naming the AADSTS cause (the value goes nowhere)."""
    error = verification["error"]
    removed, gone, errors = store.remove([new["keyId"]])
    cause = error.message if not error.aadsts or error.message.startswith("AADSTS") else "AADSTS%s: %s" % (error.aadsts, error.message)
    message = ("The new secret (key_id %s) did not work at Entra ID's token endpoint: %s, after %d attempt(s) in %.0f s."
               % (new["keyId"], cause, verification["attempts"], verification["waited"]))
    if error.aadsts in VERIFY_REPLICATION_CODES:
        message += (" Entra ID may take longer than verify_timeout to replicate a new secret: raise verify_timeout and run again."
                    if error.aadsts == "7000215" else " The application is not (yet) known to the token endpoint: %s." % (error.hint or "run again later"))
    elif error.hint:
        message += " Fix: %s." % error.hint
    if errors:
        message += (" Removing it failed too (%s): retire it with state=absent and key_id=%s." % (errors[0].code or errors[0].status, new["keyId"]))
        return SecretVerificationError(message, new["keyId"], verification, removed=False)
    message += " It was removed again; the other secrets are unchanged."
    return SecretVerificationError(message, new["keyId"], verification, removed=bool(removed or gone))


# ---------------------------------------------------------------------------------------------- entra_secret runs
def _public(credential):
    return dict((key, credential.get(key)) for key in ("keyId", "displayName", "hint", "startDateTime", "endDateTime"))


def _age_key(credential):
    """Oldest first; a secret that would be added (check mode) last."""
    start = credential.get("startDateTime")
    return (start == KNOWN_AFTER_RUN, str(start), str(credential.get("keyId")))


def _view(store, display_name, credentials):
    """What ``--diff`` shows: the secrets of this display name (no values, no days left: those change daily)."""
    secrets = [{"key_id": credential.get("keyId"), "hint": credential.get("hint"), "start_date": credential.get("startDateTime"),
                "end_date": credential.get("endDateTime")}
               for credential in sorted(credentials, key=_age_key)]
    return {"application": store.label, "display_name": display_name, "secrets": secrets}


def _outcome(store, changed, display_name, before, after, now, rotate_before_days, warnings=(), added=None, **extra):
    """The module's result; the secret it describes is the one ``added`` in this run, else the one ``in_use`` guesses."""
    result = {"app_id": store.app_id, "app_object_id": store.object_id, "credentials": [describe(c, now) for c in sorted(after, key=_age_key)]}
    current = in_use(after, now, key_id=added["keyId"] if added else None)
    if current is not None:
        result.update((key, value) for key, value in describe(current, now).items() if key != "display_name")
    result.update(extra)
    warnings = list(warnings) + expiry_warnings(after, rotate_before_days, now, store.label)
    return {"changed": changed, "before": _view(store, display_name, before), "after": _view(store, display_name, after),
            "result": result, "warnings": warnings, "error": None}


def ensure_present(store, params, now, check_mode, end, verifier=None):
    """state=present: keep the secret in use while it has more than rotate_before_days left, else (or with force) add one."""
    display_name, rotate = params["display_name"], params["rotate_before_days"]
    credentials = store.read()
    mine = named(credentials, display_name)
    add = plan_present(credentials, display_name, rotate, now, params.get("force"))[1]
    if not add:
        return _outcome(store, False, display_name, mine, mine, now, rotate)
    timeout, held = params.get("in_flight_timeout") or 0, params.get("held_key_id")
    if timeout:
        flying = in_flight(credentials, display_name, held, now, timeout)
        if flying:
            raise ConcurrentRunError(secret_in_flight_message(flying, timeout))
    if check_mode:
        predicted = {"keyId": KNOWN_AFTER_RUN, "displayName": display_name, "hint": KNOWN_AFTER_RUN, "startDateTime": KNOWN_AFTER_RUN,
                     "endDateTime": format_date_time(end)}
        return _outcome(store, True, display_name, mine, mine + [predicted], now, rotate)
    try:
        created = store.add(display_name, end)
    except GraphError as error:
        explanation = explain_add_error(error, params)
        if explanation:
            error.explanation = explanation
        raise
    secret = created.pop("secretText", None)
    new = _public(created)
    after, warnings = mine + [new], []
    # From here on nothing may fail the task: the value exists only in ``secret``.
    try:
        visible, latest, orphans = store.wait_visible(new["keyId"], display_name, [c.get("keyId") for c in credentials])
        if latest is not None:
            after = [c for c in named(latest, display_name) if c.get("keyId") not in orphans]
            if not any(c.get("keyId") == new["keyId"] for c in after):
                after.append(new)
        if store.wait_timeout and not visible:
            warnings.append("The new secret (key_id %s) did not show up in %d consecutive reads within wait_timeout=%d s: Microsoft Graph is "
                            "still replicating it, and a run before it shows up would add another one. Wait a few minutes before running "
                            "again, or raise wait_timeout." % (new["keyId"], SIGHTINGS, store.wait_timeout))
        if timeout:
            first = ahead_of(latest or after, display_name, held, now, timeout, new["keyId"])
            if first:
                _yield(store, new, first, timeout)
        if orphans:
            warnings.append("Microsoft Graph did not answer an addPassword request but created the secret anyway (key_id %s): its value was "
                            "lost with the answer, so it was removed; the secret returned now replaces it." % ", ".join(orphans))
        elif store.lost_answers:
            warnings.append("Microsoft Graph did not answer an addPassword request (%s), so it was sent again. If the first request created a "
                            "secret too, one more secret named %r whose value nobody knows may appear; retire it with state=absent and "
                            "keep_key_id=%s." % (store.lost_answers[0].message, display_name, new["keyId"]))
    except ConcurrentRunError:
        raise
    except Exception as exc:  # noqa: BLE001 - the new secret must reach the caller whatever happens
        warnings.append("The new secret (key_id %s) was added, but waiting for it to replicate failed (%s): wait a few minutes before "
                        "running again, or a second secret may be added." % (new["keyId"], type(exc).__name__))
    extra = {}
    if verifier is not None:
        verification = verifier.verify(store.app_id, secret)
        if not verification["verified"]:
            secret = None
            raise verification_failed(store, new, verification)
        extra["verification"] = {"verified": True, "attempts": verification["attempts"], "waited_seconds": verification["waited"]}
    return _outcome(store, True, display_name, mine, after, now, rotate, warnings, added=new, secret=secret, **extra)


def _yield(store, new, first, timeout):
    """Another run added its secret first: remove the one just added (its value goes nowhere) and stop."""
    removed, gone, errors = store.remove([new["keyId"]])
    if errors:
        raise ConcurrentRunError(secret_in_flight_message(first, timeout) + " Removing the secret this run added at the same moment (key id %s) "
                                 "failed (%s): retire it with state=absent and key_id=%s." % (new["keyId"], errors[0].code or errors[0].status,
                                                                                              new["keyId"]))
    raise ConcurrentRunError(secret_in_flight_message(first, timeout, undone=(removed + gone)[0]))


def ensure_absent(store, params, now, check_mode):
    """state=absent: remove the secrets of this display name (all, one key_id, or all but keep_key_id)."""
    display_name, rotate = params["display_name"], params["rotate_before_days"]
    credentials = store.read()
    mine = named(credentials, display_name)
    try:
        doomed = plan_absent(credentials, display_name, now, params.get("key_id"), params.get("keep_key_id"))
    except SecretOptionError as error:
        if params.get("keep_key_id") and "is not a secret" in str(error):
            raise SecretOptionError(str(error) + " If it was added moments ago, Microsoft Graph may still be replicating it: run again in a minute.")
        raise
    warnings = []
    keep = next((c for c in mine if params.get("keep_key_id") and c["keyId"].lower() == params["keep_key_id"].lower()), None)
    if keep is not None and params.get("in_flight_timeout"):
        flying = spared(doomed, keep, display_name, now, params["in_flight_timeout"])
        if flying:
            doomed = [c for c in doomed if c not in flying]
            warnings.append("Kept %s: newer than keep_key_id %s and added less than in_flight_timeout=%d s ago, so another run may be handing "
                            "it over." % (", ".join("key id %s" % c["keyId"] for c in flying), keep["keyId"], params["in_flight_timeout"]))
    doomed_ids = [c["keyId"] for c in doomed]
    if check_mode or not doomed_ids:
        after = [c for c in mine if c["keyId"] not in doomed_ids]
        return _outcome(store, bool(doomed_ids), display_name, mine, after, now, rotate, warnings, removed_key_ids=doomed_ids)
    removed, gone, errors = store.remove(doomed_ids)
    after = [c for c in mine if c["keyId"] not in removed and c["keyId"] not in gone]
    outcome = _outcome(store, bool(removed), display_name, mine, after, now, rotate, warnings, removed_key_ids=removed)
    if errors:
        outcome["error"] = errors[0]
    return outcome

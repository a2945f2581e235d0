# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client secrets (``passwordCredentials``) of an application: the read / add / remove / wait steps and the runs of
``entra_secret`` (docs/graph-facts.md: Client secrets, Idempotency, Replication). Its options and plans are in
``_entra/secret_options.py``, the proof at the token endpoint in ``_entra/secret_verify.py``; dates, the secret in use and the expiry
warnings, which ``entra_app_info`` shares, in ``_entra/secret_expiry.py``.

Graph shows a secret's value only in the answer to ``addPassword``. ``AppSecrets.add`` takes it out of
that answer at once and hands it to the caller; nothing else here ever sees a value (``hint``, the first
three characters, is public in Graph and in the portal).
"""

import time

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import (
    ConcurrentRunError,
    ahead_of,
    in_flight,
    secret_in_flight_message,
    spared,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path, key_path, not_found
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline, backoff_delay, wait_until
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import format_date_time
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import app_label, describe, expiry_warnings, in_use, named
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_options import SecretOptionError, explain_add_error, plan_absent, plan_present
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_verify import verification_failed

APP_SELECT = "id,appId,displayName,passwordCredentials"
# After addPassword, the new keyId must show up in this many consecutive reads, this many seconds apart,
# before a re-run can be trusted to see it (Terraform's azuread provider asks for 5). With verify, Entra ID's token endpoint
# has accepted the secret before it is returned, and one sighting is enough: it gives the runs that overlap their turn
# (in_flight_timeout), and the role's retiring reads the app again afterwards.
SIGHTINGS = 3
VERIFIED_SIGHTINGS = 1
SIGHTING_INTERVAL = 1.0
MAX_ADD_POSTS = 2  # a lost addPassword answer is sent once more (its secret's value is lost either way)


# ---------------------------------------------------------------------------------------------- Graph steps
def _ambiguous(error):
    """True when an addPassword may or may not have happened: no answer, a timeout, or a 5xx other than 501/503."""
    return error.status is None or error.status in (408, 500, 502, 504)


class AppSecrets:
    """The client secrets of one application, read and changed through a ``GraphClient``.

    ``wait_timeout`` bounds every wait for replication: for the application to become visible, and for a
    new secret's keyId to show up in reads; ``deadline`` (the task's time budget, a ``Deadline``) bounds them too.
    ``known``: the app's passwordCredentials as the caller read them moments before (``current_secrets``), so
    ``read`` makes no request. An app id that is check mode's placeholder is an app to be created: no secrets, no request.
    """

    def __init__(self, graph, app_id=None, object_id=None, wait_timeout=120, sleep=None, clock=None, known=None, deadline=None):
        self.graph = graph
        self.app_id = app_id
        self.object_id = object_id
        self.wait_timeout = wait_timeout
        self.app = None
        self.known = known
        self.deadline = deadline
        self.lost_answers = []
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic

    @property
    def predicted(self):
        """Whether the app is one check mode predicts (its id is the placeholder): it cannot be read."""
        return is_known_after_run(self.app_id) or is_known_after_run(self.object_id)

    @property
    def label(self):
        if self.app:
            return app_label(self.app)
        if self.predicted:
            return "the application entra_app would create"
        return "application with %s" % ("app_id %s" % self.app_id if self.app_id else "app_object_id %s" % self.object_id)

    @property
    def _path(self):
        return entity_path("/applications", self.object_id) if self.object_id else key_path("/applications", "appId", self.app_id)

    def _action_path(self, action):
        """``addPassword`` / ``removePassword`` of the app. Graph v1.0 defines these actions on the object id's path only, not on
        the alternate key ``(appId='...')`` (docs/graph-facts.md), so an app known by its appId alone (the caller gave
        ``current_secrets`` and no ``app_object_id``) has its ids read first (``_read_ids``)."""
        if not self.object_id:
            self._read_ids()
        return entity_path("/applications", self.object_id, action)

    def client_id(self):
        """The app's Application (client) ID, which a new secret's proof needs: read (``_read_ids``) only when the caller gave
        the Object ID alone with ``current_secrets``."""
        if not self.app_id:
            self._read_ids()
        return self.app_id

    def _read_ids(self):
        """Both of the app's ids, by the one the caller gave: one GET of ``id,appId``, waited for while the app replicates."""
        found = wait_until(lambda: self.graph.get_or_none(self._path, params={"$select": "id,appId"}), self._wait(self.wait_timeout),
                           sleep=self._sleep, delay=lambda attempt: backoff_delay(attempt, 1.0, 10.0), done=lambda answer: answer is not None)
        if found is None:
            raise SecretOptionError("there is no %s in this tenant: check %s." % (
                self.label, "app_id, the Application (client) ID" if self.app_id else
                "app_object_id, the Object ID of the app registration (not of its enterprise application)"))
        self.object_id, self.app_id = found["id"], found["appId"]

    def _wait(self, seconds):
        return Deadline.earliest(Deadline(seconds, self._clock), self.deadline)

    def read(self):
        """The application's passwordCredentials: one GET of the app (id, appId, displayName, passwordCredentials), repeated only
        while it 404s (replication); none when the caller gave them (``known``) or the app is check mode's prediction."""
        if self.predicted:
            return []
        if self.known is not None:
            return list(self.known)
        path = key_path("/applications", "appId", self.app_id) if self.app_id else self._path
        app = wait_until(lambda: self.graph.get_or_none(path, params={"$select": APP_SELECT}), self._wait(self.wait_timeout),
                         sleep=self._sleep, delay=lambda attempt: backoff_delay(attempt, 1.0, 10.0), done=lambda found: found is not None)
        if app is None:
            raise SecretOptionError("there is no %s in this tenant%s: check %s. An application created moments ago can take a while to "
                                    "replicate: raise wait_timeout for that." % (
                                        self.label, " (waited %d s)" % self.wait_timeout if self.wait_timeout else "",
                                        "app_id, the Application (client) ID" if self.app_id else
                                        "app_object_id, the Object ID of the app registration (not of its enterprise application)"))
        if self.object_id and self.app_id and app.get("id") and app["id"].lower() != self.object_id.lower():
            raise SecretOptionError("app_id %s and app_object_id %s name two different app registrations (app_id's Object ID is %s): give "
                                    "one of them, or both of the same app." % (self.app_id, self.object_id, app["id"]))
        self.app = app
        self.object_id = app.get("id") or self.object_id
        self.app_id = app.get("appId") or self.app_id
        return list(app.get("passwordCredentials") or [])

    def _read_credentials(self):
        body = self.graph.get_or_none(self._path, params={"$select": "passwordCredentials"}) or {}  # 404: not replicated yet
        return list(body.get("passwordCredentials") or [])

    def read_after_add(self):
        """One read of the credentials (after an add whose app was not read first); None when the app is not visible yet."""
        body = self.graph.get_or_none(self._path, params={"$select": "passwordCredentials"})
        return None if body is None else list(body.get("passwordCredentials") or [])

    def add(self, display_name, end):
        """addPassword; return the new credential, ``secretText`` included (the only copy there will ever be).

        A POST whose answer is lost (timeout, 5xx other than 503) is sent once more: the value of a secret
        created by the lost request is lost too, so re-reading cannot help; ``wait_visible`` removes it.
        """
        body = {"passwordCredential": {"displayName": display_name, "endDateTime": format_date_time(end)}}
        # an app not read first (``known``) may have been created moments ago: 404 means not replicated yet (nothing was added)
        retry_on = (not_found,) if self.app is None else ()
        for post in range(1, MAX_ADD_POSTS + 1):
            try:
                return self.graph.request("POST", self._action_path("addPassword"), body=body, idempotent=False, retry_on=retry_on,
                                          deadline=self._wait(self.wait_timeout) if retry_on else None)
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
        path = self._action_path("removePassword")
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

    def wait_visible(self, key_id, display_name, known_key_ids, sightings=SIGHTINGS):
        """Read until ``key_id`` shows up in ``sightings`` consecutive reads, within ``wait_timeout``.

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
            return state["seen"] >= sightings

        def delay(attempt):  # once seen, the next sightings come at a steady pace; until then, the policy's backoff shape
            return SIGHTING_INTERVAL if state["seen"] else min(SIGHTING_INTERVAL * 2 ** (attempt - 1), 10.0)

        if wait_until(read, self._wait(self.wait_timeout), sleep=self._sleep, delay=delay):
            return True, state["credentials"], orphans
        credentials = state["credentials"]
        return False, credentials, orphans


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
        return _outcome(store, True, display_name, mine, mine + [predicted], now, rotate, secret=KNOWN_AFTER_RUN)
    if verifier is not None:
        store.client_id()  # before the secret exists: its proof needs the client ID
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
    sightings = VERIFIED_SIGHTINGS if verifier is not None else SIGHTINGS
    try:
        visible, latest, orphans = store.wait_visible(new["keyId"], display_name, [c.get("keyId") for c in credentials], sightings)
        if latest is None and timeout and store.known is not None:
            latest = store.read_after_add()  # the turn is decided on what Graph holds now, not on the caller's earlier read
        if latest is not None:
            after = [c for c in named(latest, display_name) if c.get("keyId") not in orphans]
            if not any(c.get("keyId") == new["keyId"] for c in after):
                after.append(new)
        if store.wait_timeout and not visible:
            warnings.append("The new secret (key_id %s) did not show up in %d consecutive reads within wait_timeout=%d s: Microsoft Graph "
                            "is still replicating it, and a run before it shows up would add another one. Wait a few minutes before running "
                            "again, or raise wait_timeout." % (new["keyId"], sightings, store.wait_timeout))
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
        verification = verifier.verify(store.client_id(), secret)
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
    if is_known_after_run(params.get("keep_key_id")):
        # check mode, the secret to keep still to add: the real run reads it among these, keeps it and removes the others
        added = {"keyId": KNOWN_AFTER_RUN, "displayName": display_name, "hint": KNOWN_AFTER_RUN, "startDateTime": KNOWN_AFTER_RUN,
                 "endDateTime": KNOWN_AFTER_RUN}
        outcome = _outcome(store, bool(doomed_ids), display_name, mine + [added], [added], now, rotate, removed_key_ids=doomed_ids)
        outcome["warnings"] = []  # the secret in use would be the new one: its dates are not known, so nothing is close to expiry
        return outcome
    if check_mode or not doomed_ids:
        after = [c for c in mine if c["keyId"] not in doomed_ids]
        return _outcome(store, bool(doomed_ids), display_name, mine, after, now, rotate, warnings, removed_key_ids=doomed_ids)
    removed, gone, errors = store.remove(doomed_ids)
    after = [c for c in mine if c["keyId"] not in removed and c["keyId"] not in gone]
    outcome = _outcome(store, bool(removed), display_name, mine, after, now, rotate, warnings, removed_key_ids=removed)
    if errors:
        outcome["error"] = errors[0]
    return outcome

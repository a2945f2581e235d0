# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proof that a client secret added moments ago works: a client-credentials token request at Entra ID's token endpoint
(``entra_secret``'s ``verify``), and the error that removes a secret that does not (docs/graph-facts.md: Client secrets).
"""

import time

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline, RETRIED_STATUSES, wait_until

# Token endpoint answers that mean "not replicated yet" for a secret (or an app) added moments ago: Entra refuses a new
# secret with AADSTS7000215 until it reaches the token endpoint's replicas, a new app with 700016, a new service principal
# with 7000229. Within verify_timeout they are asked again; after it, they are the verdict.
VERIFY_REPLICATION_CODES = ("7000215", "700016", "7000229")
VERIFY_RETRY_STATUSES = RETRIED_STATUSES
VERIFY_MAX_DELAY = 10.0


class SecretVerifier:
    """Proves a new client secret where it will be used: a client-credentials token request to Entra ID's token endpoint.

    One POST per attempt (no OpenID discovery, no msal): ``grant_type=client_credentials`` for the app with the new secret
    and ``scope`` the cloud's Graph ``/.default``, which Entra answers for any app of the tenant (the token is discarded).
    Replication refusals (``VERIFY_REPLICATION_CODES``), throttling, 5xx and lost connections are asked again with a growing
    delay until ``timeout`` seconds have passed (or the task's ``deadline``, a ``Deadline``); any other AADSTS code is the verdict at once.
    """

    def __init__(self, session, token_url, scope, timeout=120, sleep=None, clock=None, deadline=None):
        self.session = session
        self.token_url = token_url
        self.scope = scope
        self.timeout = timeout
        self.deadline = deadline
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

        wait_until(attempt, Deadline.earliest(Deadline(self.timeout, self._clock), self.deadline), sleep=self._sleep, delay=delay)
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

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs that overlap: a scheduled rotation and a manual run (two AWX jobs, two colleagues) for the same instance.

Microsoft Graph has no lock and no compare-and-set for an application's client secrets, but it applies the
writes to one object one after another: the secrets of an app are one property of one object, so a read
that shows a secret shows every secret added to that app before it. The secrets therefore order the runs
themselves, and each run takes its turn by the secret it adds (its ``startDateTime``, stamped by Graph):

- A secret of the display name that is newer than the one its consumer holds (SmartTrace, or the hand-over
  file's reader), and younger than ``in_flight_timeout`` seconds, is *in flight*: another run added it and is
  handing it over. No run adds a secret while one is in flight.
- Two runs that add one at the same moment both wait until their own secret shows up in reads; by then each
  sees the other's too, if it was added first. The run whose secret is not the oldest in flight removes its
  own again (nothing holds it) and stops with ``ANOTHER_RUN``; the oldest goes on.
- Retiring keeps every secret in flight: only secrets older than the one kept are removed.
- A run that dies after adding its secret leaves it in flight for ``in_flight_timeout`` seconds; after that
  it is taken to be abandoned: it no longer blocks, and the next run's retiring removes it.

The same rule of "the first writer goes on, the others undo their own write and stop" holds for the app
registration: a gallery app takes its unique name in the PATCH right after it is instantiated, and a run
whose PATCH finds the unique name taken deletes the app it has just instantiated (``_entra/app_registration.py``).
"""

import datetime

from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import parse_date_time
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import named

ANOTHER_RUN = "another run is configuring this instance"
ANOTHER_RUN_FIRST = ANOTHER_RUN[0].upper() + ANOTHER_RUN[1:]  # at the start of a message
MAX_IN_FLIGHT_TIMEOUT = 86400


class ConcurrentRunError(Exception):
    """Another run got there first; the message says what this run undid, and what to do."""


def _key(credential):
    return (credential.get("keyId") or "").lower()


def _order(credential):
    """The order in which Graph added the secrets: its start stamp (100 ns), then the key id for a tie."""
    start = parse_date_time(credential.get("startDateTime")) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return (start, _key(credential))


def in_flight(credentials, display_name, held_key_id, now, timeout):
    """The secrets of ``display_name`` on their way to the consumer, oldest first.

    Newer than the one the consumer holds (``held_key_id``; every secret when it holds none or one not
    of this app), not that one, and started less than ``timeout`` seconds before ``now``.
    """
    mine = named(credentials, display_name)
    held = next((c for c in mine if _key(c) == held_key_id.lower()), None) if held_key_id else None
    since = now - datetime.timedelta(seconds=timeout)
    found = [c for c in mine
             if c is not held and (held is None or _order(c) > _order(held)) and _order(c)[0] > since]
    return sorted(found, key=_order)


def ahead_of(credentials, display_name, held_key_id, now, timeout, key_id):
    """The secrets in flight that Graph added before ``key_id`` (the runs whose turn comes first)."""
    flying = in_flight(credentials, display_name, held_key_id, now, timeout)
    own = next((c for c in flying if _key(c) == key_id.lower()), None)
    if own is None:  # not visible yet: every secret in flight may be ahead
        return flying
    return [c for c in flying if _order(c) < _order(own)]


def spared(doomed, keep, display_name, now, timeout):
    """The secrets of ``doomed`` that retiring must leave alone: those in flight, newer than ``keep``."""
    return in_flight(list(doomed) + [keep], display_name, keep.get("keyId"), now, timeout)


def describe_in_flight(credentials):
    """``key id 1a2b... (added 2026-12-04T21:40:44Z)``, for messages."""
    return ", ".join("key id %s (added %s)" % (c.get("keyId"), (c.get("startDateTime") or "?")[:19] + "Z") for c in credentials)


def secret_in_flight_message(credentials, timeout, undone=None):
    """Why a run stops because another run is handing over a secret, what it undid and what to do."""
    return ("%s: it added the client secret %s and is handing it over.%s Run again when it has finished. If that run died, its secret "
            "counts as abandoned %d s after it was added (in_flight_timeout), or retire it now with state=absent and key_id." % (
                ANOTHER_RUN_FIRST, describe_in_flight(credentials),
                " This run removed the secret it had added at the same moment (key id %s); nothing holds it." % undone if undone else
                " This run added nothing.", timeout))

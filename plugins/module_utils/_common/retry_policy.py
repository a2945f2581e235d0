# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a request is repeated, how long to wait before it, and how long a task may wait in all. Written once here.

``_graph_client``, ``_smarttrace_client``, ``_directory_bulk``, ``_entra_assignments``, ``_secrets``, ``_auth`` and
``_http`` take their rules from this file (docs/architecture.md, "Retry and wait policy"); the facts about Microsoft
Graph behind the rules are in docs/graph-facts.md ("Throttling",
"Idempotency", "Replication").

* **Which statuses are retried** (``retry_delay``): 429 and 503 mean "not processed, come back later" and are
  repeated for any method; 504, 408, 424, 500 and 502 only for a request that may be repeated (below), and a lost
  connection likewise. The wait is the answer's ``Retry-After`` when it has one, else the backoff.
* **One backoff formula** (``backoff_delay``): ``min(cap, base * 2^(attempt-1))`` times a jitter of 0.5 to 1.0.
  ``Retry-After`` (seconds or an HTTP date, ``parse_retry_after``) always wins over it.
* **When a write may be repeated** (``may_repeat``): an idempotent method (GET, HEAD, OPTIONS, PUT, PATCH, DELETE:
  the collection's PATCHes set values, so sending one twice ends the same) always; a POST only when the server said
  it did not process it (429, 503). After an ambiguous answer (``is_ambiguous``: no response, 408, 500, 502, 504)
  a POST is never re-sent blindly: the caller looks for the object first (``GraphClient.create``).
* **Waiting for replication** (``wait_until``): ask again with backoff until an answer is ready or the next wait
  would end after the deadline.
* **A time budget** (``Deadline``): a moment on a monotonic clock that all retries and waits of one call, or one
  whole task, must end by. ``Deadline.earliest`` combines a per-call budget with a task's. The task's own is made
  from the ``time_budget`` option by the modules' base classes (``_time_budget``): it names the option, and it
  remembers when it refused a wait (``ran_out``), so a failure can say the budget was the reason.
"""

import email.utils
import random
import time

# ---------------------------------------------------------------------- statuses
#: Repeated after ``Retry-After`` (backoff when absent).
RETRY_AFTER_STATUSES = (429, 503, 504)
#: Repeated after a backoff delay (after ``Retry-After`` if the answer has one).
BACKOFF_STATUSES = (408, 424, 500, 502)
#: Every status a request is repeated after (subject to ``may_repeat``).
RETRIED_STATUSES = RETRY_AFTER_STATUSES + BACKOFF_STATUSES
#: The server did not process the request: safe to repeat even for a POST.
NOT_PROCESSED_STATUSES = (429, 503)
#: The request may or may not have been carried out (with ``None``: no response at all).
AMBIGUOUS_STATUSES = (408, 500, 502, 504)
#: Methods a client of the collection may send twice with the same outcome (its PATCHes set values).
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE")
#: Methods idempotent by HTTP itself (RFC 9110 9.2.2): what ``_http`` re-sends on a new connection when a kept-alive
#: one turns out to be closed, without asking its caller.
HTTP_IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")

# ---------------------------------------------------------------------- defaults (seconds)
#: Backoff of a request repeated after an error.
REQUEST_BACKOFF = (1.0, 60.0)
#: Backoff between reads that wait for replication.
REPLICATION_BACKOFF = (1.0, 15.0)
#: The most attempts of one request (Graph and SmartTrace alike), within its ``max_wait`` and the task's budget: a safety net,
#: the deadlines decide first. Under a fleet's throttling one request can meet 429 several times in a row (make bench saw a
#: SmartTrace test refused 6 times with ``Retry-After: 1`` when SmartTrace's client stopped at 6).
REQUEST_MAX_ATTEMPTS = 16


def is_idempotent(method):
    """Whether ``method`` may be sent twice with the same outcome."""
    return (method or "").upper() in IDEMPOTENT_METHODS


def is_ambiguous(status):
    """Whether a write answered with ``status`` (None: no response) may or may not have happened."""
    return status is None or status in AMBIGUOUS_STATUSES


def may_repeat(idempotent, status):
    """Whether a request may be sent again after ``status`` (None: no response): idempotent, or not processed."""
    return bool(idempotent) or status in NOT_PROCESSED_STATUSES


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (integer seconds or an HTTP date); None when absent or unreadable."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        moment = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt, base=REQUEST_BACKOFF[0], cap=REQUEST_BACKOFF[1], jitter=None):
    """Exponential backoff with jitter for retry number ``attempt`` (1, 2, ...): ``min(cap, base * 2^(attempt-1))`` times 0.5..1.0.

    ``jitter``: a function returning 0..1 (default ``random.random``; tests give a constant).
    """
    draw = (jitter or random.random)()  # nosec - jitter, not cryptography
    return min(cap, base * 2 ** (attempt - 1)) * (0.5 + draw / 2)


def retry_delay(status, attempt, retry_after=None, idempotent=True, base=REQUEST_BACKOFF[0], cap=REQUEST_BACKOFF[1],
                statuses=RETRIED_STATUSES):
    """Seconds to wait before repeating a request answered with ``status`` (None: no response), or None: do not repeat.

    ``retry_after``: the answer's ``Retry-After`` in seconds (``parse_retry_after``); when given it is the wait,
    else ``backoff_delay``. ``statuses``: the statuses repeated at all (a service or a ``$batch`` answer with fewer
    passes its own); a missing response is always a candidate. ``idempotent``: see ``may_repeat``.
    """
    if status is not None and status not in statuses:
        return None
    if not may_repeat(idempotent, status):
        return None
    return retry_after if retry_after is not None else backoff_delay(attempt, base, cap)


class Deadline:
    """A moment all retries and waits must end by: ``Deadline(seconds, clock)`` is ``seconds`` from now on ``clock``.

    ``seconds`` None: no limit. ``allows(delay)`` says whether sleeping ``delay`` more seconds still ends in time.
    ``option``: the module option that set it (a task's budget), named by ``describe()``; ``ran_out`` turns True
    when ``allows`` refused a wait or ``expired`` found it passed.
    """

    def __init__(self, seconds, clock=time.monotonic, option=None):
        self.clock = clock
        self.seconds = seconds
        self.option = option
        self.at = None if seconds is None else clock() + seconds
        self.ran_out = False

    @classmethod
    def earliest(cls, *deadlines):
        """The first of ``deadlines`` to pass (None entries and unlimited ones ignored); None when there is none."""
        limited = [deadline for deadline in deadlines if deadline is not None and deadline.at is not None]
        return min(limited, key=lambda deadline: deadline.at) if limited else None

    def remaining(self):
        """Seconds left (never negative); None without a limit."""
        return None if self.at is None else max(0.0, self.at - self.clock())

    def allows(self, delay):
        """Whether waiting ``delay`` more seconds ends by the deadline."""
        allowed = self.at is None or self.clock() + delay <= self.at
        self.ran_out = self.ran_out or not allowed
        return allowed

    def expired(self):
        passed = self.at is not None and self.clock() >= self.at
        self.ran_out = self.ran_out or passed
        return passed

    def cap(self, seconds):
        """``seconds`` (e.g. a request's timeout), shortened to what is left, but never below 1 s; as is without a limit."""
        left = self.remaining()
        return seconds if left is None else max(1.0, min(seconds, left))

    def describe(self):
        """``the task's time budget (900 s) of option time_budget``: for messages (without an option, no option named)."""
        text = "the task's time budget (%.0f s)" % self.seconds
        return text + (" of option %s" % self.option if self.option else "")

    def __repr__(self):
        return "Deadline(%s s)" % self.seconds


def wait_until(poll, deadline, sleep=time.sleep, delay=None, done=bool):
    """Call ``poll()`` until ``done(answer)`` or the next wait would end after ``deadline``; return the last answer.

    ``poll``: called once at once, then after each wait (e.g. a read that returns the object, or None while it is not
    visible yet). ``deadline``: a ``Deadline`` (``Deadline(0)``: ask once). ``delay(attempt)``: the wait after
    attempt number ``attempt`` (default: ``backoff_delay`` with ``REPLICATION_BACKOFF``). ``done``: whether an
    answer ends the wait (default: a truthy answer).
    """
    delay = delay or (lambda attempt: backoff_delay(attempt, *REPLICATION_BACKOFF))
    attempt = 0
    while True:
        attempt += 1
        answer = poll()
        if done(answer):
            return answer
        pause = delay(attempt)
        if not deadline.allows(pause):
            return answer
        sleep(pause)

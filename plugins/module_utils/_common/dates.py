# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dates as Microsoft Graph and SmartTrace write them: one parser, one format, and now in whole seconds. Used by the
client secret rules (``_entra/secret_expiry.py``), runs that overlap (``_entra/concurrent_runs.py``) and SmartTrace's
integration (``_smarttrace/integration.py``)."""

import datetime
import re

UTC = datetime.timezone.utc
_DATE_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?)?$")


def utc_now() -> datetime.datetime:
    """Now, in whole seconds (as Graph keeps dates: a 180-day secret then has 180 days left, not 179.99)."""
    return datetime.datetime.now(UTC).replace(microsecond=0)


def parse_date_time(value: object) -> "datetime.datetime | None":
    """A Graph or user date/date-time as an aware UTC ``datetime``; None when absent or unreadable.

    Accepts ``2027-01-31`` (midnight UTC), ``2027-01-31T12:00:00Z``, fractions of any length, offsets;
    a date-time without a zone is taken as UTC. Works on Python 3.8+ (no ``fromisoformat`` quirks).
    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC)
    match = _DATE_TIME_RE.match(str(value).strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    clock = clock or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    try:
        moment = datetime.datetime.strptime("%s %s" % (day, clock), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    if fraction:
        moment = moment.replace(microsecond=int((fraction[1:] + "000000")[:6]))
    offset = datetime.timedelta(0)
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (moment - offset).replace(tzinfo=UTC)


def format_date_time(moment: datetime.datetime) -> str:
    """``2027-01-31T12:00:00Z`` (what Graph accepts and returns)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

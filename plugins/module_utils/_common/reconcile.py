# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deciding what to change: order-insensitive comparison, list merges, minimal PATCH bodies, safe diffs.

Graph returns collections (redirect URIs, tags, requiredResourceAccess, appRoles) in any order; a
module that compared them in order would PATCH on every run. Everything here compares lists as
multisets, recursively.
"""

import copy

from ansible.module_utils.common.parameters import remove_values

MERGE_MODES = ("exact", "append", "remove")
# Keys whose values never appear in a diff, whatever the module's no_log values are.
SENSITIVE_KEYS = frozenset(("secretText", "password", "passwordProfile", "client_secret", "access_token", "api_token", "token", "secret"))
MASK = "********"


def canonical(value):
    """A hashable form of ``value`` in which dict key order and list order do not matter (``True`` and ``1`` stay different)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((str(key), canonical(item)) for key, item in value.items()), key=repr)))
    if isinstance(value, (list, tuple, set, frozenset)):
        return ("list", tuple(sorted((canonical(item) for item in value), key=repr)))
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", value)
    return ("str", str(value))


def values_equal(first, second):
    """Deep equality with lists compared order-insensitively (as multisets); a missing list (None) equals []."""
    if isinstance(first, (list, tuple)) or isinstance(second, (list, tuple)):
        return lists_equal(first, second)
    return canonical(first) == canonical(second)


def lists_equal(first, second):
    """Order-insensitive equality of two lists (of scalars or of dicts); None counts as an empty list."""
    return canonical(list(first or [])) == canonical(list(second or []))


def merge_list(current, wanted, mode="exact", key=None):
    """The list to store, given the ``current`` one, the ``wanted`` items and a mode.

    ``exact``: the wanted items (duplicates dropped); ``append``: the current items plus the wanted
    ones missing from it; ``remove``: the current items without the wanted ones. ``key`` (optional)
    maps an item to what identifies it (e.g. ``lambda role: role["id"]``); by default the whole item.
    Order is kept (current first), so an unchanged list comes back identical.
    """
    if mode not in MERGE_MODES:
        raise ValueError("unknown list mode %r: choose one of %s" % (mode, ", ".join(MERGE_MODES)))

    def identity(item):
        return canonical(key(item) if key else item)

    current, wanted = list(current or []), _unique(list(wanted or []), identity)
    if mode == "exact":
        return wanted
    if mode == "append":
        present = set(identity(item) for item in current)
        return current + [item for item in wanted if identity(item) not in present]
    unwanted = set(identity(item) for item in wanted)
    return [item for item in current if identity(item) not in unwanted]


def _unique(items, identity):
    seen, result = set(), []
    for item in items:
        if identity(item) not in seen:
            seen.add(identity(item))
            result.append(item)
    return result


def changed_properties(current, desired, ignore_none=True):
    """The part of ``desired`` that differs from ``current``: a minimal PATCH body ({} when nothing differs).

    Nested dicts are compared key by key and only their differing keys are returned; lists are
    compared order-insensitively and returned whole (Graph replaces collections). With
    ``ignore_none``, desired values of None mean "not specified" and are skipped.
    """
    current = current or {}
    changes = {}
    for name, wanted in desired.items():
        if wanted is None and ignore_none:
            continue
        have = current.get(name)
        if isinstance(wanted, dict) and isinstance(have, dict):
            nested = changed_properties(have, wanted, ignore_none)
            if nested:
                changes[name] = nested
        elif not values_equal(have, wanted):
            changes[name] = wanted
    return changes


def deep_merge(base, override):
    """``base`` with ``override`` laid over it, recursively for dicts (for Graph objects that must be sent whole, like ``web``)."""
    merged = copy.deepcopy(base) if isinstance(base, dict) else {}
    for name, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = deep_merge(merged[name], value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def make_diff(before, after, no_log_values=()):
    """``{"before", "after"}`` for Ansible's ``--diff``: sensitive keys masked and every no_log value removed."""
    return {"before": _sanitize(before, no_log_values), "after": _sanitize(after, no_log_values)}


def _sanitize(value, no_log_values):
    if value is None:
        return {}
    return remove_values(_mask_keys(value), set(no_log_values or ()))


def _mask_keys(value):
    if isinstance(value, dict):
        return dict((key, MASK if key in SENSITIVE_KEYS and item not in (None, "", [], {}) else _mask_keys(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_mask_keys(item) for item in value]
    return value

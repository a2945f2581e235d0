# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Graph object described once, as a table of properties (``Prop`` rows), and what is derived from the table.

One row per property: the option that sets it, its Graph path (``web.redirectUris``) on which object
(``application``, ``servicePrincipal``, ``user``), its type, how it is compared, whether ``list_mode`` applies,
whether check mode can predict it, and, for a property that needs code of its own, the name of its handler.
From the rows come: the argument spec (``argument_spec``), the ``$select`` (``select``), the desired
PATCH/POST body (``desired``), the view returned to the user (``view``) and check mode's prediction of an
object about to be created (``predict_created``). Adding a simple property is one row (plus its documentation).
"""

import copy

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._common.reconcile import merge_list, values_equal

EXACT = "exact"
ORDER_INSENSITIVE = "order-insensitive"
CASE_INSENSITIVE = "case-insensitive"
COMPARISONS = (EXACT, ORDER_INSENSITIVE, CASE_INSENSITIVE)
#: a ``view`` function's answer for a key that is not shown
OMIT = object()
_SAME = object()


class Prop:
    """One property of a Graph object.

    ``option``: the module option that sets it (None: shown only); ``key``: its name in the view (default ``option``,
    None: not shown); ``path``: dotted Graph path on ``obj``; ``type``/``elements``/``spec``: the argument spec
    (``spec`` adds ``choices``, ``default``, ``required``, ``options``, ``no_log``, ``aliases``);
    ``compare``: one of ``COMPARISONS``; ``list_modes``: ``list_mode`` (exact/append/remove) applies;
    ``predictable``: check mode knows its value before the object exists (else ``KNOWN_AFTER_RUN``);
    ``writable``: the generic body carries it; ``handler``: the name of the dedicated code that reads and writes it
    (the generic body leaves it out); ``to_graph``: option value to Graph value; ``shown``: Graph value to view value
    (or ``view``: a function of the whole context, for a handler's row); ``empty``: its value on a new object.
    """

    def __init__(self, option, path=None, obj=None, type="str", elements=None, spec=None, key=_SAME, compare=EXACT,
                 list_modes=False, predictable=True, writable=True, handler=None, to_graph=None, shown=None, view=None, empty=None):
        if compare not in COMPARISONS:
            raise ValueError("compare must be one of %s" % ", ".join(COMPARISONS))
        self.option, self.path, self.obj, self.type, self.elements = option, path, obj, type, elements
        self.spec = spec or {}
        self.key = option if key is _SAME else key
        self.compare, self.list_modes, self.predictable = compare, list_modes, predictable
        self.writable = writable and path is not None and handler is None and option is not None
        self.handler, self.to_graph, self.shown, self.view, self.empty = handler, to_graph, shown, view, empty

    @property
    def top(self):
        """The top-level Graph property holding this one (what ``$select`` names)."""
        return self.path.split(".")[0] if self.path else None

    def __repr__(self):
        return "Prop(%r, %r)" % (self.option or self.key, self.path)


def get_path(resource, path):
    """The value at ``path`` (dotted) in ``resource``, None when any part is missing."""
    for part in path.split("."):
        if not isinstance(resource, dict):
            return None
        resource = resource.get(part)
    return resource


def set_path(resource, path, value):
    """Set ``path`` (dotted) in ``resource``, making the dicts on the way."""
    parts = path.split(".")
    for part in parts[:-1]:
        resource = resource.setdefault(part, {})
    resource[parts[-1]] = value


def argument_spec(rows):
    """The argument spec of the rows that are options."""
    spec = {}
    for row in rows:
        if row.option is None:
            continue
        entry = dict(type=row.type)
        if row.elements:
            entry["elements"] = row.elements
        entry.update(copy.deepcopy(row.spec))
        spec[row.option] = entry
    return spec


def select(rows, obj, always=()):
    """The ``$select`` properties of ``obj``: ``always`` (ids, keys), then the top-level property of every row, once."""
    names = list(always)
    for row in rows:
        if row.obj == obj and row.path and row.top not in names:
            names.append(row.top)
    return tuple(names)


def option_value(row, value):
    """An option's value as Graph stores it."""
    return row.to_graph(value) if row.to_graph else value


def desired(rows, obj, params, current, mode="exact", whole=()):
    """The body that sets what ``params`` asks for on ``obj`` (``current`` as Graph holds it, None for a new object).

    Only rows without a handler, whose option is set. A list row with ``list_modes`` is merged with the current list
    per ``mode``. A top-level property in ``whole`` (such as ``web``) is sent whole: every row under it, the others
    from ``current`` (or their ``empty`` value).
    """
    chosen = [row for row in rows if row.obj == obj and row.writable and params.get(row.option) is not None]
    body = {}
    for top in whole:
        if any(row.top == top for row in chosen):
            body[top] = {}
            for row in rows:
                if row.obj == obj and row.top == top:
                    have = get_path(current, row.path)
                    set_path(body[top], row.path[len(top) + 1:], copy.deepcopy(have if have is not None else row.empty))
    for row in chosen:
        value = option_value(row, params[row.option])
        if row.list_modes:
            value = merge_list(get_path(current, row.path), value, mode)
        set_path(body, row.path, value)
    return body


def differs(row, have, want):
    """Whether ``have`` (Graph's) and ``want`` differ for ``row``'s comparison."""
    if row.compare == CASE_INSENSITIVE and isinstance(have, str) and isinstance(want, str):
        return have.lower() != want.lower()
    if row.compare == ORDER_INSENSITIVE:
        return not values_equal(have, want)
    return have != want


def changed_options(rows, obj, current, body):
    """The options whose property ``body`` changes on ``current``, in row order."""
    return [row.option for row in rows if row.obj == obj and row.writable and get_path(body, row.path) is not None
            and differs(row, get_path(current, row.path), get_path(body, row.path))]


def predict_created(rows, obj, body):
    """Check mode's ``obj`` about to be created from ``body``: what Graph gives a new one (``empty``) with the body set
    onto it, and ``KNOWN_AFTER_RUN`` for what only the real run knows (ids)."""
    predicted = {}
    for row in rows:
        if row.obj == obj and row.path and row.empty is not None:
            set_path(predicted, row.path, copy.deepcopy(row.empty))
    _merge(predicted, body)
    for row in rows:
        if row.obj == obj and row.path and not row.predictable:
            set_path(predicted, row.path, KNOWN_AFTER_RUN)
    return predicted


def _merge(target, values):
    """``values`` set onto ``target``, nested dicts merged (as Graph fills in what a body leaves out)."""
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def shown_value(row, value):
    if row.shown:
        return row.shown(value)
    if row.compare == ORDER_INSENSITIVE and row.type == "list":
        return sorted(value or [])
    return value


def view(rows, context):
    """The view returned to the user: ``{key: value}`` in row order. ``context`` maps each ``obj`` to its Graph object
    (None or {} when missing) and holds what handlers' ``view`` functions need; a ``view`` answering ``OMIT`` is left out."""
    shown = {}
    for row in rows:
        if row.key is None:
            continue
        value = row.view(context) if row.view else shown_value(row, get_path(context.get(row.obj) or {}, row.path))
        if value is not OMIT:
            shown[row.key] = value
    return shown

"""OData pieces of the Graph surface: errors, ``$filter``, ``$search``, ``$select``, ``$orderby`` and paging.

How real Graph answers on directory objects (users, groups, applications, servicePrincipals, ...):

- ``$filter`` is parsed by the OData library first (syntax errors, unknown properties, operand types:
  code ``BadRequest``), then the directory decides whether the clause is supported for that property
  (``Request_UnsupportedQuery`` "Unsupported or invalid query filter clause specified for property
  'X' of resource 'Y'."). ``ne``, ``not``, ``endsWith`` and ``$count`` are advanced queries: they need
  the ``ConsistencyLevel: eventual`` header and ``$count=true``; ``$search`` needs the header.
- ``$count=true`` without the header is silently ignored; ``$skip`` is not supported.
- collections are paged: ``@odata.nextLink`` is an absolute URL with an opaque ``$skiptoken``;
  ``$top`` (1..999) sets the page size.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import typing as t
import urllib.parse

from . import graph_schema

MAX_TOP = 999
MAX_OR_CLAUSES = 15
DIRECTORY_OBJECT_TYPES = ("microsoft.graph.user", "microsoft.graph.group", "microsoft.graph.servicePrincipal", "microsoft.graph.application")
ADVANCED_HINT = ("Try adding $count=true query parameter and ConsistencyLevel:eventual header. "
                 "Refer to https://aka.ms/graph-docs/advanced-queries for more information")


class GraphError(Exception):
    """An error answer of Microsoft Graph: HTTP status, ``code``, ``message`` and optional ``details``."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def bad_request(message: str, code: str = "Request_BadRequest", details: list | None = None) -> GraphError:
    return GraphError(400, code, message, details)


def not_found(key: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      "Resource '%s' does not exist or one of its queried reference-property objects are not present." % key)


def unsupported_query(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def unsupported_clause(prop: str, resource: str) -> GraphError:
    return unsupported_query("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'." % (prop, resource))


def no_such_property(prop: str, type_name: str) -> GraphError:
    return bad_request("Could not find a property named '%s' on type '%s'." % (prop, type_name), code="BadRequest")


# ---------------------------------------------------------------------------------------------- capabilities


@dataclasses.dataclass(frozen=True)
class Queryable:
    """What one resource supports in queries, per property.

    ``default``/``advanced``: property -> operators (eq ne not in ge le startswith endswith null any);
    advanced ones need ConsistencyLevel: eventual and $count=true. ``search``: properties $search may name.
    ``orderby``/``orderby_advanced``: sortable properties.
    """

    resource: str                       # the directory's name in messages, e.g. "Application"
    type_name: str                      # e.g. microsoft.graph.application
    default: dict[str, str]
    advanced: dict[str, str] = dataclasses.field(default_factory=dict)
    search: tuple[str, ...] = ()
    orderby: tuple[str, ...] = ()
    orderby_advanced: tuple[str, ...] = ()
    count: bool = True                  # $count supported (with the header)

    def ops(self, prop: str, advanced: bool) -> set[str]:
        ops = set(self.default.get(prop, "").split())
        if advanced:
            ops |= set(self.advanced.get(prop, "").split())
        return ops

    def ops_any_mode(self, prop: str) -> set[str]:
        return self.ops(prop, True)


# ---------------------------------------------------------------------------------------------- $filter parser

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<num>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<punct>[(),:/])
  | (?P<ident>[A-Za-z_$@][\w.@$]*)
""", re.VERBOSE)

_COMPARISONS = {"eq": "Equal", "ne": "NotEqual", "ge": "GreaterThanOrEqual", "le": "LessThanOrEqual", "gt": "GreaterThan", "lt": "LessThan"}
_FUNCTIONS = ("startswith", "endswith", "contains")


@dataclasses.dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos] == "'" and not re.match(r"'(?:[^']|'')*'", text[pos:]):
            raise bad_request("There is an unterminated string literal at position %d in '%s'." % (pos, text), code="BadRequest")
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise bad_request("Syntax error: character '%s' is not valid at position %d in '%s'." % (text[pos], pos, text), code="BadRequest")
        kind = m.lastgroup
        if kind != "ws":
            tokens.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over the OData $filter subset Graph uses on directory objects."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.range_vars: list[str] = []

    def error(self, tok: _Tok | None = None) -> GraphError:
        pos = tok.pos if tok else len(self.text)
        return bad_request("Syntax error at position %d in '%s'." % (pos, self.text), code="BadRequest")

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.error()
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise self.error(tok)

    def is_word(self, word: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok.kind == "ident" and tok.text.lower() == word and tok.text == word

    def parse(self):
        if not self.tokens:
            raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")
        node = self.parse_or()
        if self.peek() is not None:
            raise self.error(self.peek())
        if node[0] in ("prop", "lit"):
            raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.is_word("or"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_unary()
        while self.is_word("and"):
            self.take()
            node = ("and", node, self.parse_unary())
        return node

    def parse_unary(self):
        if self.is_word("not"):
            self.take()
            return ("not", self.parse_unary())
        return self.parse_comparison()

    def parse_comparison(self):
        left = self.parse_primary()
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.text in _COMPARISONS:
            self.take()
            right = self.parse_primary()
            return ("cmp", tok.text, left, right)
        if tok is not None and tok.kind == "ident" and tok.text == "in":
            self.take()
            self.expect("(")
            values = [self.parse_primary()]
            while self.peek() is not None and self.peek().text == ",":
                self.take()
                values.append(self.parse_primary())
            self.expect(")")
            return ("in", left, values)
        return left

    def parse_primary(self):
        tok = self.take()
        if tok.text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if tok.kind == "str":
            return ("lit", tok.text[1:-1].replace("''", "'"), "Edm.String")
        if tok.kind == "guid":
            return ("lit", tok.text.lower(), "Edm.Guid")
        if tok.kind == "dt":
            return ("lit", tok.text, "Edm.DateTimeOffset")
        if tok.kind == "num":
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text), "Edm.Int32")
        if tok.kind != "ident":
            raise self.error(tok)
        if tok.text in ("true", "false"):
            return ("lit", tok.text == "true", "Edm.Boolean")
        if tok.text == "null":
            return ("lit", None, "null")
        nxt = self.peek()
        if nxt is not None and nxt.text == "(" and tok.text.lower() in _FUNCTIONS:
            if tok.text != tok.text.lower() and tok.text not in ("startsWith", "endsWith"):
                raise bad_request("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation "
                                  "property, which is not allowed." % tok.text, code="BadRequest")
            self.take()
            first = self.parse_primary()
            self.expect(",")
            second = self.parse_primary()
            self.expect(")")
            return ("func", tok.text.lower(), first, second)
        if nxt is not None and nxt.text == "(":
            raise bad_request("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, "
                              "which is not allowed." % tok.text, code="BadRequest")
        path = [tok.text]
        while self.peek() is not None and self.peek().text == "/":
            self.take()
            seg = self.take()
            if seg.kind != "ident":
                raise self.error(seg)
            if seg.text in ("any", "all") and self.peek() is not None and self.peek().text == "(":
                self.take()
                var = self.take()
                if var.kind != "ident":
                    raise self.error(var)
                self.expect(":")
                self.range_vars.append(var.text)
                body = self.parse_or()
                self.range_vars.pop()
                self.expect(")")
                return ("lambda", seg.text, path, var.text, body)
            path.append(seg.text)
        if path[0] in self.range_vars:
            return ("var", path[0])
        return ("prop", path)


def parse_filter(text: str):
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------- $filter checks

def _prop_schema(type_name: str, path: list[str]) -> dict | None:
    props = graph_schema.properties(type_name)
    prop = props.get(path[0])
    for name in path[1:]:
        if prop is None or prop.get("t") != "ref":
            return None
        target = graph_schema.types().get(prop["ref"])
        if target is None or "props" not in target:
            return None
        prop = target["props"].get(name)
    return prop


def _edm_of(prop: dict) -> str:
    if prop["t"] == "array":
        return _edm_of(prop["items"])
    if prop["t"] == "ref":
        target = graph_schema.types().get(prop["ref"], {})
        return "Edm.String" if target.get("kind") == "enum" else prop["ref"]
    return graph_schema.edm_name(prop)


def _compatible(prop_edm: str, lit_edm: str) -> bool:
    if lit_edm == "null":
        return True
    if prop_edm == lit_edm:
        return True
    numeric = ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Double", "Edm.Byte", "Edm.SByte")
    return prop_edm in numeric and lit_edm in numeric


def _incompatible(prop_edm: str, lit_edm: str, op: str) -> GraphError:
    return bad_request("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'."
                       % (prop_edm, lit_edm, _COMPARISONS.get(op, "Equal")), code="BadRequest")


@dataclasses.dataclass
class FilterCheck:
    """Validates a parsed $filter against a resource's capabilities; remembers what needs advanced mode."""

    spec: Queryable
    advanced: bool

    def _op_allowed(self, prop_name: str, op: str, display_op: str | None = None) -> None:
        if op in self.spec.ops(prop_name, self.advanced):
            return
        if not self.advanced and op in self.spec.ops_any_mode(prop_name):
            raise unsupported_query("Operator '%s' is not supported because the required parameters might be missing. %s" % (display_op or op, ADVANCED_HINT))
        raise unsupported_clause(prop_name, self.spec.resource)

    def _prop(self, node) -> tuple[str, dict]:
        path = node[1]
        prop = _prop_schema(self.spec.type_name, path)
        if prop is None or prop.get("nav"):
            raise no_such_property(path[-1] if prop is None else path[0], self.spec.type_name)
        return "/".join(path), prop

    def check_all(self, node) -> None:
        """The whole expression: Entra allows at most 15 alternatives (``or`` clauses, ``in`` values) in one filter."""
        alternatives = _or_clauses(node)
        if alternatives > MAX_OR_CLAUSES:
            raise unsupported_query("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d."
                                    % (alternatives, MAX_OR_CLAUSES))
        self.check(node)

    def check(self, node, negated: bool = False) -> None:
        kind = node[0]
        if kind in ("and", "or"):
            self.check(node[1], negated)
            self.check(node[2], negated)
        elif kind == "not":
            self._check_not(node[1])
        elif kind == "cmp":
            self._check_cmp(node, negated)
        elif kind == "in":
            name, prop = self._require_prop(node[1])
            for value in node[2]:
                self._check_literal(prop, value, "eq")
            self._op_allowed(name, "in")
        elif kind == "func":
            self._check_func(node)
        elif kind == "lambda":
            self._check_lambda(node)
        else:
            raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")

    def _check_not(self, inner) -> None:
        # not(startswith(...)), not(x eq y) and not(coll/any(...)) are advanced queries on directory objects.
        names = self._props_in(inner)
        for name in names:
            self._op_allowed(name, "not")
        self.check(inner, negated=True)

    def _props_in(self, node) -> list[str]:
        if node[0] == "prop":
            return ["/".join(node[1])]
        if node[0] == "lambda":
            return ["/".join(node[2])]
        out = []
        for child in node[1:]:
            if isinstance(child, tuple):
                out.extend(self._props_in(child))
        return out

    def _require_prop(self, node) -> tuple[str, dict]:
        if node[0] != "prop":
            raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")
        return self._prop(node)

    def _check_literal(self, prop: dict, lit, op: str) -> None:
        if lit[0] != "lit":
            raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")
        prop_edm = _edm_of(prop)
        if not _compatible(prop_edm, lit[2]):
            raise _incompatible(prop_edm, lit[2], op)

    def _check_cmp(self, node, negated: bool) -> None:
        _kind, op, left, right = node
        if left[0] == "lit" and right[0] == "prop":
            left, right = right, left
        name, prop = self._require_prop(left)
        if prop["t"] == "array":
            raise bad_request("The parent value for a property access of a property '%s' is not a single value. Property access can only be applied to "
                              "a single value." % name, code="BadRequest")
        self._check_literal(prop, right, op)
        effective = "null" if right[2] == "null" and op == "eq" else op
        if effective == "null" and "null" not in self.spec.ops_any_mode(name):
            effective = "eq"
        self._op_allowed(name, effective)

    def _check_func(self, node) -> None:
        _kind, fn, target, arg = node
        if target[0] == "var":
            return
        name, prop = self._require_prop(target)
        self._check_literal(prop, arg, "eq")
        if fn == "contains":
            raise unsupported_clause(name, self.spec.resource)
        self._op_allowed(name, fn, "endsWith" if fn == "endswith" else fn)

    def _check_lambda(self, node) -> None:
        _kind, quantifier, path, _var, body = node
        name, prop = self._prop(("prop", path))
        if prop["t"] != "array":
            raise bad_request("The '%s' query option is only supported on collection properties." % quantifier, code="BadRequest")
        if quantifier != "any":
            raise unsupported_clause(name, self.spec.resource)
        inner_ops = self._lambda_ops(body)
        for op in inner_ops:
            self._op_allowed(name, "any" if op == "eq" else "any_" + op)
        self._lambda_literals(body, prop)

    def _lambda_ops(self, node) -> set[str]:
        if node[0] == "cmp" and node[2][0] == "var":
            return {node[1]}
        if node[0] == "func" and node[2][0] == "var":
            return {node[1]}
        if node[0] in ("or", "and"):
            return self._lambda_ops(node[1]) | self._lambda_ops(node[2])
        raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")

    def _lambda_literals(self, node, prop: dict) -> None:
        if node[0] in ("cmp", "func"):
            self._check_literal(prop, node[3], node[1])
        elif node[0] in ("or", "and"):
            self._lambda_literals(node[1], prop)
            self._lambda_literals(node[2], prop)


def _or_clauses(node) -> int:
    kind = node[0]
    if kind == "or":
        return _or_clauses(node[1]) + _or_clauses(node[2])
    if kind == "in":
        return len(node[2])
    if kind in ("and", "not"):
        return max(_or_clauses(child) for child in node[1:] if isinstance(child, tuple))
    return 1


def _fold(value):
    return value.lower() if isinstance(value, str) else value


def _value(obj: dict, path: list[str]):
    value = obj
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def evaluate(node, obj: dict, env: dict | None = None) -> bool:
    """True when obj matches the parsed filter (string comparisons are case-insensitive, as in Entra)."""
    env = env or {}
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], obj, env) and evaluate(node[2], obj, env)
    if kind == "or":
        return evaluate(node[1], obj, env) or evaluate(node[2], obj, env)
    if kind == "not":
        return not evaluate(node[1], obj, env)
    if kind == "cmp":
        _kind, op, left, right = node
        if left[0] == "lit":
            left, right = right, left
        a, b = _fold(_operand(left, obj, env)), _fold(right[1])
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        if a is None or b is None:
            return False
        return {"ge": a >= b, "le": a <= b, "gt": a > b, "lt": a < b}[op]
    if kind == "in":
        a = _fold(_operand(node[1], obj, env))
        return any(a == _fold(v[1]) for v in node[2])
    if kind == "func":
        _kind, fn, target, arg = node
        a, b = _fold(_operand(target, obj, env)), _fold(arg[1])
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        return {"startswith": a.startswith, "endswith": a.endswith, "contains": a.__contains__}[fn](b)
    if kind == "lambda":
        _kind, _quantifier, path, var, body = node
        values = _value(obj, path) or []
        return any(evaluate(body, obj, dict(env, **{var: v})) for v in values)
    raise bad_request("The $filter expression must evaluate to a single boolean value.", code="BadRequest")


def _operand(node, obj: dict, env: dict):
    if node[0] == "prop":
        return _value(obj, node[1])
    if node[0] == "var":
        return env.get(node[1])
    return node[1]


# ---------------------------------------------------------------------------------------------- $search

_SEARCH_CLAUSE = re.compile(r'^"([A-Za-z]+):([^"]*)"$')


def parse_search(text: str, spec: Queryable) -> list[list[tuple[str, str]]]:
    """``"displayName:foo" OR "mail:bar" AND ...`` as OR-of-AND clauses of (property, term)."""
    parts = re.split(r'\s+(AND|OR)\s+', text.strip())
    groups: list[list[tuple[str, str]]] = [[]]
    for index, part in enumerate(parts):
        if index % 2 == 1:
            if part == "OR":
                groups.append([])
            continue
        m = _SEARCH_CLAUSE.match(part)
        if not m:
            raise bad_request("Syntax error: character '%s' is not valid at position 0 in '%s'." % (part[:1], text), code="BadRequest")
        prop, term = m.groups()
        if prop not in spec.search:
            if prop in graph_schema.properties(spec.type_name):
                raise unsupported_query("This query is not supported.")
            raise no_such_property(prop, spec.type_name)
        groups[-1].append((prop, term))
    return groups


def search_matches(groups: list[list[tuple[str, str]]], obj: dict) -> bool:
    """Tokenized prefix match: every term matches the start of a word of the property."""
    def one(prop: str, term: str) -> bool:
        value = obj.get(prop)
        if not isinstance(value, str):
            return False
        words = re.split(r"[\s._@-]+", value.lower())
        terms = [w for w in re.split(r"[\s._@-]+", term.lower()) if w]
        return all(any(word.startswith(w) for word in words) for w in terms)
    return any(all(one(p, term) for p, term in group) for group in groups)


# ---------------------------------------------------------------------------------------------- $select

def parse_select(text: str | None, type_name: str) -> list[str] | None:
    """The property names of $select, validated against the type (None when absent)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise bad_request("Syntax error at position %d in '%s'." % (len(text), text), code="BadRequest")
    known = set(graph_schema.properties(type_name))
    for derived in DIRECTORY_OBJECT_TYPES if type_name == "microsoft.graph.directoryObject" else ():
        known |= set(graph_schema.properties(derived))   # Graph lets $select name properties of the derived types here
    for name in names:
        if name != "*" and name not in known:
            raise bad_request("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'." % (name, type_name),
                              code="BadRequest")
    return names


def apply_select(obj: dict, names: list[str] | None, default: t.Sequence[str] | None = None) -> dict:
    if names is None and default is None:
        return dict(obj)
    wanted = names if names is not None and "*" not in names else (list(obj) if names else list(default or ()))
    out = {}
    for key in list(obj):
        if key.startswith("@odata."):
            out[key] = obj[key]
    for name in wanted:
        out[name] = obj.get(name)
    return out


# ---------------------------------------------------------------------------------------------- paging

def encode_token(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return "RFNwdAIA" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict:
    if not token.startswith("RFNwdAIA"):
        raise _expired_token()
    body = token[len("RFNwdAIA"):]
    try:
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise _expired_token() from None
    if not isinstance(state, dict):
        raise _expired_token()
    return state


def _expired_token() -> GraphError:
    return bad_request("The specified page token value has expired and can no longer be included in your request.", code="Directory_ExpiredPageToken")


def page_size(query: dict, default: int) -> int:
    raw = query.get("$top")
    if raw is None:
        return max(1, min(default, MAX_TOP))
    if not re.fullmatch(r"\d+", raw.strip()):
        raise bad_request("Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, MAX_TOP))
    top = int(raw)
    if not 1 <= top <= MAX_TOP:
        raise bad_request("Invalid page size specified: '%s'. Must be between 1 and %d inclusive." % (raw, MAX_TOP))
    return top


def quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/'()=@$:,")


def build_link(base_url: str, path: str, query: dict[str, str]) -> str:
    parts = ["%s=%s" % (urllib.parse.quote(k, safe="$"), urllib.parse.quote(v, safe="'(),:/@$=")) for k, v in query.items()]
    return base_url + quote_path(path) + ("?" + "&".join(parts) if parts else "")

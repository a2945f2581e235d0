"""Microsoft's description of the Graph v1.0 types the sandbox serves, and request-body validation against it.

``graph_schema.json`` is a compact form of the types in the shared Graph v1.0 reference subset (derived
by Microsoft.OpenApi.OData rules from the v1.0 CSDL). Regenerate it with::

    PYTHONPATH=tests python -m sandbox.graph_schema /path/to/graph-v1.0-subset.json > tests/sandbox/graph_schema.json

Two types the subset does not hold (``oAuth2PermissionGrant``, ``applicationTemplate``) are written here
by hand from their v1.0 reference pages.

Real Graph reads a request body in two layers and the errors differ by layer:

- the OData reader rejects JSON that does not fit the declared types (code ``BadRequest``):
  "Cannot convert the literal '0' to the expected type 'Edm.String'.", "A null value was found for the
  property named 'tags', ...", "The property 'x' does not exist on type 'microsoft.graph.webApplication'...";
- the directory rejects properties it does not know on its (open) entity types with
  ``Request_BadRequest`` "Invalid property 'x'.".
"""
from __future__ import annotations

import datetime
import functools
import json
import pathlib
import re
import sys
import typing as t

SCHEMA_FILE = pathlib.Path(__file__).with_name("graph_schema.json")
NS = "microsoft.graph."

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})$"
)
BASE64_RE = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}
EDM_OF_FORMAT = {"uuid": "Edm.Guid", "date-time": "Edm.DateTimeOffset", "date": "Edm.Date", "base64url": "Edm.Binary", "duration": "Edm.Duration",
                 "int8": "Edm.SByte", "uint8": "Edm.Byte", "int16": "Edm.Int16", "int32": "Edm.Int32", "int64": "Edm.Int64"}

# Types outside the extracted subset (v1.0 reference pages of oAuth2PermissionGrant and applicationTemplate).
_HAND_WRITTEN = {
    NS + "oAuth2PermissionGrant": {"kind": "entity", "open": False, "props": {
        "id": {"t": "string"},
        "clientId": {"t": "string"},
        "consentType": {"t": "string", "n": True},
        "principalId": {"t": "string", "n": True},
        "resourceId": {"t": "string"},
        "scope": {"t": "string", "n": True},
    }},
    NS + "applicationTemplate": {"kind": "entity", "open": False, "props": {
        "id": {"t": "string"},
        "categories": {"t": "array", "items": {"t": "string", "n": True}},
        "description": {"t": "string", "n": True},
        "displayName": {"t": "string", "n": True},
        "homePageUrl": {"t": "string", "n": True},
        "logoUrl": {"t": "string", "n": True},
        "publisher": {"t": "string", "n": True},
        "supportedProvisioningTypes": {"t": "array", "items": {"t": "string", "n": True}},
        "supportedSingleSignOnModes": {"t": "array", "items": {"t": "string", "n": True}},
    }},
}


class BodyError(Exception):
    """A request body real Graph would refuse: ``code`` and ``message`` as Graph words them."""

    def __init__(self, code: str, message: str, target: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.target = target


# ---------------------------------------------------------------------------------------------- derivation


def _compact_property(prop: dict) -> dict:
    out: dict[str, t.Any] = {}
    if "$ref" in prop:
        out["t"] = "ref"
        out["ref"] = prop["$ref"]
    elif "oneOf" in prop:
        out["t"] = "number"
    else:
        out["t"] = prop.get("type") or "any"
    if prop.get("format"):
        out["f"] = prop["format"]
    if prop.get("nullable"):
        out["n"] = True
    if prop.get("navigationProperty"):
        out["nav"] = True
    if out["t"] == "array":
        out["items"] = _compact_property(prop.get("items") or {})
    return out


def derive_from_subset(spec: dict) -> dict:
    """The compact type table (``graph_schema.json``) from the shared reference subset's ``schemas``."""
    types: dict[str, dict] = {}
    for name, schema in sorted(spec["schemas"].items()):
        if not name.startswith(NS):
            continue
        kind = schema.get("kind")
        if kind == "enum":
            types[name] = {"kind": "enum", "members": list(schema["enum"]), "flags": bool(schema.get("isFlags"))}
            continue
        props = {p: _compact_property(d) for p, d in (schema.get("properties") or {}).items() if not d.get("odataTypeDiscriminator")}
        entry = {"kind": kind, "open": bool(schema.get("openType")), "props": props}
        if schema.get("derivedTypes"):
            entry["derived"] = list(schema["derivedTypes"])
        types[name] = entry
    return {"source": "graph-v1.0-subset.json (shared reference), schemas with the microsoft.graph namespace", "types": types}


def dump(table: dict) -> str:
    """Stable text form: one line per type, so a regeneration diffs readably."""
    lines = ['{"source": %s,' % json.dumps(table["source"]), ' "types": {']
    names = sorted(table["types"])
    for i, name in enumerate(names):
        sep = "," if i < len(names) - 1 else ""
        lines.append("  %s: %s%s" % (json.dumps(name), json.dumps(table["types"][name], sort_keys=True), sep))
    lines.append(" }}")
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=1)
def types() -> dict[str, dict]:
    """All known types: the embedded table plus the hand-written ones."""
    table = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["types"]
    table.update(_HAND_WRITTEN)
    return table


def properties(type_name: str) -> dict[str, dict]:
    return types()[type_name]["props"]


def navigation_names(type_name: str) -> list[str]:
    return [n for n, p in properties(type_name).items() if p.get("nav")]


def edm_name(prop: dict) -> str:
    kind = prop["t"]
    if kind == "ref":
        return prop["ref"]
    if kind == "array":
        return "Collection(%s)" % edm_name(prop["items"])
    if kind == "string":
        return EDM_OF_FORMAT.get(prop.get("f"), "Edm.String")
    if kind == "boolean":
        return "Edm.Boolean"
    if kind == "number":
        return EDM_OF_FORMAT.get(prop.get("f"), "Edm.Double")
    return "Edm.Untyped"


# ---------------------------------------------------------------------------------------------- validation


def parse_date_time(value: str) -> datetime.datetime | None:
    """An Edm.DateTimeOffset literal as an aware datetime, or None when it is not one."""
    m = DATE_TIME_RE.match(value)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        tz = datetime.timezone.utc
        if zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz)
    except ValueError:
        return None


def _literal(value: t.Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _convert_error(value: t.Any, expected: str) -> BodyError:
    return BodyError("BadRequest", "Cannot convert the literal '%s' to the expected type '%s'." % (_literal(value), expected))


def _node_error(value: t.Any, expected_node: str, name: str) -> BodyError:
    found = "StartArray" if isinstance(value, list) else "StartObject" if isinstance(value, dict) else "PrimitiveValue"
    return BodyError("BadRequest", "An unexpected '%s' node was found for property named '%s' when reading from the JSON reader. A '%s' node was expected."
                     % (found, name, expected_node))


def _check_value(value: t.Any, prop: dict, name: str, path: str) -> None:
    if value is None:
        if not prop.get("n"):
            edm = edm_name(prop)
            raise BodyError("BadRequest", "A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. "
                            "The expected type '%s[Nullable=False]' does not allow null values." % (name, edm, edm), path)
        return
    kind = prop["t"]
    if kind == "array":
        if not isinstance(value, list):
            raise _node_error(value, "StartArray", name)
        item = dict(prop["items"])
        for index, element in enumerate(value):
            _check_value(element, item, name, "%s[%d]" % (path, index))
        return
    if kind == "ref":
        target = types().get(prop["ref"])
        if target is None:
            return
        if target["kind"] == "enum":
            if not isinstance(value, str):
                raise _convert_error(value, prop["ref"])
            parts = [p.strip() for p in value.split(",")] if target.get("flags") else [value]
            if any(p not in target["members"] for p in parts):
                raise _convert_error(value, prop["ref"])
            return
        if not isinstance(value, dict):
            raise _node_error(value, "StartObject", name)
        check_object(prop["ref"], value, path)
        return
    if isinstance(value, (dict, list)):
        raise _node_error(value, "PrimitiveValue", name)
    if kind == "string":
        if not isinstance(value, str):
            raise _convert_error(value, edm_name(prop))
        fmt = prop.get("f")
        if fmt == "uuid" and not UUID_RE.match(value):
            raise _convert_error(value, "Edm.Guid")
        if fmt == "date-time" and parse_date_time(value) is None:
            raise _convert_error(value, "Edm.DateTimeOffset")
        if fmt == "base64url" and not BASE64_RE.match(value):
            raise _convert_error(value, "Edm.Binary")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _convert_error(value, "Edm.Boolean")
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _convert_error(value, edm_name(prop))
        fmt = prop.get("f")
        if fmt in INT_RANGES:
            low, high = INT_RANGES[fmt]
            if not float(value).is_integer() or not low <= value <= high:
                raise _convert_error(value, edm_name(prop))


def check_object(type_name: str, body: dict, path: str = "", *, allow_binds: t.Iterable[str] = ()) -> None:
    """Validate one JSON object against a type; raises BodyError the way real Graph words it."""
    entry = types()[type_name]
    props = entry["props"]
    odata_type = body.get("@odata.type")
    if odata_type is not None:
        name = odata_type.lstrip("#") if isinstance(odata_type, str) else ""
        if name.startswith("graph."):
            name = "microsoft." + name
        if name != type_name:
            if name in (entry.get("derived") or ()) and name in types():
                type_name, entry, props = name, types()[name], types()[name]["props"]
            else:
                raise BodyError("BadRequest", "A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve "
                                "to a valid type." % odata_type)
    for key, value in body.items():
        where = "%s.%s" % (path, key) if path else key
        if key == "@odata.type":
            continue
        if key.endswith("@odata.bind"):
            nav = key[: -len("@odata.bind")]
            if nav in allow_binds and props.get(nav, {}).get("nav"):
                continue
            raise BodyError("Request_BadRequest", "Invalid property '%s'." % key, where)
        prop = props.get(key)
        if prop is None:
            if entry["kind"] == "entity":
                raise BodyError("Request_BadRequest", "Invalid property '%s'." % key, where)
            raise BodyError("BadRequest", "The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type."
                            % (key, type_name), where)
        if prop.get("nav"):
            raise BodyError("Request_BadRequest", "Invalid property '%s'." % key, where)
        _check_value(value, prop, key, where)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m sandbox.graph_schema /path/to/graph-v1.0-subset.json\n")
        return 2
    spec = json.loads(pathlib.Path(argv[0]).read_text(encoding="utf-8"))
    sys.stdout.write(dump(derive_from_subset(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

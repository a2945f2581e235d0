"""Federated identity credentials of an application (Graph v1.0 ``federatedIdentityCredential``), and how the token endpoint
matches a federated assertion against them.

Routes (under ``/applications/{id}``, also ``/applications(appId='...')``):

- ``GET  .../federatedIdentityCredentials``: ``{"@odata.context", "value": [...]}``;
- ``POST .../federatedIdentityCredentials``: ``name`` (3 to 120 characters, unique in the app, never changes), ``issuer``
  (an https URL, at most 600 characters), ``subject`` (at most 600), ``audiences`` (exactly one value, at most 600
  characters; ``api://AzureADTokenExchange`` is Entra's recommendation), ``description`` (optional, at most 600); at most 20 per
  app, and issuer + subject unique in the app; 201 with the object;
- ``GET | PATCH | DELETE .../federatedIdentityCredentials/{id}`` and ``.../federatedIdentityCredentials(name='...')``.

Reading needs an ``APP_READ`` role, writing ``Application.ReadWrite.All`` or ``OwnedBy`` on an app the caller owns. A new
credential replicates like every object (``--replication-delay``): until then the token endpoint does not know it.

The credentials live beside the directory's applications (``store``): a reset of the directory drops them with the apps.
"""
from __future__ import annotations

import copy
import urllib.parse

from . import graph_base as gb
from .http import Response
from .odata import GraphError, bad_request

TYPE = "microsoft.graph.federatedIdentityCredential"
MAX_PER_APP = 20
MAX_TEXT = 600
FIELDS = ("name", "issuer", "subject", "audiences", "description")


def store(directory) -> dict[str, list[dict]]:
    """application object id -> its credentials; a new table whenever the directory was reset (new applications dict)."""
    current = getattr(directory, "_federated_credentials", None)
    if current is None or current[0] is not directory.applications:
        current = (directory.applications, {})
        directory._federated_credentials = current  # pylint: disable=protected-access
    return current[1]


def replicated(directory, app: dict) -> list[dict]:
    """The credentials of ``app`` the token endpoint knows (the ones still replicating are not among them)."""
    return [c for c in store(directory).get(app["id"], []) if not directory.is_young(c["id"])]


def _context(ctx: gb.Ctx, app: dict, entity: bool = False) -> str:
    return ctx.context("applications('%s')/federatedIdentityCredentials%s" % (app["id"], "/$entity" if entity else ""))


def _invalid(prop: str, reason: str) -> GraphError:
    return gb.invalid_value(prop, "FederatedIdentityCredential", reason)


def _check(body: dict, creating: bool) -> None:
    unknown = sorted(set(body) - set(FIELDS) - {"@odata.type", "id"})
    if unknown:
        raise bad_request("Property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type."
                          % (unknown[0], TYPE), code="BadRequest")
    if "id" in body:
        raise bad_request("Property 'id' is read-only and cannot be set.")
    if creating:
        for name in ("name", "issuer", "subject", "audiences"):
            if body.get(name) in (None, "", []):
                raise _invalid(name, "%s is required." % name)
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not 3 <= len(name) <= 120:
            raise _invalid("name", "The name must be 3 to 120 characters long.")
    if "issuer" in body:
        issuer = body["issuer"]
        parts = urllib.parse.urlsplit(issuer) if isinstance(issuer, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc or len(issuer) > MAX_TEXT:
            raise _invalid("issuer", "The issuer must be an https URL of at most 600 characters.")
    for name in ("subject", "description"):
        if name in body and body[name] is not None and (not isinstance(body[name], str) or len(body[name]) > MAX_TEXT):
            raise _invalid(name, "%s must be a string of at most 600 characters." % name)
    if "audiences" in body:
        audiences = body["audiences"]
        if not isinstance(audiences, list) or len(audiences) != 1 or not isinstance(audiences[0], str) or not audiences[0] \
                or len(audiences[0]) > MAX_TEXT:
            raise _invalid("audiences", "audiences must hold exactly one value of at most 600 characters.")


def _find(ctx: gb.Ctx, credentials: list[dict], key: dict) -> dict:
    if "name" in key:
        found = next((c for c in credentials if c["name"] == key["name"]), None)
    elif "" in key:
        found = next((c for c in credentials if c["id"] == gb.guid_key(key[""])), None)
    else:
        raise bad_request("Bad Request - Error in query syntax.", code="BadRequest")
    if found is None or not ctx.visible(found["id"]):
        raise GraphError(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not "
                         "present." % (key.get("name") or key.get("")))
    return found


def _conflicts(credentials: list[dict], candidate: dict, skip: dict | None = None) -> None:
    for other in credentials:
        if other is skip:
            continue
        if other["name"] == candidate["name"]:
            raise gb.conflict_400("name")
        if other["issuer"] == candidate["issuer"] and other["subject"] == candidate["subject"]:
            raise bad_request("FederatedIdentityCredential with the same issuer and subject already exists on this application.",
                              details=[{"code": "ObjectConflict", "message": "issuer and subject", "target": "subject"}])


def route(ctx: gb.Ctx, app: dict, rest: list[gb.Segment]) -> Response:
    """``rest`` starts with the ``federatedIdentityCredentials`` segment (with or without a key)."""
    directory = ctx.directory
    credentials = store(directory).setdefault(app["id"], [])

    def authorize_write() -> None:
        ctx.require(gb.APP_CREATE)
        ctx.require_app_write(app["id"])

    key, tail = gb.split_key(rest)
    if tail:
        raise gb.segment_not_found(tail[0].name)
    if key is None:
        if ctx.method == "GET":
            ctx.require(gb.APP_READ)
            gb.check_options(ctx, frozenset())
            return Response(200, {"@odata.context": _context(ctx, app), "value": [copy.deepcopy(c) for c in credentials if ctx.visible(c["id"])]})
        if ctx.method == "POST":
            authorize_write()
            gb.check_options(ctx, frozenset())
            body = gb.require_body(ctx)
            _check(body, creating=True)
            if len(credentials) >= MAX_PER_APP:
                raise bad_request("An application can have at most %d federated identity credentials." % MAX_PER_APP)
            credential = {"id": directory.new_id(), "name": body["name"], "issuer": body["issuer"], "subject": body["subject"],
                          "description": body.get("description"), "audiences": list(body["audiences"])}
            _conflicts(credentials, credential)
            directory.note_credential(credential["id"])
            credentials.append(credential)
            return Response(201, dict({"@odata.context": _context(ctx, app, entity=True)}, **copy.deepcopy(credential)))
        raise gb.method_not_allowed()
    if key == gb.COUNT_KEY:
        raise gb.not_implemented(ctx)
    credential = _find(ctx, credentials, key)
    if ctx.method == "GET":
        ctx.require(gb.APP_READ)
        return Response(200, dict({"@odata.context": _context(ctx, app, entity=True)}, **copy.deepcopy(credential)))
    if ctx.method == "PATCH":
        authorize_write()
        body = gb.require_body(ctx)
        _check(body, creating=False)
        if "name" in body and body["name"] != credential["name"]:
            raise _invalid("name", "The name of a federated identity credential cannot be changed.")
        updated = dict(credential, **{k: copy.deepcopy(v) for k, v in body.items() if k in FIELDS})
        _conflicts(credentials, updated, skip=credential)
        credential.update(updated)
        return gb.no_content()
    if ctx.method == "DELETE":
        authorize_write()
        credentials.remove(credential)
        return gb.no_content()
    raise gb.method_not_allowed()

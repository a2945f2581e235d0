# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding app registrations and their service principals; making sure the service principal exists.

Shared by the modules that work on an app (``entra_app``, ``entra_app_info``, ``entra_secret``,
``entra_assignment``). Graph behaviour relied on (docs/graph-facts.md: Applications, Service principals, Idempotency, Replication, Batching):

* ``/applications(appId='..')``, ``/applications(uniqueName='..')`` and ``/servicePrincipals(appId='..')``
  address one object (404 when there is none); ``displayName`` is not unique, so a lookup by name
  answers 0, 1 or several apps and several is an error listing them, never a guess.
* a service principal created right after its app answers 400 ``NoBackingApplicationObject`` (or 403
  with ``Application.ReadWrite.OwnedBy``) until the app has replicated: retried; a second one for
  the same appId is 409 ``Request_MultipleObjectsWithSameKeyValue``: it exists, so it is read.
* independent reads go in one ``$batch`` (``read_many``), so reading an app, its service principal
  and the Microsoft Graph service principal costs one request.
"""

import datetime

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import (  # re-exported  # pylint: disable=unused-import
    APP_SELECT,
    GRAPH_APP_ID,
    SP_SELECT,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, SsoError
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.batch import found_or_none
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (  # re-exports odata_string  # pylint: disable=unused-import
    entity_path,
    filter_eq,
    key_path,
    no_backing_application,
    not_found,
    odata_string,
    owned_by_backing_app_403,
)

ENTERPRISE_APP_TAG = "WindowsAzureActiveDirectoryIntegratedApp"
UNKNOWN = KNOWN_AFTER_RUN
#: what the collection reads of the Microsoft Graph service principal (to resolve scope names)
GRAPH_SP_SELECT = ("id", "appId", "oauth2PermissionScopes")


class AmbiguousApplicationError(SsoError):
    """Several app registrations match a display name: the module must not pick one."""

    result_key = "matches"

    def __init__(self, display_name, matches):
        self.display_name = display_name
        self.matches = [{"app_id": app.get("appId"), "object_id": app.get("id"), "display_name": app.get("displayName"),
                         "unique_name": app.get("uniqueName"), "created": app.get("createdDateTime")} for app in matches]
        listed = "; ".join("app_id %(app_id)s (object id %(object_id)s, created %(created)s)" % match for match in self.matches)
        super().__init__("%d app registrations are named %r: %s. Set app_id (or unique_name) to the one to manage, "
                         "or rename or delete the others." % (len(matches), display_name, listed))

    def to_dict(self):
        return self.matches


def app_path(app_id=None, unique_name=None, object_id=None):
    """The path of one application: by object id, ``appId`` or ``uniqueName`` (alternate keys)."""
    if object_id:
        return entity_path("/applications", object_id)
    if app_id:
        return key_path("/applications", "appId", app_id)
    return key_path("/applications", "uniqueName", unique_name)


def sp_path(app_id=None, object_id=None):
    """The path of one service principal: by object id or by the ``appId`` of its application."""
    if object_id:
        return entity_path("/servicePrincipals", object_id)
    return key_path("/servicePrincipals", "appId", app_id)


def select(properties):
    return {"$select": ",".join(properties)}


# ---------------------------------------------------------------------------------------------- reads

def read_many(graph, requests, keep_errors=()):
    """Send independent GETs, in one ``$batch`` when there are several; a 404 answers None, other errors raise.

    ``requests`` are ``(path, params)`` or ``(path, params, headers)``; the result is a list in the same order. The answers
    at the positions ``keep_errors`` are returned as they are, a ``GraphError`` included (the caller decides whether it
    needs that answer at all).
    """
    if not requests:
        return []
    requests = [tuple(request) + (None,) * (3 - len(request)) for request in requests]
    if len(requests) == 1:
        path, params, headers = requests[0]
        try:
            return [graph.get_or_none(path, params=params, headers=headers)]
        except GraphError as error:
            if 0 not in keep_errors:
                raise
            return [error]
    answers = graph.batch([dict({"method": "GET", "url": path, "params": params}, **({"headers": headers} if headers else {}))
                           for path, params, headers in requests])
    return [answer if index in keep_errors else found_or_none(answer) for index, answer in enumerate(answers)]


def app_lookup_request(app_id=None, unique_name=None, display_name=None, properties=APP_SELECT):
    """The GET (path, params) that finds an app by ``app_id``, else ``unique_name``, else ``display_name``."""
    if app_id or unique_name:
        return app_path(app_id=app_id, unique_name=unique_name), select(properties)
    return "/applications", dict(select(properties), **{"$filter": filter_eq("displayName", display_name)})


def one_application(answer, display_name=None):
    """The app in a lookup answer: an entity, None, or a collection that must hold at most one app."""
    if answer is None:
        return None
    if "value" not in answer or "@odata.context" in answer and "$entity" in answer["@odata.context"]:
        return answer
    matches = answer.get("value") or []
    if len(matches) > 1:
        raise AmbiguousApplicationError(display_name, matches)
    return matches[0] if matches else None


def find_application(graph, app_id=None, unique_name=None, display_name=None, properties=APP_SELECT):
    """The app with ``app_id``, else ``unique_name``, else the only one named ``display_name``; None when there is none.

    Several apps with the display name raise ``AmbiguousApplicationError``. With ``unique_name`` and
    no app holding it, an app found by ``display_name`` is returned only if it has no uniqueName yet.
    """
    if app_id or unique_name:
        app = graph.get_or_none(*app_lookup_request(app_id, unique_name, properties=properties))
        if app is not None or app_id or not display_name:
            return app
    if not display_name:
        return None
    found = graph.list_all(*app_lookup_request(display_name=display_name, properties=properties))
    if unique_name:
        found = [app for app in found if not app.get("uniqueName")]
    return one_application({"value": found}, display_name)


def get_service_principal(graph, app_id, properties=SP_SELECT, retry_on=()):
    """The service principal of the app ``app_id`` (None when it has none)."""
    return graph.get_or_none(sp_path(app_id=app_id), params=select(properties), retry_on=retry_on)


def create_service_principal(graph, app_id, body=None, properties=SP_SELECT):
    """Create the service principal of the app ``app_id`` and return it; an existing one is returned instead.

    Retried while the app replicates (400 NoBackingApplicationObject, 403 with OwnedBy). After an
    ambiguous answer (timeout, 504) it is looked for before any new POST; a 409 "already in use"
    means it exists: it is read (retrying 404 while it replicates).
    """
    payload = dict(body or {}, appId=app_id)
    try:
        return graph.create("/servicePrincipals", payload, find_existing=lambda: get_service_principal(graph, app_id, properties),
                            retry_on=(no_backing_application, owned_by_backing_app_403))
    except GraphError as error:
        if error.status != 409 or error.code != "Request_MultipleObjectsWithSameKeyValue":
            raise
    return graph.get(sp_path(app_id=app_id), params=select(properties), retry_on=(not_found,))


def ensure_service_principal(graph, app_id, body=None, properties=SP_SELECT):
    """The service principal of ``app_id``, created (with ``body``) when missing. Returns (service principal, created)."""
    existing = get_service_principal(graph, app_id, properties)
    if existing is not None:
        return existing, False
    return create_service_principal(graph, app_id, body, properties), True


# ---------------------------------------------------------------------------------------------- credentials

def _days_left(end, now):
    if not end:
        return None
    moment = datetime.datetime.strptime(end[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int((moment - now).total_seconds() // 86400)


def credentials_view(app, now=None):
    """The app's client secrets and certificates without any secret: ids, names, hints, validity and days left."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    passwords = [{"key_id": item.get("keyId"), "display_name": item.get("displayName"), "hint": item.get("hint"),
                  "start": item.get("startDateTime"), "end": item.get("endDateTime"), "days_left": _days_left(item.get("endDateTime"), now)}
                 for item in (app or {}).get("passwordCredentials") or []]
    certificates = [{"key_id": item.get("keyId"), "display_name": item.get("displayName"), "type": item.get("type"), "usage": item.get("usage"),
                     "start": item.get("startDateTime"), "end": item.get("endDateTime"), "days_left": _days_left(item.get("endDateTime"), now)}
                    for item in (app or {}).get("keyCredentials") or []]
    for item in passwords + certificates:
        item["expired"] = item["days_left"] is not None and item["end"] is not None and item["days_left"] < 0

    def order(item):   # by end, then start and key id: Graph lists credentials in no promised order (real Graph: newest first)
        return (item["end"] or "", item["start"] or "", (item["key_id"] or "").lower())
    return {"secrets": sorted(passwords, key=order), "certificates": sorted(certificates, key=order)}

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate and federated identity credentials of an app registration (``entra_app_credential``); subpackage "entra".

A certificate (``keyCredentials``, public part only) is known by its SHA-1 thumbprint (Graph's ``customKeyIdentifier``) or by
its display name; a missing one is added with one ``PATCH`` of ``keyCredentials`` that sends the existing entries back by
``keyId`` (Graph keeps them). A federated identity credential is known by its ``name`` (which never changes): a missing one
is added (``POST``), one that differs in issuer, subject, audience or (when given) description is updated (``PATCH``).
Credentials not named are always kept. Reads: the app (with ``keyCredentials``) and, when federated credentials are given,
its federated credentials (``/applications/{id}/...``: Graph has no navigation on the ``appId`` key path) - two GETs.
"""

import base64
import binascii
import hashlib
import re

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import entity_path, key_path, not_found
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN, is_guid, is_known_after_run
from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline, wait_until

DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
DEFAULT_CERTIFICATE_NAME = "certificate {thumbprint}"
APP_SELECT = "id,appId,displayName,keyCredentials"
_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
# Graph's limits (federatedIdentityCredential): name 3 to 120 characters, issuer/subject/audience/description at most 600.
NAME_LENGTH = (3, 120)
TEXT_LIMIT = 600


class CredentialOptionError(ValueError):
    """Bad input, found before any request; the message names the option and the fix."""


def certificate_der(pem, where):
    """The DER bytes of the one certificate in ``pem`` (a private key or several certificates are refused, naming ``where``)."""
    if "PRIVATE KEY" in pem:
        raise CredentialOptionError("%s holds a private key: give the public certificate only (openssl x509 -in key-and-cert.pem "
                                    "-out automation.crt); the private key stays with the automation" % where)
    blocks = _PEM_RE.findall(pem)
    if len(blocks) != 1:
        raise CredentialOptionError("%s must hold exactly one PEM certificate (-----BEGIN CERTIFICATE-----), found %d" % (where, len(blocks)))
    try:
        return base64.b64decode("".join(blocks[0].split()), validate=True)
    except (binascii.Error, ValueError):
        raise CredentialOptionError("%s: the certificate is not valid base64 PEM" % where) from None


def thumbprint(der):
    """The SHA-1 thumbprint as Graph and the portal show it: 40 upper-case hex digits."""
    return hashlib.sha1(der).hexdigest().upper()  # nosec - the certificate's identifier, not a security use


def wanted_certificates(params, read_file):
    """``[{der, thumbprint, display_name}]`` for O(certificates); ``read_file(path)`` returns a file's text."""
    wanted = []
    for index, entry in enumerate(params.get("certificates") or []):
        where = "certificates[%d]" % index
        if bool(entry.get("path")) == bool(entry.get("content")):
            raise CredentialOptionError("%s needs exactly one of path (a PEM file) and content (PEM text)" % where)
        if entry.get("path"):
            where = "%s.path %s" % (where, entry["path"])
            try:
                pem = read_file(entry["path"])
            except (IOError, OSError) as exc:
                raise CredentialOptionError("%s cannot be read (%s): give the path of the PEM certificate file" % (where, exc.strerror or exc))
        else:
            pem, where = entry["content"], where + ".content"
        der = certificate_der(pem, where)
        print_ = thumbprint(der)
        name = (entry.get("display_name") or DEFAULT_CERTIFICATE_NAME).replace("{thumbprint}", print_)
        wanted.append({"der": der, "thumbprint": print_, "display_name": name})
    prints = [item["thumbprint"] for item in wanted]
    if len(set(prints)) != len(prints):
        raise CredentialOptionError("certificates names the same certificate twice: give each certificate once")
    return wanted


def wanted_federated(params):
    """``[{name, issuer, subject, audiences, description?}]`` for O(federated_credentials), checked as Graph would."""
    wanted = []
    for index, entry in enumerate(params.get("federated_credentials") or []):
        where = "federated_credentials[%d]" % index
        name = entry.get("name") or ""
        if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
            raise CredentialOptionError("%s.name must have 3 to 120 characters, got %r" % (where, name))
        if not re.match(r"^https://[^/\s]+", entry.get("issuer") or ""):
            raise CredentialOptionError("%s.issuer must be the https URL of the OIDC issuer, exactly as the iss claim of its tokens "
                                        "(e.g. https://token.actions.githubusercontent.com)" % where)
        for field in ("issuer", "subject", "audience", "description"):
            if len(entry.get(field) or "") > TEXT_LIMIT:
                raise CredentialOptionError("%s.%s has more than %d characters" % (where, field, TEXT_LIMIT))
        if not entry.get("subject"):
            raise CredentialOptionError("%s.subject must be the sub claim of the tokens, e.g. repo:contoso/sso:environment:prod" % where)
        item = {"name": name, "issuer": entry["issuer"], "subject": entry["subject"], "audiences": [entry.get("audience") or DEFAULT_AUDIENCE]}
        if entry.get("description") is not None:
            item["description"] = entry["description"]
        wanted.append(item)
    names = [item["name"] for item in wanted]
    if len(set(names)) != len(names):
        raise CredentialOptionError("federated_credentials: each name must be unique (%s)" % ", ".join(sorted(set(n for n in names if names.count(n) > 1))))
    return wanted


def check_app_id(app_id, check_mode):
    if not is_guid(app_id) and not (check_mode and is_known_after_run(app_id)):
        raise CredentialOptionError("app_id %r is not an application (client) ID: give the GUID of the app registration "
                                    "(entra_app returns it as app_id)" % app_id)


def has_certificate(current, cert):
    """Whether the app's ``keyCredentials`` hold ``cert`` (by thumbprint, else by display name)."""
    for credential in current:
        identifier = credential.get("customKeyIdentifier") or ""
        if identifier.upper() == cert["thumbprint"] or _b64_hex(identifier) == cert["thumbprint"]:
            return True
        if credential.get("displayName") == cert["display_name"]:
            return True
    return False


def _b64_hex(value):
    """Graph may show ``customKeyIdentifier`` as base64 of the thumbprint's bytes."""
    try:
        return binascii.hexlify(base64.b64decode(value, validate=True)).decode("ascii").upper()
    except (binascii.Error, ValueError):
        return None


def kept_entry(credential):
    """An existing keyCredential as sent back in a PATCH: Graph keeps it by ``keyId`` (no ``key``, nulls left out)."""
    return dict((key, value) for key, value in credential.items() if value is not None and key != "key")


def new_entry(cert):
    return {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(cert["der"]).decode("ascii"),
            "displayName": cert["display_name"]}


def federated_changes(current, wanted):
    """``(to_add, to_update [(id, name, body)])``: by name; a description not given is not compared."""
    by_name = dict((item.get("name"), item) for item in current)
    to_add, to_update = [], []
    for item in wanted:
        have = by_name.get(item["name"])
        if have is None:
            to_add.append(item)
            continue
        body = dict((field, value) for field, value in item.items() if field != "name" and have.get(field) != value)
        if body:
            to_update.append((have["id"], item["name"], body))
    return to_add, to_update


def view_certificate(credential):
    return {"display_name": credential.get("displayName"), "thumbprint": credential.get("customKeyIdentifier"),
            "end_date": credential.get("endDateTime"), "key_id": credential.get("keyId")}


def view_federated(item):
    return dict((field, item.get(field)) for field in ("name", "issuer", "subject", "audiences", "description"))


class AppCredentials:
    """The app registration's certificates and federated identity credentials, through one ``GraphClient``."""

    def __init__(self, graph, app_id, wait_timeout=120, sleep=None):
        self.graph = graph
        self.app_id = app_id
        self.wait_timeout = wait_timeout
        self._sleep = sleep
        self.app = None
        self.federated = []

    def read(self, with_federated):
        """The app and (``with_federated``) its federated credentials: one GET each; nothing for a placeholder."""
        if is_known_after_run(self.app_id):
            return
        app_path = key_path("/applications", "appId", self.app_id)
        kwargs = {"sleep": self._sleep} if self._sleep else {}
        # read at once; one created moments before is read again until it has replicated, within wait_timeout
        self.app = wait_until(lambda: self.graph.get_or_none(app_path, params={"$select": APP_SELECT}), Deadline(self.wait_timeout), **kwargs)
        if self.app is None:
            raise CredentialOptionError("app_id: no app registration with application (client) ID %s; create it first "
                                        "(smarttrace.sso.entra_app)" % self.app_id)
        if with_federated:  # by object id: Graph attaches navigation to key-segment paths only (and $expand does not reach them)
            self.federated = self.graph.list_all(entity_path("/applications", self.app["id"], "federatedIdentityCredentials"))

    def write(self, key_credentials, to_add, to_update):
        app = entity_path("/applications", self.app["id"])
        if key_credentials is not None:
            self.graph.patch(app, {"keyCredentials": key_credentials}, retry_on=(not_found,))
        for item in to_add:
            self.graph.post(entity_path("/applications", self.app["id"], "federatedIdentityCredentials"), item, retry_on=(not_found,), idempotent=False)
        for credential_id, _name, body in to_update:
            self.graph.patch(entity_path("/applications", self.app["id"], "federatedIdentityCredentials", credential_id), body)


def ensure(store, certificates, federated, check_mode):
    """Add the missing certificates and federated credentials, update federated credentials that differ; the module's result."""
    store.read(bool(federated))
    current_keys = (store.app or {}).get("keyCredentials") or []
    missing = [cert for cert in certificates if not has_certificate(current_keys, cert)]
    key_credentials = [kept_entry(credential) for credential in current_keys] + [new_entry(cert) for cert in missing] if missing else None
    to_add, to_update = federated_changes(store.federated, federated)
    changed = bool(missing or to_add or to_update)
    if changed and not check_mode:
        store.write(key_credentials, to_add, to_update)
    updated = dict((name, body) for _id, name, body in to_update)
    added_names = set(item["name"] for item in to_add)
    before = {"certificates": sorted(c.get("displayName") or "" for c in current_keys),
              "federated_credentials": [view_federated(item) for item in store.federated if item.get("name") in updated]}
    after = {"certificates": sorted(before["certificates"] + [cert["display_name"] for cert in missing]),
             "federated_credentials": [view_federated(dict(item, **updated[item["name"]])) for item in store.federated if item.get("name") in updated]
             + [view_federated(item) for item in to_add]}
    result = dict(app_id=store.app_id, object_id=store.app["id"] if store.app else KNOWN_AFTER_RUN,
                  certificates=[view_certificate(c) for c in current_keys] + [
                      {"display_name": cert["display_name"], "thumbprint": cert["thumbprint"], "end_date": None, "key_id": None} for cert in missing],
                  added_certificates=[cert["thumbprint"] for cert in missing],
                  added_federated_credentials=sorted(added_names), updated_federated_credentials=sorted(updated))
    return changed, before, after, result

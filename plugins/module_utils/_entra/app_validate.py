# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``entra_app``'s options checked before any request: each rule once, each error naming the option and the fix."""

import hashlib
import re
from urllib.parse import urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_properties import PERSONAL_AUDIENCES
from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import GUID_RE
from ansible_collections.smarttrace.sso.plugins.module_utils._entra import app_owners as owners_

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
FORBIDDEN_URI_CHARACTERS = "!$'(),;"
MAX_URI_LENGTH = 256
ROLE_VALUE_RE = re.compile(r"^[!#-&(-\[\]-~]+$")  # printable ASCII without space, " and '


class OptionError(ValueError):
    """An option that cannot work; the message names it and says what to do."""


def uri_problem(uri):
    """Why Entra ID would refuse ``uri`` as a redirect or logout URL (docs/graph-facts.md, Redirect URIs), or None."""
    if len(uri) > MAX_URI_LENGTH:
        return "has %d characters, at most %d are allowed" % (len(uri), MAX_URI_LENGTH)
    bad = sorted(set(ch for ch in uri if ch in FORBIDDEN_URI_CHARACTERS or ch.isspace()))
    if bad:
        return "contains %s, which Entra ID does not allow (%s and white space)" % (" ".join(repr(ch) for ch in bad), " ".join(FORBIDDEN_URI_CHARACTERS))
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS:
        return None
    if parts.scheme == "http":
        return "uses http, which Entra ID allows only for localhost, 127.0.0.1 and [::1]: use https"
    return "is not an absolute https URL"


def validate(params):
    """Raise ``OptionError`` for the first option that cannot work (no request has been made yet)."""
    if params.get("app_id") and not GUID_RE.match(params["app_id"]):
        raise OptionError("app_id %r is not a GUID: give the Application (client) ID shown on the app's Overview page, or leave app_id out"
                          % params["app_id"])
    if params["state"] == "absent":
        return
    for option in ("display_name", "unique_name", "gallery_template"):
        if params.get(option) is not None and not params[option].strip():
            raise OptionError("%s must not be empty" % option)
    audience = params["sign_in_audience"]
    for uri in params.get("redirect_uris") or []:
        problem = uri_problem(uri)
        if problem is None and audience in PERSONAL_AUDIENCES and ("*" in uri or "?" in uri):
            problem = "has a wildcard or query, which apps for personal Microsoft accounts cannot use"
        if problem:
            raise OptionError("redirect_uris: %r %s" % (uri, problem))
    for option in ("logout_url", "home_page_url"):
        if params.get(option):
            problem = uri_problem(params[option])
            if problem:
                raise OptionError("%s: %r %s" % (option, params[option], problem))
    for tag in params.get("tags") or []:
        if not tag or len(tag) > 256:
            raise OptionError("tags: every tag must have 1 to 256 characters (got %r)" % tag)
    for name in params.get("graph_permissions") or []:
        if not name or not name.strip() or " " in name.strip():
            raise OptionError("graph_permissions: %r is not a permission name; give names such as openid, profile, email, User.Read" % name)
    validate_app_roles(params.get("app_roles") or [])
    for value in params.get("owners") or []:
        problem = owners_.owner_problem(value)
        if problem:
            raise OptionError("owners: %s" % problem)


def validate_app_roles(roles):
    values = set()
    for role in roles:
        value = role["value"]
        if not ROLE_VALUE_RE.match(value) or value.startswith("."):
            raise OptionError("app_roles: value %r may not contain spaces or quotes nor start with a dot (it appears in the roles claim)" % value)
        if value in values:
            raise OptionError("app_roles: value %r is given twice; values must be unique" % value)
        values.add(value)
        if role.get("id") and not GUID_RE.match(role["id"]):
            raise OptionError("app_roles: id %r of role %r is not a GUID; leave id out to keep or derive it" % (role["id"], value))
        if not role.get("allowed_member_types"):
            raise OptionError("app_roles: role %r needs allowed_member_types (User and/or Application)" % value)


def derived_unique_name(display_name, attempt=0):
    """The uniqueName given to an app the module creates without ``unique_name``: the same for the same display name.

    It makes creating idempotent (an upsert on the alternate key), also when a second run starts while
    the first run's app is still replicating. ``attempt`` > 0 gives the next candidate when a deleted app
    still holds the name.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:60] or "app"
    digest = hashlib.sha256(display_name.encode("utf-8")).hexdigest()[:10]
    return "smarttrace-sso-%s-%s%s" % (slug, digest, "-%d" % (attempt + 1) if attempt else "")


def check_redirect_count(params, app):
    uris = ((app or {}).get("web") or {}).get("redirectUris") or []
    limit = 100 if params["sign_in_audience"] in PERSONAL_AUDIENCES else 256
    if len(uris) > limit:
        raise OptionError("redirect_uris: the app would have %d redirect URIs; Entra ID allows at most %d for sign_in_audience %s"
                          % (len(uris), limit, params["sign_in_audience"]))

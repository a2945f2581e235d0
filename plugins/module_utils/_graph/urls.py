# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every value the collection places in a Microsoft Graph URL goes through one of these helpers (docs/graph-facts.md).

Split out of ``_graph_client`` (which re-exports every name); subpackage: graph.
"""

from urllib.parse import quote

API_VERSION = "v1.0"

# Every value the collection places in a Graph URL goes through one of these: a name such as a unique_name, a user
# principal name or a group name may hold ' ) / ? # & % or spaces, and must address exactly the object it names.
# Left as they are in a path segment: RFC 3986 unreserved characters and "@" (user principal names). Everything
# else, "/", "?", "#", "(", ")", "'", "=", "%" and spaces included, is percent-encoded.
_SEGMENT_SAFE = "@"


def odata_string(value):
    """``value`` as an OData string literal: quoted, with ``'`` doubled. Not percent-encoded: for ``$filter`` values
    given in ``params`` (which are encoded whole, alone and in ``$batch``) or built into a URL by ``filter_query``."""
    return "'%s'" % str(value).replace("'", "''")


def url_segment(value):
    """One path segment (an object id, a user principal name): percent-encoded, so it stays one segment."""
    return quote(str(value), safe=_SEGMENT_SAFE)


def entity_path(collection, object_id, *segments):
    """``/collection/{object_id}[/segment...]``, each part percent-encoded: ``entity_path("/users", upn)``."""
    return "%s/%s%s" % (collection, url_segment(object_id), "".join("/" + url_segment(segment) for segment in segments))


def key_path(collection, key, value, *segments):
    """An alternate-key path ``/collection(key='value')[/segment...]``: ``'`` doubled, then percent-encoded, so a value
    such as ``a')/owners?x=('`` addresses the object with that key (or none), never another path.
    """
    literal = "'%s'" % quote(str(value).replace("'", "''"), safe=_SEGMENT_SAFE + "'")
    return "%s(%s=%s)%s" % (collection, key, literal, "".join("/" + url_segment(segment) for segment in segments))


def filter_eq(prop, value):
    """``prop eq 'value'`` (a ``$filter`` text; the caller gives it in ``params`` or to ``filter_query``)."""
    return "%s eq %s" % (prop, odata_string(value))


def filter_query(path, params):
    """``path?key=value&...`` with every value percent-encoded (``$filter`` texts included): for URLs written out whole,
    such as ``$batch`` sub-requests built by the caller. Equivalent to giving ``params`` to ``request()`` or ``batch()``."""
    return batch_url(path, params)


def batch_url(path, params=None):
    """A ``$batch`` sub-request url: nothing encodes it on the way, so path and query are percent-encoded here.

    A display name in ``$filter`` may hold spaces, ``&``, ``+`` or ``#``: pass such values in ``params`` (encoded
    whole). A query already written into ``path`` is split at ``&`` and ``=``, and ``%XX`` escapes in it are kept.
    """
    path, _separator, query = path.partition("?")
    parts = ["%s=%s" % (quote(key, safe="$%"), quote(value, safe="$,'()-._~%"))
             for key, _equals, value in (part.partition("=") for part in query.split("&") if part)]
    parts += ["%s=%s" % (quote(str(key), safe="$"), quote(str(value), safe="$,'()-._~")) for key, value in (params or {}).items()]
    return quote(path, safe="/()='$,:@-._~%") + ("?" + "&".join(parts) if parts else "")

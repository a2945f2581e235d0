# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which proxy a URL goes through, from the environment (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``...), and how to reach it.

Only ``http://`` proxies are spoken; anything else is refused with ``UnsupportedProxy``, naming the variable to fix.
Split out of ``_http`` (which re-exports every name); subpackage: common.
"""

import base64
import os
from urllib.parse import unquote, urlsplit

from ansible_collections.smarttrace.sso.plugins.module_utils._common.http_errors import UnsupportedProxy


def proxy_for(url, environ=None):
    """The proxy URL for ``url`` from the environment (None: connect directly).

    ``<scheme>_proxy``/``<SCHEME>_PROXY``, else ``all_proxy``/``ALL_PROXY`` (lower case first, as curl and requests);
    a value without a scheme is an ``http://`` proxy.
    """
    return proxy_setting(url, environ)[1]


def proxy_setting(url, environ=None):
    """(name of the variable, proxy URL) for ``url`` from the environment; (None, None): connect directly."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    for name in ("%s_proxy" % scheme, "%s_PROXY" % scheme.upper(), "all_proxy", "ALL_PROXY"):
        proxy = environ.get(name)
        if proxy:
            break
    else:
        return None, None
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    if bypasses_proxy(parts.hostname or "", parts.port or (443 if scheme == "https" else 80), no_proxy):
        return None, None
    return name, (proxy if "://" in proxy else "http://" + proxy)


def proxy_endpoint(proxy, variable="HTTPS_PROXY"):
    """(host, port, ``Proxy-Authorization`` value or None) of an ``http://`` proxy URL; ``UnsupportedProxy`` otherwise."""
    parts = urlsplit(proxy)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or 80
    except ValueError:
        port = None
    if scheme != "http" or not parts.hostname or port is None:
        what = ("a proxy reached over TLS (https://) is not supported" if scheme == "https" else
                "%s proxies are not supported" % scheme if scheme != "http" else "it has no valid host and port")
        raise UnsupportedProxy("unusable proxy %s in %s: %s; give the proxy's http:// address (https:// requests still go "
                               "through it encrypted end to end, in a CONNECT tunnel) or unset %s"
                               % (_without_credentials(proxy), variable, what, variable))
    authorization = None
    if parts.username is not None:
        credentials = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
        authorization = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
    return parts.hostname, port, authorization


def bypasses_proxy(host, port, no_proxy):
    """Whether ``host`` (and ``port``) is excluded from proxying by a ``NO_PROXY`` value."""
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:  # an IP network, e.g. 10.0.0.0/8
            if _in_network(host, entry):
                return True
            continue
        name, _sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".").strip("[]")
        if name.startswith("*."):
            name = name[2:]
        if host == name or host.endswith("." + name):
            return True
    return False


def _in_network(host, network):
    import ipaddress  # only NO_PROXY entries with a network need it
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _without_credentials(url):
    """``url`` as ``scheme://host[:port]``: never its user name or password (or path)."""
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc.rpartition("@")[2])

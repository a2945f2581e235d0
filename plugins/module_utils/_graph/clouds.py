# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Microsoft clouds: where to sign in, where Microsoft Graph lives, and which scope to ask for."""

from collections import namedtuple

# Hosts msal knows without instance discovery (its "well-known" list); any other authority host is
# "known to the developer" (an emulator, a proxy) and is used with ``instance_discovery=False``.
MICROSOFT_AUTHORITY_HOSTS = frozenset((
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "sts.windows.net",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
    "login.microsoftonline.de",
    "login-us.microsoftonline.com",
    "login.microsoftonline.us",
    "login.usgovcloudapi.net",
))


class Cloud(namedtuple("Cloud", ["name", "authority_host", "graph_root"])):
    """One national cloud. ``authority_root`` and ``graph_root`` are URLs without a trailing slash."""

    __slots__ = ()

    @property
    def authority_root(self):
        return "https://" + self.authority_host

    @property
    def scope(self):
        """The client-credentials scope for Microsoft Graph in this cloud."""
        return self.graph_root + "/.default"

    @property
    def resource(self):
        """The resource name for managed identity and the Azure CLI (the Graph root)."""
        return self.graph_root


CLOUDS = {
    "public": Cloud("public", "login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("usgov", "login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov_dod": Cloud("usgov_dod", "login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("china", "login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

DEFAULT_CLOUD = "public"


def get_cloud(name=None):
    """Return the ``Cloud`` called ``name`` (default: public); raise ``ValueError`` for an unknown name."""
    try:
        return CLOUDS[name or DEFAULT_CLOUD]
    except KeyError:
        raise ValueError("unknown cloud %r: choose one of %s" % (name, ", ".join(sorted(CLOUDS))))


def normalize_root(url):
    """``login.microsoftonline.us`` or ``https://host:port/`` -> ``https://host[:port]`` (the form used everywhere)."""
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "https://" + url
    return url


def is_microsoft_authority(authority_root):
    """True when msal may validate ``authority_root`` itself (a Microsoft login host)."""
    host = normalize_root(authority_root).split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return host in MICROSOFT_AUTHORITY_HOSTS

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``SmartTraceModule``: the base class of the SmartTrace modules (connection options, client, input checks, fail/exit helpers).

A module reads like::

    module = SmartTraceModule(argument_spec=dict(instance=dict(type="str", required=True)))
    (instance,) = module.check_input(lambda: check_instance(module.params["instance"]))
    try:
        current = module.client.get_integration(instance)
    except Exception as exc:
        module.fail_from(exc)
    module.exit_with(False, integration=current)
"""

import os
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AADSTS_HINTS, aadsts_code
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import session_for
from ansible_collections.smarttrace.sso.plugins.module_utils._common.int_options import int_option_problems
from ansible_collections.smarttrace.sso.plugins.module_utils._common.module_results import ModuleResults
from ansible_collections.smarttrace.sso.plugins.module_utils._common.time_budget import time_budget_argument_spec
from ansible_collections.smarttrace.sso.plugins.module_utils._smarttrace.client import (
    DEFAULT_API_URL,
    InputError,
    SmartTraceClient,
    given_api_token,
)

DEBUG_VERBOSITY = 3  # -vvv adds the SmartTrace request trace to the result

# What to do when SmartTrace's test relays these Entra ID errors, worded for the module's options.
TEST_FIXES = {
    "7000215": "give the Value (not the Secret ID) of a secret of application_id",
    "7000222": "the secret has expired: create a new one and give it as client_secret",
    "700016": "application_id is not an app registration of tenant_id: check both",
    "7000229": "the app registration has no enterprise application (service principal) in tenant_id: create it",
    "7000112": "the enterprise application of application_id is disabled: enable it",
    "90002": "tenant_id is not an Entra ID tenant: give the Directory (tenant) ID",
}


def smarttrace_argument_spec():
    """The options every SmartTrace module shares (documented in the ``smarttrace.sso.smarttrace`` doc fragment)."""
    spec = dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["SMARTTRACE_API_URL"])),
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["SMARTTRACE_API_TOKEN"])),
        username=dict(type="str", fallback=(env_fallback, ["SMARTTRACE_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["SMARTTRACE_PASSWORD"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["SMARTTRACE_CA_PATH", "REQUESTS_CA_BUNDLE"])),
        timeout=dict(type="int", default=30),
    )
    spec.update(time_budget_argument_spec())
    return spec


def connection_problems(params):
    """What is wrong with the connection options (each naming the option and the fix); [] when nothing."""
    problems = []
    url = params.get("api_url") or ""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        problems.append("api_url must be an https:// URL such as %s (requests carry the API token or password), not %r" % (DEFAULT_API_URL, url))
    token, username, password = given_api_token(params.get("api_token")), params.get("username"), params.get("password")
    if token and (username or password):
        problems.append("give either api_token or username and password, not both (check SMARTTRACE_API_TOKEN, SMARTTRACE_USERNAME "
                        "and SMARTTRACE_PASSWORD in the environment)")
    elif not token and not (username or password):
        problems.append("no SmartTrace credentials: give api_token (or SMARTTRACE_API_TOKEN), or username and password "
                        "(or SMARTTRACE_USERNAME and SMARTTRACE_PASSWORD) of a SmartTrace administrator")
    elif not token and not (username and password):
        problems.append("%s is required with %s" % (("password", "username") if username else ("username", "password")))
    ca_path = params.get("ca_path")
    if ca_path and not os.path.isfile(ca_path):
        problems.append("ca_path %s is not a file: give the PEM file of the certificate authorities that signed the SmartTrace API's certificate" % ca_path)
    problems.extend(int_option_problems(params))  # timeout, verify_timeout: bounds shared by every module (_int_options)
    return problems


class SmartTraceModule(ModuleResults, AnsibleModule):
    """``AnsibleModule`` with the shared SmartTrace options, a lazily built ``client`` and input/error/diff helpers."""

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        super().__init__(smarttrace_argument_spec(), argument_spec, supports_check_mode, **kwargs)
        self._client = None

    def check_input(self, *checks):
        """Check the connection options and run each ``check()``; fail with every problem before any request, else return their values."""
        problems = connection_problems(self.params)
        values = []
        for check in checks:
            try:
                values.append(check())
            except InputError as exc:
                problems.append(str(exc))
        if problems:
            self.fail_json(msg="Invalid options: %s." % "; ".join(problems))
        return values

    @property
    def client(self):
        """The ``SmartTraceClient`` (built on first use); every bearer token it obtains is registered as a no_log value."""
        if self._client is None:
            params = self.params
            session = session_for(params["validate_certs"], params.get("ca_path"), params["timeout"], warn=self.warn, service="the SmartTrace API")
            self._client = SmartTraceClient(session, params["api_url"], api_token=params.get("api_token"), username=params.get("username"),
                                            password=params.get("password"), on_token=self.no_log_values.add, timeout=params["timeout"],
                                            budget=self.deadline)
        return self._client

    def _debug_fields(self):
        """At -vvv: the last SmartTrace requests (method, path, status, timing; no bodies, no headers)."""
        if self._verbosity < DEBUG_VERBOSITY or self._client is None:
            return {}
        return {"smarttrace_debug": {"request_count": self._client.request_count, "trace": list(self._client.trace)}}


def check_verify_timeout(value):
    if value is not None and value < 0:
        raise InputError("verify_timeout must be 0 or more seconds")
    return value


def verification_failure(instance, verification):
    """The message when SmartTrace's test fails after saving: its error and what to do (and how long a new secret was waited for)."""
    error = verification["error"] or "no reason given"
    text = "SmartTrace saved the integration of instance %s, but its test of the stored values failed: %s" % (instance, error)
    code = aadsts_code(error)
    fix = TEST_FIXES.get(code) or AADSTS_HINTS.get(code)
    if fix:
        text += " -> Fix: %s" % fix
    if code == "7000215":
        text += ("; a secret created moments ago can take a few minutes to work (tested %d times over %.0f s): if so, raise verify_timeout"
                 % (verification["attempts"], verification["waited"]))
    return text + "."

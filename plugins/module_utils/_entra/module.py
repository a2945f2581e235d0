# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``EntraModule``: the base class of the Entra modules (shared options, Graph client, fail/exit helpers).

A module reads like::

    module = EntraModule(argument_spec=dict(name=dict(type="str", required=True)))
    try:
        current = module.graph.get_or_none("/applications(appId='%s')" % app_id)
        delta = module.would_change(current, desired)
        if delta and not module.check_mode:
            module.graph.patch(...)
    except Exception as exc:
        module.fail_from(exc)
    module.exit_with(bool(delta), before=current, after=desired, app_id=app_id)
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import TokenProvider
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_credentials import HAS_MSAL, MSAL_IMPORT_ERROR
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth_options import MSAL_METHODS, AuthConfig, build_session, entra_argument_spec
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import GraphClient
from ansible_collections.smarttrace.sso.plugins.module_utils._common.int_options import int_option_problems
from ansible_collections.smarttrace.sso.plugins.module_utils._common.module_results import ModuleResults
from ansible_collections.smarttrace.sso.plugins.module_utils._common.reconcile import changed_properties

DEBUG_VERBOSITY = 3  # -vvv adds the Graph request trace to the result


class EntraModule(ModuleResults, AnsibleModule):
    """``AnsibleModule`` with the shared Entra options, a lazily built ``graph`` client and error/diff helpers."""

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        super().__init__(entra_argument_spec(), argument_spec, supports_check_mode, **kwargs)
        self._graph = None
        self._token_provider = None
        problems = int_option_problems(self.params)  # bounds of every integer option, before anything else
        if problems:
            self.fail_json(msg="Invalid options: %s." % "; ".join(problems))

    @property
    def tenant_id(self):
        return self.params.get("tenant_id")

    @property
    def token_provider(self):
        """The ``TokenProvider`` for the module's options (configuration errors end the module with ``fail_json``)."""
        if self._token_provider is None:
            try:
                config = AuthConfig(self.params)
                session = build_session(config.validate_certs, config.ca_path, config.timeout, warn=self.warn)
                provider = TokenProvider(config, session, warn=self.warn, budget=self.deadline)
            except Exception as exc:  # noqa: BLE001 - reported through fail_json, secret-free
                self.fail_from(exc)
            if provider.method in MSAL_METHODS and not HAS_MSAL:
                self.fail_json(msg=missing_required_lib("msal", reason="for auth_method %s" % provider.method), exception=MSAL_IMPORT_ERROR)
            self._token_provider = provider
        return self._token_provider

    @property
    def graph(self):
        """The ``GraphClient`` (built on first use); every token it sends is registered as a no_log value."""
        if self._graph is None:
            provider = self.token_provider

            def registered_token():
                token = provider()
                self.no_log_values.add(token)
                return token

            self._graph = GraphClient(provider.session, provider.config.graph_root, registered_token, timeout=provider.config.timeout,
                                      on_token_rejected=provider.invalidate, budget=self.deadline)
        return self._graph

    def would_change(self, current, desired):
        """The properties of ``desired`` that differ from ``current`` (a minimal PATCH body; {} when none)."""
        return changed_properties(current, desired)

    def _debug_fields(self):
        """At -vvv: how the token was obtained and the last Graph requests (no bodies, no headers)."""
        if self._verbosity < DEBUG_VERBOSITY:
            return {}
        fields = {}
        if self._token_provider is not None:
            fields["auth_debug"] = {"method": self._token_provider.method, "source": self._token_provider.source,
                                    "login_requests": self._token_provider.requests}
        if self._graph is not None:
            fields["graph_debug"] = {"request_count": self._graph.request_count, "trace": list(self._graph.trace)}
        return fields

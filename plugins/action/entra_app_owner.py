# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""smarttrace.sso.entra_app_owner, run in Ansible's worker process when it would run on the controller anyway
(plugins/plugin_utils/module_in_worker.py)."""

from ansible_collections.smarttrace.sso.plugins.plugin_utils.module_in_worker import ModuleInWorker


class ActionModule(ModuleInWorker):
    """Runs the module smarttrace.sso.entra_app_owner (its documentation is the module's)."""

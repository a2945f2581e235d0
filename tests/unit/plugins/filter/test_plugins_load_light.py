# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's filter and test plugins load without the Graph or SmartTrace client.

Ansible loads every filter file of a collection the first time a template uses one of them, in each worker process,
that is once per task and host, and compiles the module_utils they import from source each time (its collection loader
keeps no bytecode). The role's "Warn about smarttrace_sso_ variables" task uses a filter on every host: when the filter
``upn_problem`` imported the users module, which brings the Graph client, ``http.client`` and ``ssl``, that task cost
about 0.07 CPU seconds more per host (docs/performance.md, "Where a fleet instance's CPU goes"). Each file is imported in
a fresh interpreter, so what it brings along is what it alone needs.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PACKAGE = "ansible_collections.smarttrace.sso.plugins"
# What a filter or test must not bring along: the clients and what they import.
HEAVY = ("._graph.", "._smarttrace.", "._common.http", "._entra.users", "._entra.directory_bulk")
HEAVY_LIBRARIES = ("http.client", "ssl", "msal", "requests", "difflib")
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def plugins():
    for kind in ("filter", "test"):
        for name in sorted(os.listdir(os.path.join(ROOT, "plugins", kind))):
            if name.endswith(".py") and name != "__init__.py":
                yield "%s.%s.%s" % (PACKAGE, kind, name[:-3])


@pytest.mark.parametrize("plugin", list(plugins()))
def test_a_filter_or_test_plugin_loads_without_a_client(plugin):
    done = subprocess.run([sys.executable, "-c", PROBE, plugin], capture_output=True, text=True, check=True, env=dict(os.environ))
    loaded = json.loads(done.stdout)
    ours = [name for name in loaded if name.startswith(PACKAGE + ".module_utils.") and any(part in name + "." for part in HEAVY)]
    libraries = [name for name in HEAVY_LIBRARIES if name in loaded]
    assert (ours, libraries) == ([], []), plugin

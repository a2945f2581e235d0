# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugins of the modules (plugins/plugin_utils/module_in_worker.py): a module that would run on the controller,
as this user, in this Python, runs in the worker process (the same arguments in, the same result out, the task's
environment applied and put back); anything else runs the usual way. The role's integration target compares both ways
end to end (tests/integration/targets/role_entra_sso/tasks/converge.yml)."""

import importlib
import json
import os
import sys
import types

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules")) if name.endswith(".py") and name != "__init__.py")


@pytest.fixture
def in_worker(undo_controller_mark):  # pylint: disable=unused-argument
    """Imported inside each test: the plugin imports Ansible's action plugins (controller code)."""
    return importlib.import_module("ansible_collections.smarttrace.sso.plugins.plugin_utils.module_in_worker")


def result_of(response):
    assert response["stdout"].strip(), response
    return json.loads(response["stdout"])


def test_a_module_gets_its_arguments_and_its_result_is_what_it_printed(in_worker):
    arguments = in_worker.encoded_arguments({"instance": "acme", "bogus": 1, "_ansible_module_name": "smarttrace.sso.smarttrace_integration_info"})
    response = in_worker.run_main("smarttrace_integration_info", arguments, {})
    result = result_of(response)
    assert response["rc"] == 1 and result["failed"]
    assert result["msg"].startswith("Unsupported parameters for (smarttrace.sso.smarttrace_integration_info) module: bogus.")
    assert result["invocation"]["module_args"]["instance"] == "acme"


def fake_module(monkeypatch, in_worker, main):
    """A module named "fake" of the collection whose main() is the one given."""
    module = types.ModuleType("fake")
    module.main = main
    monkeypatch.setitem(sys.modules, in_worker.MODULES_PACKAGE + ".fake", module)


def test_the_task_environment_applies_while_the_module_runs_and_is_put_back(in_worker, monkeypatch):
    seen = {}

    def main():
        seen.update(there=os.environ.get("SMARTTRACE_TEST_VARIABLE"), home=os.environ.get("HOME"))
        print(json.dumps({"changed": False}))
        sys.exit(0)

    fake_module(monkeypatch, in_worker, main)
    monkeypatch.delenv("SMARTTRACE_TEST_VARIABLE", raising=False)
    home = os.environ.get("HOME")
    response = in_worker.run_main("fake", b"{}", {"SMARTTRACE_TEST_VARIABLE": "set", "HOME": "/elsewhere"})
    assert response["rc"] == 0 and result_of(response) == {"changed": False}
    assert seen == {"there": "set", "home": "/elsewhere"}
    assert "SMARTTRACE_TEST_VARIABLE" not in os.environ and os.environ.get("HOME") == home


def test_an_unhandled_exception_is_a_failed_result_naming_it(in_worker, monkeypatch):
    def main():
        raise ValueError("a bug")

    fake_module(monkeypatch, in_worker, main)
    response = in_worker.run_main("fake", b"{}", {})
    result = result_of(response)
    assert response["rc"] == 1 and result["failed"] and result["msg"] == "MODULE FAILURE: ValueError: a bug"
    assert "Traceback" in result["exception"]


def test_a_module_that_returns_without_its_result_fails(in_worker, monkeypatch):
    fake_module(monkeypatch, in_worker, lambda: None)
    result = result_of(in_worker.run_main("fake", b"{}", {}))
    assert result["failed"] and "did not exit with its result" in result["msg"]


def test_a_timeout_goes_on_to_ansible_with_everything_put_back(in_worker, monkeypatch):
    class Timeout(BaseException):
        pass

    def main():
        raise Timeout()

    fake_module(monkeypatch, in_worker, main)
    monkeypatch.delenv("SMARTTRACE_TEST_VARIABLE", raising=False)
    with pytest.raises(Timeout):
        in_worker.run_main("fake", b"{}", {"SMARTTRACE_TEST_VARIABLE": "set"})
    assert "SMARTTRACE_TEST_VARIABLE" not in os.environ
    assert in_worker.basic._ANSIBLE_ARGS is None  # pylint: disable=protected-access


def test_while_the_module_runs_the_process_is_not_marked_as_the_controller(in_worker, monkeypatch):
    internal = in_worker.module_utils_internal
    if internal is None:
        pytest.skip("ansible-core before 2.19 has no controller mark")
    seen = []

    def main():
        seen.append(internal.is_controller)
        sys.exit(0)

    fake_module(monkeypatch, in_worker, main)
    monkeypatch.setattr(internal, "is_controller", True)
    in_worker.run_main("fake", b"{}", {})
    assert seen == [False] and internal.is_controller is True


def action(in_worker, connection="local", become=False, delegate_to=None, async_val=0, interpreter=sys.executable):
    plugin = in_worker.ModuleInWorker.__new__(in_worker.ModuleInWorker)
    plugin._task = types.SimpleNamespace(delegate_to=delegate_to, async_val=async_val)  # pylint: disable=protected-access
    plugin._connection = types.SimpleNamespace(transport=connection)  # pylint: disable=protected-access
    plugin._play_context = types.SimpleNamespace(become=become)  # pylint: disable=protected-access
    plugin._templar = types.SimpleNamespace(template=lambda value: value)  # pylint: disable=protected-access
    return plugin, ({} if interpreter is None else {"ansible_python_interpreter": interpreter})


@pytest.mark.parametrize("case,expected", [
    (dict(), True),
    (dict(connection="ssh"), False),
    (dict(become=True), False),
    (dict(delegate_to="localhost"), False),
    (dict(async_val=60), False),
    (dict(interpreter="/usr/bin/python3-elsewhere"), False),
    (dict(interpreter=None), False),
], ids=["local-same-python", "ssh", "become", "delegated", "async", "other-interpreter", "interpreter-unset"])
def test_only_a_module_that_would_run_here_as_this_user_in_this_python_runs_in_the_worker(in_worker, case, expected):
    plugin, task_vars = action(in_worker, **case)
    assert plugin.runs_on_the_controller(task_vars) is expected


def test_every_module_has_its_action_plugin(in_worker):
    actions = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "action")) if name.endswith(".py") and name != "__init__.py")
    assert actions == MODULES
    for name in actions:
        plugin = importlib.import_module("ansible_collections.smarttrace.sso.plugins.action." + name)
        assert issubclass(plugin.ActionModule, in_worker.ModuleInWorker)

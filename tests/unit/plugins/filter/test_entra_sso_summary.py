# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter smarttrace.sso.entra_sso_summary: what it accepts, and errors that name keys, never values (the run's results)."""

import importlib

import pytest
import yaml

from ansible_collections.smarttrace.sso.plugins.module_utils._plan.summary import run_summary
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.test_plan_summary import fresh_run


@pytest.fixture(autouse=True)
def plugin(undo_controller_mark):  # pylint: disable=unused-argument
    """Imported inside each test: the filter imports controller code (ansible.errors), whose mark undo_controller_mark undoes."""
    global AnsibleFilterError, summary_plugin  # pylint: disable=global-statement
    AnsibleFilterError = importlib.import_module("ansible.errors").AnsibleFilterError
    summary_plugin = importlib.import_module("ansible_collections.smarttrace.sso.plugins.filter.entra_sso_summary")
    yield


AnsibleFilterError = summary_plugin = None


def test_the_filter_is_registered_and_returns_the_summary():
    assert summary_plugin.FilterModule().filters()["entra_sso_summary"](fresh_run()) == run_summary(fresh_run())


def test_missing_keys_are_named_without_any_value():
    run = fresh_run()
    del run["plan"], run["mint"]
    with pytest.raises(AnsibleFilterError) as caught:
        summary_plugin.entra_sso_summary(run)
    assert str(caught.value) == "entra_sso_summary: the input lacks mint, plan"


def test_the_input_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="must be a dict, not list"):
        summary_plugin.entra_sso_summary([])


def test_the_documentation_parses():
    assert yaml.safe_load(summary_plugin.DOCUMENTATION)["name"] == "entra_sso_summary"
    assert yaml.safe_load(summary_plugin.EXAMPLES)

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter smarttrace.sso.unknown_variables: misspelt role variables named with the closest known name."""

import pytest
import yaml

from ansible_collections.smarttrace.sso.plugins.filter import unknown_variables as plugin

KNOWN = ["smarttrace_sso_instance", "smarttrace_sso_state", "smarttrace_sso_assign_users", "smarttrace_sso_assign_groups",
         "smarttrace_sso_assign_exclusive", "smarttrace_sso_app_role", "smarttrace_sso_app_roles", "smarttrace_sso_handover_dir",
         "smarttrace_sso_rotate_secret", "smarttrace_sso_summary", "smarttrace_sso_hosts"]


pytestmark = pytest.mark.usefixtures("undo_controller_mark")


@pytest.mark.parametrize("name, expected", [
    ("smarttrace_sso_assign_group", "smarttrace_sso_assign_groups"),
    ("smarttrace_sso_assign_user", "smarttrace_sso_assign_users"),
    ("smarttrace_sso_instnace", "smarttrace_sso_instance"),
    ("smarttrace_sso_handover_directory", "smarttrace_sso_handover_dir"),
    ("smarttrace_sso_rotate_secrets", "smarttrace_sso_rotate_secret"),
    ("smarttrace_sso_approle", "smarttrace_sso_app_role"),
    ("smarttrace_sso_host", "smarttrace_sso_hosts"),
    # the shared prefix does not make an unrelated name close
    ("smarttrace_sso_foo", None),
    ("smarttrace_sso_x", None),
    ("smarttrace_sso_tenant_region", None),
])
def test_closest_known_name(name, expected):
    assert plugin.closest(name, KNOWN) == expected


def test_messages_for_unknown_names_only_sorted_and_once():
    names = KNOWN + ["smarttrace_sso_assign_group", "smarttrace_sso_foo", "smarttrace_sso_assign_group"]
    assert plugin.unknown_messages(names, KNOWN) == [
        "smarttrace_sso_assign_group is not a variable of smarttrace.sso.entra_sso; did you mean smarttrace_sso_assign_groups?",
        "smarttrace_sso_foo is not a variable of smarttrace.sso.entra_sso and is ignored"]
    assert plugin.unknown_messages(KNOWN, KNOWN) == []
    assert plugin.unknown_messages([], KNOWN) == []
    assert plugin.unknown_messages(["x_y"], [], owner="a role") == ["x_y is not a variable of a role and is ignored"]


def test_the_filter_warns_only_when_asked(monkeypatch):
    shown = []
    monkeypatch.setattr(plugin, "_warn", shown.append)
    unknown_variables = plugin.FilterModule().filters()["unknown_variables"]
    expected = ["smarttrace_sso_assign_group is not a variable of smarttrace.sso.entra_sso; did you mean smarttrace_sso_assign_groups?"]
    assert unknown_variables(["smarttrace_sso_assign_group", "smarttrace_sso_state"], KNOWN) == expected and shown == []
    assert unknown_variables(["smarttrace_sso_assign_group"], KNOWN, warn=True) == expected and shown == expected
    assert unknown_variables(["smarttrace_sso_state"], KNOWN, warn=True) == [] and shown == expected


@pytest.mark.parametrize("names, known", [("smarttrace_sso_state", KNOWN), (["smarttrace_sso_state"], "smarttrace_sso_state"), ([1], KNOWN),
                                          (None, KNOWN)])
def test_bad_input_is_named(names, known):
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="must be a list of variable names"):
        plugin.unknown_variables(names, known)


def test_the_documentation_describes_the_filter():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "unknown_variables" and sorted(doc["options"]) == ["_input", "known", "owner", "warn"]
    assert yaml.safe_load(plugin.RETURN)["_value"]["type"] == "list"
    assert yaml.safe_load(plugin.EXAMPLES)


def test_the_warning_is_an_ansible_warning(monkeypatch):
    from ansible.utils.display import Display
    shown = []
    monkeypatch.setattr(Display, "warning", lambda self, message, *args, **kwargs: shown.append(message))
    plugin.unknown_variables(["smarttrace_sso_foo"], KNOWN, warn=True)
    assert shown == ["smarttrace_sso_foo is not a variable of smarttrace.sso.entra_sso and is ignored"]

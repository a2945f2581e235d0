# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter smarttrace.sso.secret_lifetime_problem: the role's lifetime cap is entra_secret's rule, from the same code."""

import pytest

from ansible_collections.smarttrace.sso.plugins.filter import secret_lifetime_problem as plugin
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_expiry import RECOMMENDED_MAX_DAYS, lifetime_problem


pytestmark = pytest.mark.usefixtures("undo_controller_mark")


def test_the_cap_is_24_months_and_the_message_names_the_role_variables():
    problem = plugin.FilterModule().filters()["secret_lifetime_problem"]
    assert RECOMMENDED_MAX_DAYS == 730
    assert problem(730) == "" and problem("180") == ""
    text = problem(3000, False, "smarttrace_sso_secret_expires_in_days", "smarttrace_sso_secret_allow_long_lifetime")
    assert text == lifetime_problem(3000, False, "smarttrace_sso_secret_expires_in_days", "smarttrace_sso_secret_allow_long_lifetime")
    assert text.startswith("smarttrace_sso_secret_expires_in_days gives the secret 3000 days, more than the 730 days (24 months)")
    assert text.endswith("or set smarttrace_sso_secret_allow_long_lifetime to true to allow it.")
    assert problem(3000, True) == ""


def test_a_lifetime_that_is_no_number_is_named():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="smarttrace_sso_secret_expires_in_days must be a whole number of days, not 'long'"):
        plugin.secret_lifetime_problem("long", False, "smarttrace_sso_secret_expires_in_days")

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter smarttrace.sso.upn_problem: the role's user principal name rule is entra_user's, from the same code."""

import pytest

from ansible_collections.smarttrace.sso.plugins.filter.upn_problem import FilterModule, upn_problem
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.user_rules import upn_problem as module_rule


@pytest.mark.parametrize("upn", ["B.Simon@contoso.example", "$user#000001@contoso.example", "a`b@contoso.example"])
def test_usable_names_give_an_empty_string(upn):
    assert upn_problem(upn) == ""


@pytest.mark.parametrize("upn", ["b simon@contoso.example", "b%simon@contoso.example", "b..simon@contoso.example", "bsimon", "a@b"])
def test_unusable_names_give_the_modules_reason(upn):
    assert upn_problem(upn) == module_rule(upn) and upn_problem(upn)


def test_a_non_string_is_refused_in_words():
    assert "must be a string" in upn_problem(42)


def test_the_filter_is_registered():
    assert FilterModule().filters()["upn_problem"] is upn_problem

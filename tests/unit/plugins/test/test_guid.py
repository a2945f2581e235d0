# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test smarttrace.sso.guid: the role's GUID rule is the modules' (_identifiers), from the same code."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.identifiers import KNOWN_AFTER_RUN
from ansible_collections.smarttrace.sso.plugins.test.guid import TestModule as GuidTests, guid


@pytest.mark.parametrize("value", ["0b9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b", "0B9E8F2A-1C3D-4E5F-8A7B-6C5D4E3F2A1B"])
def test_guids_pass(value):
    assert guid(value) is True


@pytest.mark.parametrize("value", ["", KNOWN_AFTER_RUN, "0b9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1", "0b9e8f2a-1c3d-4e5f-8a7b-6c5d4e3f2a1b\n", None, 42])
def test_anything_else_fails(value):
    assert guid(value) is False


def test_the_test_is_registered():
    assert GuidTests().tests()["guid"] is guid

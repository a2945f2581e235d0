# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the tests of controller plugins (filters, lookups) that run beside the module tests."""

import pytest
from ansible.module_utils import _internal


@pytest.fixture
def undo_controller_mark():
    """Importing controller code (ansible.errors, ansible.utils.display, ansible.parsing.vault) marks the process as the
    controller, which would make the in-process modules of later unit tests report warnings as the controller does: the
    mark is put back as it was after the test."""
    before = getattr(_internal, "is_controller", None)
    yield
    if before is not None:
        _internal.is_controller = before

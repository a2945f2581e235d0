# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The folders of plugins/module_utils are layers (docs/architecture.md, "Layout"): a file imports only from its own
folder and the folders listed before it, and no file grows past 400 lines."""

import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
# Each layer and the layers it may import from.
ALLOWED = {
    "_common": set(),
    "_graph": {"_common"},
    "_entra": {"_common", "_graph"},
    "_smarttrace": {"_common"},
    "_audit": {"_common", "_graph", "_entra", "_smarttrace"},
    "_plan": {"_common", "_graph", "_entra", "_smarttrace"},
}
IMPORT_RE = re.compile(r"smarttrace\.sso\.plugins\.module_utils\.(_[a-z]+)\b")


def sources():
    for layer in sorted(os.listdir(MODULE_UTILS)):
        folder = os.path.join(MODULE_UTILS, layer)
        if os.path.isdir(folder) and not layer.startswith("__"):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    yield layer, os.path.join(folder, name)


def test_every_folder_is_a_known_layer_and_no_file_lies_outside_one():
    loose = [name for name in os.listdir(MODULE_UTILS) if name.endswith(".py") and name != "__init__.py"]
    layers = sorted(layer for layer, _path in sources())
    assert loose == [] and set(layers) == set(ALLOWED)


@pytest.mark.parametrize("layer,path", list(sources()), ids=lambda value: os.path.relpath(value, MODULE_UTILS) if "/" in str(value) else value)
def test_a_file_imports_only_from_the_layers_before_its_own(layer, path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    used = set(IMPORT_RE.findall(text)) - {layer}
    assert used <= ALLOWED[layer], "%s imports from %s" % (os.path.relpath(path, ROOT), ", ".join(sorted(used - ALLOWED[layer])))


@pytest.mark.parametrize("layer,path", list(sources()), ids=lambda value: os.path.relpath(value, MODULE_UTILS) if "/" in str(value) else value)
def test_no_file_is_over_400_lines(layer, path):
    with open(path, encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) <= 400, os.path.relpath(path, ROOT)

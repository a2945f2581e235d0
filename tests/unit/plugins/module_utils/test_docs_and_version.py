# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The entra doc fragment matches the shared argument spec; the User-Agent version matches galaxy.yml."""

import os

import pytest
import yaml

from ansible_collections.smarttrace.sso.plugins.doc_fragments.attributes import ModuleDocFragment as Attributes
from ansible_collections.smarttrace.sso.plugins.doc_fragments.entra import ModuleDocFragment as Entra
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import entra_argument_spec
from ansible_collections.smarttrace.sso.plugins.module_utils._common.version import COLLECTION_VERSION

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def test_entra_fragment_documents_exactly_the_shared_options():
    documented = yaml.safe_load(Entra.DOCUMENTATION)["options"]
    spec = entra_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert sorted(doc.get("choices") or []) == sorted(option.get("choices") or []), name
        for variable in (option.get("fallback") or (None, []))[1]:
            assert variable in " ".join(doc["description"]), (name, variable)


def test_attribute_fragments_parse():
    for fragment in (Attributes.DOCUMENTATION, Attributes.INFO_MODULE, Attributes.ACTIONGROUP_ENTRA, Attributes.ACTIONGROUP_SMARTTRACE):
        assert yaml.safe_load(fragment)["attributes"]
    assert yaml.safe_load(Attributes.ACTIONGROUP_ENTRA)["attributes"]["action_group"]["membership"] == ["smarttrace.sso.entra"]


def test_user_agent_version_matches_galaxy_yml():
    path = os.path.join(COLLECTION_ROOT, "galaxy.yml")
    if not os.path.exists(path):
        pytest.skip("no galaxy.yml in this tree")
    with open(path, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["version"] == COLLECTION_VERSION

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lookup smarttrace.sso.vault_secret: the play's vault secret (first or by label), nothing (and a warning) without one."""

import importlib

import pytest


@pytest.fixture(autouse=True)
def controller(undo_controller_mark):  # pylint: disable=unused-argument
    """The lookup is controller code: importing it (ansible.errors, ansible.parsing.vault) marks the process as the controller,
    which would make the in-process modules of later unit tests report warnings as the controller does. Imported here, and
    the mark undone afterwards (undo_controller_mark)."""
    global AnsibleLookupError, VaultLib, VaultSecret, plugin  # pylint: disable=global-statement
    AnsibleLookupError = importlib.import_module("ansible.errors").AnsibleLookupError
    vault = importlib.import_module("ansible.parsing.vault")
    VaultLib, VaultSecret = vault.VaultLib, vault.VaultSecret
    plugin = importlib.import_module("ansible_collections.smarttrace.sso.plugins.lookup.vault_secret")
    yield


AnsibleLookupError = VaultLib = VaultSecret = plugin = None


class Loader:
    def __init__(self, secrets):
        self._vault = VaultLib(secrets)


def lookup(secrets, **options):
    """Run the lookup with ``options`` (as the plugin loader would set them from its documentation)."""
    module = plugin.LookupModule(loader=Loader(secrets))
    module._options = {"vault_id": "", "missing_warning": ""}
    module.set_options = lambda var_options=None, direct=None: module._options.update(direct or {})
    return module.run([], variables={}, **options)


def test_the_first_secret_by_default_and_a_label_on_request():
    secrets = [("dev", VaultSecret(b"pw-dev")), ("prod", VaultSecret(b"pw-prod"))]
    assert lookup(secrets) == [{"vault_id": "dev", "secret": "pw-dev"}]
    assert lookup(secrets, vault_id="prod") == [{"vault_id": "prod", "secret": "pw-prod"}]


def test_an_unlabelled_secret_is_default_and_an_empty_one_does_not_count():
    assert lookup([(None, VaultSecret(b"")), (None, VaultSecret(b"pw"))]) == [{"vault_id": "default", "secret": "pw"}]


def test_no_secret_returns_nothing_and_warns_when_asked(monkeypatch):
    warnings = []
    monkeypatch.setattr("ansible.utils.display.Display.warning", lambda self, message, *args, **kwargs: warnings.append(message))
    assert lookup([]) == [] and warnings == []
    assert lookup([], missing_warning="not encrypted") == [] and warnings == ["not encrypted"]


@pytest.mark.parametrize("labels, has", [(["dev"], "it has dev"), ([], "it has none")])
def test_a_label_the_play_has_not_is_an_error_naming_what_it_has(labels, has):
    secrets = [(label, VaultSecret(b"pw")) for label in labels]
    with pytest.raises(AnsibleLookupError) as error:
        lookup(secrets, vault_id="prod")
    assert "vault_id 'prod'" in str(error.value) and has in str(error.value) and "--vault-id prod@" in str(error.value)


def test_what_it_returns_encrypts_so_that_the_same_secret_opens_it():
    do_vault = importlib.import_module("ansible.plugins.filter.encryption").do_vault
    found = lookup([("prod", VaultSecret(b"pw-prod"))])[0]
    vaulted = do_vault("APPLICATION (CLIENT) SECRET: x", found["secret"], vault_id=found["vault_id"])
    assert vaulted.startswith("$ANSIBLE_VAULT;1.2;AES256;prod")
    assert VaultLib([("other", VaultSecret(b"pw-prod"))]).decrypt(vaulted) == b"APPLICATION (CLIENT) SECRET: x"

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: vault_secret
short_description: The Ansible Vault secret the play was given, to encrypt with
version_added: 0.1.0
description:
  - Returns the vault secret this play can decrypt with (given by C(--vault-password-file), C(--vault-id), C(--ask-vault-pass),
    E(ANSIBLE_VAULT_PASSWORD_FILE), E(ANSIBLE_VAULT_IDENTITY_LIST) or C(ansible.cfg)), so that a role can encrypt a file with
    the P(ansible.builtin.vault#filter) filter that C(ansible-vault view) then opens with the same configuration.
  - The role C(smarttrace.sso.entra_sso) writes its hand-over file (which holds a client secret) this way.
  - Returns nothing when the play has no vault secret, after showing O(missing_warning) as a warning when it is set.
  - The secret is returned to the template that asked for it; use it only in a task with C(no_log) and never store it in a fact.
options:
  vault_id:
    description:
      - The label of the vault secret to return (the part before C(@) of C(--vault-id label@source)).
      - Empty returns the first secret the play was given.
      - A label the play has no secret for is an error that lists the labels it has (also when it has none).
    type: str
    default: ""
  missing_warning:
    description: A warning to show when the play has no vault secret (empty shows none).
    type: str
    default: ""
notes:
  - With several vault secrets, the first is the one given first on the command line (C(--vault-id) in order), as for C(ansible-vault encrypt).
seealso:
  - plugin: ansible.builtin.vault
    plugin_type: filter
author:
  - smarttrace.sso contributors (@smarttrace)
"""

EXAMPLES = r"""
- name: Write a file only the vault password opens (plain text when the play has none, with a warning)
  vars:
    vault: "{{ query('smarttrace.sso.vault_secret', missing_warning='The file is not encrypted: give a vault password file') | first | default({}) }}"
  ansible.builtin.copy:
    dest: /home/me/handover.txt
    mode: "0600"
    content: "{{ (secret_text | ansible.builtin.vault(vault.secret, vault_id=vault.vault_id)) if vault else secret_text }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary when the play has a vault secret, none when it has not.
  type: list
  elements: dict
  contains:
    vault_id:
      description: The secret's label (C(default) for a password file given without a label).
      type: str
    secret:
      description: The vault password.
      type: str
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase


def play_secrets(loader):
    """The play's vault secrets as ``[(label, VaultSecret)]``, in the order they were given.

    ansible-core 2.19 keeps them in ``VaultSecretsContext``; earlier versions only on the loader's ``VaultLib``.
    """
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:  # ansible-core < 2.19
        VaultSecretsContext = None
    context = VaultSecretsContext.current(optional=True) if VaultSecretsContext is not None else None
    if context is not None and context.secrets:
        return list(context.secrets)
    vault = getattr(loader, "_vault", None)
    return list(getattr(vault, "secrets", None) or [])


def usable(secrets):
    """Secrets that have a password (a prompt that was never answered has none)."""
    found = []
    for label, secret in secrets:
        try:
            password = secret.bytes
        except Exception:  # noqa: BLE001 - a secret that cannot be read cannot encrypt
            password = None
        if password:
            found.append((to_text(label or "default"), to_text(password, errors="surrogate_or_strict")))
    return found


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        wanted = self.get_option("vault_id")
        secrets = usable(play_secrets(self._loader))
        if wanted:
            matching = [item for item in secrets if item[0] == wanted]
            if not matching:
                labels = sorted(set(label for label, _secret in secrets))
                raise AnsibleLookupError("vault_id %r: the play has no vault secret with that label (%s); give --vault-id %s@<password file>, "
                                         "or leave vault_id empty" % (wanted, "it has %s" % ", ".join(labels) if labels else "it has none", wanted))
            secrets = matching
        if not secrets:
            if self.get_option("missing_warning"):
                from ansible.utils.display import Display  # controller code, imported where it is used
                Display().warning(self.get_option("missing_warning"))
            return []
        label, secret = secrets[0]
        return [{"vault_id": label, "secret": secret}]

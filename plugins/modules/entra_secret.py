#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_secret
short_description: Client secrets of a Microsoft Entra ID app registration, rotated without breaking sign-in
version_added: 0.1.0
description:
  - Adds, rotates and retires the client secrets (C(passwordCredentials)) of an app registration through Microsoft Graph.
  - A secret is found by its description (O(display_name)). Its value is shown by Microsoft Graph once, when it is created;
    this module returns it then in RV(secret) and never again.
  - O(state=present) adds a secret when no secret with this O(display_name) has more than O(rotate_before_days) days left,
    and changes nothing otherwise. It never removes the old secret in the same step, so sign-in keeps working until the
    new value has reached its consumer.
  - O(state=absent) retires secrets of this O(display_name) only; nothing else on the app registration is touched.
    With O(keep_key_id), it removes every other secret of this O(display_name) (the rotation's last step); with O(key_id),
    that one secret; with neither, all of them.
  - After adding a secret, the module waits (at most O(wait_timeout) seconds) until Microsoft Graph shows the new secret
    in three consecutive reads, so that a quick re-run does not add a second secret while Graph is still replicating. With
    O(verify=true) one read is enough - Entra ID's token endpoint has accepted the secret before the module returns it.
  - A warning is given when the secret in use, or an older secret of the same O(display_name), expires within
    O(rotate_before_days) days. The secret in use is taken to be the valid one that ends last.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  app_id:
    description:
      - The Application (client) ID of the app registration.
      - At least one of O(app_id) and O(app_object_id) is required. Both may be given, as the role smarttrace.sso.entra_sso does, and
        must then name the same app registration. The module says so when its read of the app finds otherwise, and with
        O(verify=true) Entra ID's token endpoint proves the pair for a new secret (a mismatch fails verification, and the new
        secret is removed again).
      - With O(current_secrets) and no O(app_object_id), the module reads the app's Object ID first (one request),
        because C(addPassword) and C(removePassword) are only defined on the Object ID's path.
      - In check mode also V((known after the real run\)), what M(smarttrace.sso.entra_app) returns for an app it would create; the
        module then reads nothing and predicts what the real run does (a new secret with O(state=present), nothing to remove with
        O(state=absent)). Outside check mode that placeholder is an error naming this option.
    type: str
  app_object_id:
    description:
      - The Object ID of the app registration (not the Object ID of its enterprise application).
      - In check mode also V((known after the real run\)), as for O(app_id).
      - With O(verify=true) the new secret's proof needs O(app_id) as well (the app's client ID); without it the module reads it.
    type: str
  current_secrets:
    description:
      - With O(state=present), the app registration's client secrets as read moments before in the same play (the C(secrets) of
        M(smarttrace.sso.entra_app_info), or this module's RV(credentials)), so the module does not read the app again.
      - Each entry needs C(key_id) and C(display_name); C(start_date), C(end_date) and C(hint) are used when given.
      - The decision to add, the in-flight check of O(in_flight_timeout) and the diff's before state are taken from this list. A secret
        another run added since is still seen - the module reads the app once after adding its own, and takes its turn
        (O(in_flight_timeout)) on that read.
      - Give an empty list only for an app registration created in this run.
    type: list
    elements: dict
  display_name:
    description:
      - The description of the secret (its C(displayName) in Microsoft Graph), such as V(smarttrace). It names the consumer of the secret.
      - Secrets with other descriptions are never changed.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure a secret with more than O(rotate_before_days) days left exists, adding one when needed.
      - V(absent) removes secrets of this O(display_name), see O(key_id) and O(keep_key_id).
    type: str
    choices: [present, absent]
    default: present
  expires_in_days:
    description:
      - Lifetime of a new secret in days, from now. Defaults to V(180) when O(end_date) is not given.
      - At most V(730) (24 months) unless O(allow_long_lifetime) is set.
      - Must be more than O(rotate_before_days). Only with O(state=present).
      - A tenant can limit the lifetime of secrets with an app management policy; a longer lifetime fails with a message saying so.
    type: int
  end_date:
    description:
      - End of a new secret's validity instead of O(expires_in_days) - a date V(2027-01-31) (midnight UTC)
        or a date-time with a time zone V(2027-01-31T12:00:00Z).
      - Must be in the future, more than O(rotate_before_days) days away. Only with O(state=present).
    type: str
  rotate_before_days:
    description:
      - With O(state=present), a new secret is added once the newest secret of this O(display_name) has this many days left or fewer.
      - Secrets (in use, or older ones not yet retired) that expire within this many days cause a warning.
    type: int
    default: 30
  allow_long_lifetime:
    description:
      - Allow a new secret to live more than 730 days (24 months, the longest the Entra admin center offers and
        Microsoft recommends) through O(expires_in_days) or O(end_date). Without it, such a lifetime is refused before
        any request, naming the option.
      - A tenant's app management policy may allow less; Microsoft Graph then refuses the secret, whatever this says.
    type: bool
    default: false
  force:
    description:
      - With O(state=present), add a new secret even when one with enough days left exists, for example when its value was lost.
      - The task then always reports a change. The existing secrets are kept; retire them with O(state=absent) and O(keep_key_id).
    type: bool
    default: false
  key_id:
    description:
      - With O(state=absent), remove only the secret with this key ID (the portal's Secret ID), if it still exists.
      - It must be a secret with this O(display_name). Mutually exclusive with O(keep_key_id).
    type: str
  keep_key_id:
    description:
      - With O(state=absent), keep the secret with this key ID and remove every other secret of this O(display_name).
      - Use it once the new secret (the RV(key_id) returned when it was added) is in use by its consumer.
      - The module fails, removing nothing, when this secret does not exist or has expired.
      - In check mode also V((known after the real run\)), the RV(key_id) that O(state=present) returns for a secret it would add;
        the module then predicts what the real run retires, every other secret of this O(display_name) (the new one is the newest,
        so O(in_flight_timeout) spares none). Outside check mode that placeholder is an error naming this option.
    type: str
  in_flight_timeout:
    description:
      - For runs that overlap, such as a scheduled rotation and a manual run for the same consumer (two AWX jobs).
        V(0) (the default) turns this off.
      - A secret of this O(display_name) that is newer than O(held_key_id) and was added less than this many seconds ago is
        taken to be on its way to the consumer in another run (in flight).
      - With O(state=present), no secret is added while one is in flight, and when two runs add one at the same moment, the one
        added second is removed again at once, and the task fails saying that another run is configuring this instance, and which
        secret it is handing over. Microsoft Graph applies the writes to one app one after another, so the runs agree on which
        came first.
      - With O(state=absent) and O(keep_key_id), secrets in flight that are newer than O(keep_key_id) are kept (with a warning).
      - After this many seconds a secret in flight is taken to be abandoned by a run that died; it no longer blocks, and retiring
        removes it. Choose it longer than a run takes, at most V(86400).
    type: int
    default: 0
  held_key_id:
    description:
      - With O(in_flight_timeout) and O(state=present), the key ID of the secret of this O(display_name) that its consumer
        holds now; an empty string when it holds none (then every recent secret of this O(display_name) counts as in flight).
    type: str
  wait_timeout:
    description:
      - How many seconds to wait for Microsoft Graph to replicate, at most - for an app registration created moments before
        to become visible, and for a new secret to show up in reads.
      - V(0) does not wait; a run soon after may then not see the new secret and add another one.
    type: int
    default: 120
  verify:
    description:
      - With O(state=present), prove a secret added in this run at Entra ID's token endpoint before returning it - a client-credentials
        token request for the app registration with the new value, so its consumer gets a value Entra ID itself has accepted.
        The token obtained is discarded.
      - Entra ID refuses a new secret (AADSTS7000215) until it has replicated; the request is repeated within O(verify_timeout).
      - When the secret is still refused after O(verify_timeout), or refused for another reason, it is removed again and the task
        fails naming the AADSTS code; the other secrets are not touched.
      - Nothing is verified when no secret is added, nor in check mode.
      - The token request goes to the sign-in endpoint and tenant of the automation identity (O(tenant_id), O(authority_url), O(cloud)),
        where the app registration lives.
    type: bool
    default: false
  verify_timeout:
    description:
      - With O(verify=true), how many seconds a new secret may take to work at the token endpoint, from 0 to 3600.
    type: int
    default: 120
notes:
  - Register the result and pass RV(secret) to its consumer in the same play; it cannot be read again.
    Ansible prints task results at C(-v) and more, so use C(no_log) on the task when the output is kept.
  - The module never puts the value in C(diff), warnings, messages or files.
  - Check mode reports whether a secret would be added or removed; the key ID and value of a secret it would add are
    V((known after the real run\)).
  - The automation identity needs C(Application.ReadWrite.OwnedBy) when it owns the app registration, else C(Application.ReadWrite.All).
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
seealso:
  - module: smarttrace.sso.entra_app
"""

EXAMPLES = r"""
- name: Make sure SmartTrace has a client secret valid for more than 30 days
  smarttrace.sso.entra_secret:
    app_id: "{{ sso_app.app_id }}"
    display_name: smarttrace
    expires_in_days: 180
  register: sso_secret
  no_log: true

- name: Add a secret and prove it at Entra ID's token endpoint before handing it over
  smarttrace.sso.entra_secret:
    app_id: "{{ sso_app.app_id }}"
    display_name: smarttrace
    verify: true
  register: sso_secret
  no_log: true

- name: Hand a new value to its consumer (only when one was added)
  ansible.builtin.copy:
    content: "{{ sso_secret.secret }}"
    dest: /etc/smarttrace/client_secret
    mode: "0600"
  when: sso_secret.secret is defined
  no_log: true

- name: Once the consumer uses the new secret, retire the older ones of the same description
  smarttrace.sso.entra_secret:
    app_id: "{{ sso_app.app_id }}"
    display_name: smarttrace
    state: absent
    keep_key_id: "{{ sso_secret.key_id }}"

- name: Remove one secret by its key ID
  smarttrace.sso.entra_secret:
    app_id: "{{ sso_app.app_id }}"
    display_name: smarttrace
    state: absent
    key_id: 2f1b3d1e-8c3c-4a51-9f55-3a8d1d2e4b6c

- name: The value was lost - add a new secret now
  smarttrace.sso.entra_secret:
    app_object_id: "{{ sso_app.object_id }}"  # the app registration's Object ID works as well as app_id
    display_name: smarttrace
    end_date: "2027-01-31"
    force: true
  register: sso_secret
  no_log: true
"""

RETURN = r"""
secret:
  description:
    - B(Sensitive.) The value of the secret that was just added - the only time Microsoft Graph shows it.
    - Not returned when no secret was added. Keep it out of logs (C(no_log)) and give it to its consumer.
    - V((known after the real run\)) in check mode when a secret would be added, so the task that hands it over can predict too.
  returned: when a secret was added (or would be added)
  type: str
  sample: "(the secret value)"
key_id:
  description:
    - Key ID (the portal's Secret ID) of the secret in use - the one just added, else the valid one of this O(display_name) that ends last.
    - V((known after the real run\)) in check mode for a secret that would be added.
  returned: when a secret with this display name exists (or would be added)
  type: str
  sample: 2f1b3d1e-8c3c-4a51-9f55-3a8d1d2e4b6c
hint:
  description: The first three characters of that secret's value, as Microsoft Graph and the portal show them.
  returned: when a secret with this display name exists (or would be added)
  type: str
  sample: Abc
start_date:
  description: Start of that secret's validity.
  returned: when a secret with this display name exists (or would be added)
  type: str
  sample: "2026-06-01T10:00:00Z"
end_date:
  description: End of that secret's validity.
  returned: when a secret with this display name exists (or would be added)
  type: str
  sample: "2026-11-28T10:00:00Z"
days_left:
  description: Whole days until RV(end_date) (negative once expired).
  returned: when a secret with this display name exists (or would be added)
  type: int
  sample: 180
credentials:
  description: Every secret with this display name after the run, oldest first (no values).
  returned: success
  type: list
  elements: dict
  contains:
    key_id:
      description: Key ID.
      type: str
    display_name:
      description: Description of the secret.
      type: str
    hint:
      description: First three characters of the value.
      type: str
    start_date:
      description: Start of validity.
      type: str
    end_date:
      description: End of validity.
      type: str
    days_left:
      description: Whole days until the end of validity.
      type: int
removed_key_ids:
  description: Key IDs of the secrets removed (or that would be removed in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [7c2b0e0e-1a8e-4f4e-9f0d-6b7a0d3c2e11]
verification:
  description:
    - How the secret added in this run was proven at Entra ID's token endpoint (O(verify=true)).
    - On failure (the task fails) it holds C(verified=false), the AADSTS code in C(aadsts) and the OAuth C(error), and
      RV(removed_key_ids) names the secret that was removed again.
  returned: when O(verify=true) and a secret was added
  type: dict
  contains:
    verified:
      description: Whether Entra ID issued a token for the new secret.
      type: bool
    attempts:
      description: Token requests sent.
      type: int
    waited_seconds:
      description: Seconds from the first to the last token request (the replication delay).
      type: float
  sample: {"verified": true, "attempts": 3, "waited_seconds": 4.0}
app_id:
  description: Application (client) ID of the app registration.
  returned: success
  type: str
  sample: 0f5b3c1d-2a4e-4b6f-8c7d-9e0f1a2b3c4d
app_object_id:
  description: Object ID of the app registration.
  returned: success
  type: str
  sample: 5d9c1a0e-3b2f-4c7d-8e6a-1f2b3c4d5e6f
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.concurrent_runs import ConcurrentRunError
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule
from ansible_collections.smarttrace.sso.plugins.module_utils._common.dates import utc_now
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_verify import SecretVerificationError, SecretVerifier
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secret_options import SecretOptionError, check_options, graph_credentials
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.secrets import AppSecrets, ensure_absent, ensure_present

ARGUMENT_SPEC = dict(
    app_id=dict(type="str"),
    app_object_id=dict(type="str"),
    display_name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    expires_in_days=dict(type="int"),
    end_date=dict(type="str"),
    rotate_before_days=dict(type="int", default=30),
    force=dict(type="bool", default=False),
    allow_long_lifetime=dict(type="bool", default=False),
    key_id=dict(type="str"),
    keep_key_id=dict(type="str"),
    wait_timeout=dict(type="int", default=120),
    in_flight_timeout=dict(type="int", default=0),
    held_key_id=dict(type="str"),
    verify=dict(type="bool", default=False),
    verify_timeout=dict(type="int", default=120),
    current_secrets=dict(type="list", elements="dict", no_log=False),  # key ids, names and dates: no value
)

# What is compared: the secrets of the application whose displayName equals display_name, by keyId and
# endDateTime (a value cannot be read back, so a secret is "there" when one of them ends more than
# rotate_before_days from now). Added with addPassword, removed with removePassword; nothing else is written.


def main():
    module = EntraModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("expires_in_days", "end_date"), ("key_id", "keep_key_id")],
        required_one_of=[("app_id", "app_object_id")],
    )
    params, now = module.params, utc_now()
    try:
        end = check_options(params, now, module.check_mode)
    except SecretOptionError as exc:
        module.fail_json(msg=str(exc))
    deadline = getattr(module, "deadline", None)  # the task's time budget, when the base class has one
    known = graph_credentials(params["current_secrets"]) if params["current_secrets"] is not None else None
    store = AppSecrets(module.graph, app_id=params["app_id"], object_id=params["app_object_id"], wait_timeout=params["wait_timeout"],
                       known=known, deadline=deadline)
    verifier = None
    if params["verify"] and params["state"] == "present" and not module.check_mode:
        provider = module.token_provider
        verifier = SecretVerifier(provider.session, provider.config.authority + "/oauth2/v2.0/token", provider.config.scope,
                                  timeout=params["verify_timeout"], deadline=deadline)
    try:
        if params["state"] == "present":
            outcome = ensure_present(store, params, now, module.check_mode, end, verifier=verifier)
        else:
            outcome = ensure_absent(store, params, now, module.check_mode)
    except (SecretOptionError, ConcurrentRunError) as exc:
        module.fail_json(msg=str(exc), app_id=store.app_id, app_object_id=store.object_id)
    except SecretVerificationError as exc:
        module.fail_json(msg=str(exc), app_id=store.app_id, app_object_id=store.object_id, **exc.result)
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc, msg=getattr(exc, "explanation", None))
    for warning in outcome["warnings"]:
        module.warn(warning)
    if outcome["error"] is not None:
        module.fail_from(outcome["error"], msg="removing the secrets of %s failed" % store.label, **outcome["result"])
    module.exit_with(outcome["changed"], before=outcome["before"], after=outcome["after"], **outcome["result"])


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: entra_app_credential
short_description: Certificates and federated identity credentials of a Microsoft Entra ID app registration, others kept
version_added: 0.1.0
description:
  - Registers certificates (the public part) and federated identity credentials (workload identity federation) as the
    credentials an app registration signs in with, as the portal's Certificates & secrets page does. For client secrets
    use M(smarttrace.sso.entra_secret).
  - A certificate is known by its SHA-1 thumbprint (or its display name); one the app lacks is added. Certificates the app has
    are kept, also those not named here.
  - A federated identity credential is known by its name; one the app lacks is added, one whose issuer, subject, audience or
    (when given) description differ is updated. Federated credentials not named here are kept.
  - Every option is checked before the first request; a file holding a private key is refused.
author:
  - smarttrace.sso contributors (@smarttrace)
options:
  app_id:
    description:
      - Application (client) ID of the app registration.
      - In check mode, V((known after the real run\)) (what M(smarttrace.sso.entra_app) returns for an app it would create) is
        accepted; every credential is then reported as to be added.
    type: str
    required: true
  certificates:
    description:
      - Certificates the app signs in with (C(auth_method=certificate)), public part only.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: A PEM file holding one certificate (C(-----BEGIN CERTIFICATE-----)) and no private key.
        type: path
      content:
        description: The PEM text of the certificate, instead of O(certificates[].path).
        type: str
      display_name:
        description:
          - Display name (description) of a certificate that is added; C({thumbprint}) in it stands for the certificate's SHA-1
            thumbprint (40 hex digits), so that the name tells certificates apart.
          - A certificate whose display name is this name counts as registered, also when Graph shows no thumbprint for it.
        default: certificate {thumbprint}
        type: str
  federated_credentials:
    description:
      - Federated identity credentials, so that tokens of an OIDC issuer (a CI system, a Kubernetes cluster) for one subject sign
        the app in, with no secret (C(auth_method=federated)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the credential, 3 to 120 characters, unique in the app. It cannot be changed later.
        type: str
        required: true
      issuer:
        description: The https URL of the issuer, exactly as the C(iss) claim of its tokens.
        type: str
        required: true
      subject:
        description: Exactly the C(sub) claim of the tokens, such as C(repo:contoso/sso:environment:prod).
        type: str
        required: true
      audience:
        description: The audience the tokens carry.
        type: str
        default: api://AzureADTokenExchange
      description:
        description: Description of the credential. Not given, it is not managed.
        type: str
  wait_timeout:
    description:
      - How many seconds to wait, at most, for an app registration created moments before to become visible.
    type: int
    default: 120
notes:
  - Needs C(Application.ReadWrite.OwnedBy) on an app the identity owns, else C(Application.ReadWrite.All).
  - Check mode reads only. The diff shows certificates by display name and the federated credentials that change; no key material.
extends_documentation_fragment:
  - smarttrace.sso.entra
  - smarttrace.sso.attributes
  - smarttrace.sso.attributes.actiongroup_entra
seealso:
  - module: smarttrace.sso.entra_secret
  - module: smarttrace.sso.entra_app_permissions
"""

EXAMPLES = r"""
- name: Let the automation sign in with its certificate and from a CI pipeline (other credentials are kept)
  smarttrace.sso.entra_app_credential:
    app_id: "{{ automation_app.app_id }}"
    certificates:
      - path: "{{ certificate_file }}"
        display_name: smarttrace.sso automation {thumbprint}
    federated_credentials:
      - name: ci-prod
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/sso:environment:prod
"""

RETURN = r"""
app_id:
  description: Application (client) ID of the app registration.
  returned: success
  type: str
  sample: 6d316b4a-7f6b-4793-b318-ad4c1db2b452
object_id:
  description: Object ID of the app registration. V((known after the real run\)) for a placeholder O(app_id).
  returned: success
  type: str
certificates:
  description: Every certificate of the app after the task (predicted in check mode), no key material.
  returned: success
  type: list
  elements: dict
  contains:
    display_name:
      description: Display name.
      type: str
    thumbprint:
      description: SHA-1 thumbprint as Graph shows it (C(customKeyIdentifier)).
      type: str
    end_date:
      description: End of validity (null for one added in this run).
      type: str
    key_id:
      description: Key ID (null for one added in this run).
      type: str
added_certificates:
  description: Thumbprints of the certificates added (or that would be, in check mode).
  returned: success
  type: list
  elements: str
added_federated_credentials:
  description: Names of the federated identity credentials added (or that would be).
  returned: success
  type: list
  elements: str
updated_federated_credentials:
  description: Names of the federated identity credentials updated (or that would be).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.app_credentials import (
    DEFAULT_AUDIENCE,
    DEFAULT_CERTIFICATE_NAME,
    AppCredentials,
    CredentialOptionError,
    check_app_id,
    ensure,
    wanted_certificates,
    wanted_federated,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._entra.module import EntraModule

ARGUMENT_SPEC = dict(
    app_id=dict(type="str", required=True),
    certificates=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="path"),
        content=dict(type="str"),
        display_name=dict(type="str", default=DEFAULT_CERTIFICATE_NAME),
    )),
    federated_credentials=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        issuer=dict(type="str", required=True),
        subject=dict(type="str", required=True),
        audience=dict(type="str", default=DEFAULT_AUDIENCE),
        description=dict(type="str"),
    )),
    wait_timeout=dict(type="int", default=120),
)


def read_text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def main():
    module = EntraModule(argument_spec=ARGUMENT_SPEC)
    params = module.params
    try:
        check_app_id(params["app_id"], module.check_mode)
        certificates = wanted_certificates(params, read_text)
        federated = wanted_federated(params)
    except CredentialOptionError as exc:
        module.fail_json(msg=str(exc))
    store = AppCredentials(module.graph, params["app_id"], wait_timeout=params["wait_timeout"])
    try:
        changed, before, after, result = ensure(store, certificates, federated, module.check_mode)
    except CredentialOptionError as exc:
        module.fail_json(msg=str(exc), app_id=params["app_id"])
    except Exception as exc:  # noqa: BLE001 - reported through fail_from, secret-free
        module.fail_from(exc)
    module.exit_with(changed, before=before, after=after, **result)


if __name__ == "__main__":
    main()

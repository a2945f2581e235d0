# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by every Entra module: how to reach Microsoft Graph and authenticate."""


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The directory (tenant) ID, a GUID, or a verified domain of the tenant such as V(contoso.onmicrosoft.com).
      - If not set, the environment variable E(AZURE_TENANT_ID) (or E(AZURE_TENANT)) is used.
      - Required for O(auth_method=client_secret), O(auth_method=certificate) and O(auth_method=federated).
    type: str
  client_id:
    description:
      - The application (client) ID of the automation identity.
      - For O(auth_method=managed_identity), the client ID of a user-assigned managed identity; leave it unset for the system-assigned one.
      - If not set, the environment variable E(AZURE_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - A client secret of the automation identity. Give the secret's B(Value), not its Secret ID.
      - If not set, the environment variable E(AZURE_CLIENT_SECRET) (or E(AZURE_SECRET)) is used.
    type: str
  client_certificate_path:
    description:
      - Path to a certificate of the automation identity with its private key, either PEM (key and certificate in one file) or PFX/PKCS#12.
      - The certificate (public part) must be uploaded to the app registration.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PATH) is used.
    type: path
  client_certificate_password:
    description:
      - Password of an encrypted private key or PFX file in O(client_certificate_path).
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PASSWORD) is used.
    type: str
  federated_token_file:
    description:
      - Path to a file holding an OIDC token (a JWT) that a CI system or Kubernetes issued for the job, for
        O(auth_method=federated) (workload identity federation). No secret of the automation identity is stored anywhere.
      - The app registration O(client_id) must have a federated identity credential whose issuer, subject and audience
        (V(api://AzureADTokenExchange) by default) match the token's C(iss), C(sub) and C(aud) claims.
      - The file is read again at every token request, so a token that the platform rotates is picked up.
      - If not set, the environment variable E(AZURE_FEDERATED_TOKEN_FILE) is used (the convention of azure-identity and of
        Azure Workload Identity for Kubernetes).
    type: path
  access_token:
    description:
      - A Microsoft Graph access token obtained elsewhere. It is used as is and never cached.
    type: str
  auth_method:
    description:
      - How to obtain the Microsoft Graph access token.
      - V(auto) picks, in this order, V(access_token), V(client_secret), V(certificate) or V(federated) when their options are given
        (for V(federated), O(federated_token_file) or E(AZURE_FEDERATED_TOKEN_FILE)); else V(managed_identity) when a managed identity
        endpoint is announced by the environment (E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT)); else V(azure_cli) when C(az) is on the E(PATH).
      - V(federated) exchanges the token in O(federated_token_file) for an access token (workload identity federation); it needs
        O(tenant_id) and O(client_id).
      - V(managed_identity) uses the identity of the Azure resource running Ansible (system-assigned, or user-assigned with O(client_id)).
      - V(azure_cli) runs C(az account get-access-token), as the user signed in with C(az login).
    type: str
    default: auto
    choices: [auto, client_secret, certificate, federated, managed_identity, access_token, azure_cli]
  cloud:
    description:
      - The Microsoft cloud of the tenant. It sets the sign-in host, the Microsoft Graph URL and the token scope.
      - V(public) is the global cloud, V(usgov) is US Government L4 (GCC High), V(usgov_dod) is US Government L5 (DoD),
        V(china) is the cloud operated by 21Vianet.
    type: str
    default: public
    choices: [china, public, usgov, usgov_dod]
  authority_url:
    description:
      - Root URL of the sign-in endpoint, such as V(https://login.microsoftonline.com); the tenant is appended.
      - Defaults to the sign-in host of O(cloud). Set it only for a proxy or a test stand-in of Entra ID.
      - If not set, the environment variable E(AZURE_AUTHORITY_HOST) is used (a host name or an URL).
    type: str
  graph_url:
    description:
      - Root URL of Microsoft Graph, such as V(https://graph.microsoft.com); V(/v1.0) is appended.
      - Defaults to the Graph URL of O(cloud). The token scope stays the one of O(cloud).
      - If not set, the environment variable E(ENTRA_GRAPH_URL) is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the sign-in endpoint and Microsoft Graph.
      - Setting it to V(false) is insecure and always produces a warning; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the sign-in endpoint and Microsoft Graph, instead of the system's.
      - If not set, the environment variable E(ENTRA_CA_PATH) is used, else E(REQUESTS_CA_BUNDLE).
    type: path
  timeout:
    description:
      - Timeout in seconds of each HTTP request, from 1 to 3600.
    type: int
    default: 30
  time_budget:
    description:
      - The most seconds the whole task may take, from 1 to 86400. Every retry (throttling, C(5xx), lost connections), every wait for
        Microsoft Graph to replicate and every token request of the task ends by it, no request is started after it, and a request
        started near its end is given only the time left (at least one second) as its timeout.
      - When it runs out, the task fails with a message that says so and names this option.
      - Options that bound one wait of a module (such as C(wait_timeout) and C(verify_timeout) of M(smarttrace.sso.entra_secret), or
        C(replication_timeout) of M(smarttrace.sso.entra_assignment)) still apply, but never beyond this budget.
      - The default, 15 minutes, is more than the longest default waits of any module added up with one throttled Microsoft Graph
        request (at most 300 seconds of retries), so it only stops a task that would otherwise wait longer.
    type: int
    default: 900
  token_cache:
    description:
      - Whether to keep access tokens in a cache file shared by the tasks of a playbook, so the token endpoint is asked
        once per identity and hour instead of once per task.
      - The cache is a C(0600) file per identity in a C(0700) folder, E(SMARTTRACE_SSO_TOKEN_CACHE_DIR) if set,
        else C(smarttrace.sso) under E(XDG_CACHE_HOME) or C(~/.cache). It holds access tokens only, never secrets.
      - A cache file that is corrupt, owned by another user or readable by others is ignored with a warning.
    type: bool
    default: true
requirements:
  - msal >= 1.29.0, with requests, which msal needs (to acquire tokens with O(auth_method=client_secret), O(auth_method=certificate),
    O(auth_method=federated) and O(auth_method=managed_identity); Microsoft Graph itself is reached with the Python standard library)
notes:
  - "Least privilege: give the automation identity only the Microsoft Graph application permissions the modules you use need:
     C(Application.ReadWrite.OwnedBy) for apps, service principals and secrets it created (C(Application.ReadWrite.All) only if it must
     manage apps it does not own), C(AppRoleAssignment.ReadWrite.All) with C(Application.Read.All) for assignments,
     C(User.ReadWrite.All) for users, C(Directory.Read.All) to resolve groups and domains."
  - A person doing the same needs the Entra roles Cloud Application Administrator and User Administrator, not Global Administrator.
  - Prefer a certificate or a managed identity to a client secret for the automation identity. Pass secrets through Ansible Vault or the environment.
  - Microsoft Graph is eventually consistent and throttles; the modules retry C(429), C(503) and C(504) answers honouring C(Retry-After),
    and retry reads of objects created a moment before, all within O(time_budget).
"""

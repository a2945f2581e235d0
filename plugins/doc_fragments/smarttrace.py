# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by every SmartTrace module: how to reach the SmartTrace API and authenticate."""


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Root URL of the SmartTrace API, an C(https://) URL.
      - If not set, the environment variable E(SMARTTRACE_API_URL) is used, else V(https://api.smarttrace.ai/v1).
    type: str
    default: https://api.smarttrace.ai/v1
  api_token:
    description:
      - An API token of a SmartTrace administrator.
      - If not set, the environment variable E(SMARTTRACE_API_TOKEN) is used.
      - Give either O(api_token) or O(username) and O(password).
      - An empty or whitespace-only value counts as not set (as an AWX credential field that is set but empty gives it), so
        O(username) and O(password) are used.
    type: str
  username:
    description:
      - E-mail address of a SmartTrace administrator, exchanged with O(password) for a session token at C(/auth/login)
        once per task.
      - If not set, the environment variable E(SMARTTRACE_USERNAME) is used.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the environment variable E(SMARTTRACE_PASSWORD) is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the SmartTrace API.
      - Setting it to V(false) is insecure and always produces a warning; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the SmartTrace API, instead of the system's.
      - If not set, the environment variable E(SMARTTRACE_CA_PATH) is used, else E(REQUESTS_CA_BUNDLE).
    type: path
  timeout:
    description:
      - Timeout in seconds of each HTTP request.
    type: int
    default: 30
  time_budget:
    description:
      - The most seconds the whole task may take, from 1 to 86400. Every retry (throttling, C(5xx), lost connections) and every wait
        of the task (such as the one of C(verify_timeout), where the module has it) ends by it.
      - When it runs out, the task fails with a message that says so and names this option.
      - The default, 15 minutes, is more than the longest default waits of any module added up with one throttled request
        (at most two minutes of retries), so it only stops a task that would otherwise wait longer.
    type: int
    default: 900
notes:
  - "Least privilege: the API token or user must be allowed to change Integrations > Azure Active Directory of the instance
     (a SmartTrace administrator); a read-only token is enough for M(smarttrace.sso.smarttrace_integration_info)."
  - Pass the API token and password through Ansible Vault or the environment.
  - SmartTrace answers C(429) and C(503) are retried honouring C(Retry-After), other C(5xx) answers and lost connections with backoff,
    for up to two minutes per request and within O(time_budget).
"""

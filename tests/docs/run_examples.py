"""Run every documented example against a running sandbox: a broken example fails ``make docs-examples`` (and make test).

The examples are taken as written (tests/docs/extract_examples.py). What a user would add around them is given here,
case by case, and nowhere else:

* ``vars``: the variables an example expects the user to define (vault values, tenant ids, lists), set to the sandbox's;
* ``setup``: tasks that stand for the user's earlier tasks whose results an example uses (``register: smarttrace_app``);
* ``replace``: literal text an example holds that cannot be true on the sandbox (a file under /etc) -> what the test
  uses instead; each one must still be found in the example, so the table cannot go stale;
* ``skip``: tasks that cannot run against the sandbox, each with the reason;
* ``runs``: ``check`` (check mode on a fresh tenant, must succeed), ``real`` (must succeed), ``rerun`` (must succeed and
  change nothing, except the tasks of ``changes_on_rerun``, each with the reason);
* ``final``: tasks that undo what the examples before them did (remove, turn off): left out of those runs, then the whole
  example runs once more at the end (must succeed; only these tasks may change).

Every case starts on a fresh tenant (the sandbox's /_sandbox/reset). Connection settings come from the environment,
as the README says: AZURE_*, ENTRA_GRAPH_URL, SMARTTRACE_API_URL/_TOKEN and the CA in ENTRA_CA_PATH and
SMARTTRACE_CA_PATH (never REQUESTS_CA_BUNDLE). README.md's shell blocks marked ``<!-- docs-test: ... -->`` run with
``bash -e`` in a fresh environment (empty HOME, no venv on PATH), as pasted.

docs/*.md (users' pages; docs/guide.md is the ``guide`` case): every yaml and shell block carries a
``<!-- docs-test: LABEL -->`` line and is ``docs:<file>:<LABEL>`` here: a case of ``cases`` (yaml), of ``shell_cases``
(shell blocks and files a command takes, run twice with bash -e) or an entry of ``DOCS_SKIPS`` with the reason it cannot
run against the sandbox. An unmarked block, a marked block that neither table
knows, and an entry whose block is gone each fail the run (before anything runs), so nothing is silently untested.
Besides ``vars``/``setup``/``runs``, a case may give ``env`` (variables a user exports, such as ENTRA_ADMIN_TOKEN),
``files`` (files the example reads, made in the work folder), ``must_change`` (tasks that must report a change in the
check run and the real run on a fresh tenant) and ``verify`` (what the tenant must hold after the real run).

Usage: python run_examples.py --endpoint ENDPOINT_JSON --collections PATH --work DIR [--only NAME ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import time

import requests
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
import extract_examples  # noqa: E402  pylint: disable=wrong-import-position
import sandbox_env  # noqa: E402  pylint: disable=wrong-import-position

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
BSIMON_PASSWORD = "Docs-Examples-0f-B.Simon!"  # what vault_bsimon_password holds in the test

SETUP_APP = """
- name: "docs-test setup: the app the examples work on"
  smarttrace.sso.entra_app:
    display_name: SmartTrace
    unique_name: smarttrace-sso-acme
    redirect_uris: [https://api.smarttrace.ai/v1/auth/callback/azure/acme]
    app_roles:
      - value: SmartTrace.User
        display_name: SmartTrace user
      - value: SmartTrace.Admin
        display_name: SmartTrace administrator
  register: {register}
"""

SETUP_SECRET = """
- name: "docs-test setup: a client secret"
  smarttrace.sso.entra_secret:
    app_id: "{{{{ {app}.app_id }}}}"
    display_name: smarttrace
    expires_in_days: 180
  register: {register}
  no_log: true
"""


SETUP_AUTOMATION_APP = """
- name: "docs-test setup: the automation identity's app registration"
  smarttrace.sso.entra_app:
    display_name: SmartTrace SSO automation
  register: automation_app
"""


@dataclasses.dataclass
class Case:
    vars: dict = dataclasses.field(default_factory=dict)
    setup: str = ""
    replace: dict = dataclasses.field(default_factory=dict)
    skip: dict = dataclasses.field(default_factory=dict)
    runs: tuple = ("real", "rerun")
    changes_on_rerun: dict = dataclasses.field(default_factory=dict)
    final: dict = dataclasses.field(default_factory=dict)
    extra_args: tuple = ()
    env: dict = dataclasses.field(default_factory=dict)
    files: tuple = ()  # commands that make the files an example reads, run in the work folder before its runs
    must_change: tuple = ()
    verify: object = None  # verify(runner) -> list of problems, after the real run
    inventory: str = ""  # an inventory (YAML) the play's hosts are in, written to the work folder


MAKE_CERTIFICATE = REPO / "tests/integration/targets/create_automation_identity/files/make_certificate.py"


@dataclasses.dataclass
class ShellCase:
    """A shell block of docs/*.md, run twice with bash -e in a folder of its own with the sandbox's connection settings:
    its playbook runs must all succeed, the first pass's real runs change something, the second pass changes nothing.
    ``replace``: literal text -> what the test uses (each must be found); ``prepare(runner, folder)`` returns more
    such replacements (values the sandbox makes, such as an app's id); ``verify(runner)`` after the first pass;
    ``rerun_from``: the second pass runs the block from this line on (with the reason why not the lines before)."""
    replace: dict = dataclasses.field(default_factory=dict)
    rerun_from: tuple = ()  # (line, reason)
    file: str = ""  # a file block: written to this name, then ``command`` (which the page must hold) is the block run
    command: str = ""
    changes_every_pass: str = ""  # the reason the second pass changes something too (then it must)
    prepare: object = None
    verify: object = None


def shell_cases() -> dict[str, ShellCase]:
    return {
        "docs:secret-rotation.md:handover-vault": ShellCase(prepare=prepare_handover),
        # reads what handover-vault wrote to HOME (runs after it): ansible-vault view fails on a file that is not encrypted
        "docs:secret-rotation.md:handover-view": ShellCase(verify=verify_handover_view),
        "docs:secret-rotation.md:rotate-now": ShellCase(
            prepare=configure_acme,
            verify=verify_rotated,
            changes_every_pass="rotate_secret rotates whatever the expiry, on every run, as the page says"),
        # a file the page tells the reader to pass with the command in its next line: written as FILE, then that command
        "docs:automation-identity.md:federated-vars": ShellCase(
            file="federated.yml",
            command="ansible-playbook smarttrace.sso.create_automation_identity -e @federated.yml",
            replace={"ansible-playbook smarttrace.sso.create_automation_identity": "export ENTRA_ADMIN_TOKEN=\"$(cat admin-token)\"\n"
                     "ansible-playbook smarttrace.sso.create_automation_identity -e @sandbox.yml"},
            prepare=prepare_admin_files,
            verify=verify_federated),
        "docs:automation-identity.md:with-the-playbook": ShellCase(
            replace={
                # az login as an administrator of a real tenant: the sandbox's token endpoint gives the token instead
                "$(az account get-access-token --resource-type ms-graph --query accessToken -o tsv)": "$(cat admin-token)",
                # the playbook's Graph root and CA are variables (no environment fallback): the sandbox's, from a file
                "ansible-playbook smarttrace.sso.create_automation_identity": "ansible-playbook smarttrace.sso.create_automation_identity "
                "-e @sandbox.yml"},
            prepare=prepare_automation_identity_shell,
            rerun_from=("# An administrator's Graph token", "openssl would make a new certificate, which the playbook rightly "
                        "registers: a re-run keeps the certificate it has"),
            verify=lambda runner: verify_automation_identity(runner, AUTOMATION_PERMISSIONS | {"User.ReadWrite.All"}, owner_of="SmartTrace")),
    }


def verify_federated(runner) -> list[str]:
    """federated.yml: the automation app holds the federated credential github-prod, exactly as the file gives it."""
    token = admin_token(runner.endpoint)
    apps = graph_get(runner, "/applications?$filter=displayName eq 'SmartTrace SSO automation'", token)["value"]
    if len(apps) != 1:
        return ["%d apps named SmartTrace SSO automation, expected 1" % len(apps)]
    found = [(item["name"], item["issuer"], item["subject"], item.get("audiences"))
             for item in graph_get(runner, "/applications/%s/federatedIdentityCredentials" % apps[0]["id"], token)["value"]]
    wanted = [("github-prod", "https://token.actions.githubusercontent.com", "repo:contoso/smarttrace-sso:environment:prod",
               ["api://AzureADTokenExchange"])]
    return [] if found == wanted else ["federated identity credentials %r, expected %r" % (found, wanted)]


def prepare_handover(runner, folder: pathlib.Path) -> dict:
    """README's acme.yml and vault.yml (encrypted with the reader's vault password file, ~/.smarttrace-vault-pass)."""
    (folder / "acme.yml").write_text(extract_examples.readme_blocks(REPO)["readme:acme.yml"]["body"], encoding="utf-8")
    password_file = runner.home / ".smarttrace-vault-pass"
    password_file.write_text("docs-examples-vault-password\n", encoding="utf-8")
    (folder / "vault.yml").write_text("vault_bsimon_password: %s\n" % json.dumps(BSIMON_PASSWORD), encoding="utf-8")
    done = subprocess.run([shutil.which("ansible-vault") or "ansible-vault", "encrypt", "--vault-password-file", str(password_file),
                           str(folder / "vault.yml")], env=runner.env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError("ansible-vault encrypt failed: " + done.stderr)
    return {}


def verify_handover_view(runner) -> list[str]:
    """The hand-over file on disk is vault-encrypted, and ansible-vault view showed the values to paste."""
    handover = runner.home / ".smarttrace-sso" / "acme.smarttrace-sso.txt"
    shown = (runner.work / "docs_secret-rotation.md_handover-view" / "pass1.log").read_text(encoding="utf-8")
    problems = []
    if not handover.is_file() or not handover.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT;"):
        problems.append("%s is not a vault-encrypted file" % handover)
    if "APPLICATION (CLIENT) SECRET:" not in shown or "APPLICATION ID:" not in shown:
        problems.append("ansible-vault view did not show the values to paste")
    return problems


def configure_acme(runner, folder: pathlib.Path) -> dict:
    """"Rotate now" presumes a configured instance: smarttrace.sso.configure for acme first."""
    done = subprocess.run([shutil.which("ansible-playbook") or "ansible-playbook", "smarttrace.sso.configure",
                           "-e", "smarttrace_sso_instance=acme"], env=runner.env(), cwd=folder, capture_output=True, text=True,
                          timeout=900, check=False)
    (folder / "configure.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError("configuring acme before the block failed (log %s)" % (folder / "configure.log"))
    runner.secrets_before = client_secret_ids(runner)
    return {}


def client_secret_ids(runner) -> list[str]:
    token = admin_token(runner.endpoint)
    return [secret["keyId"] for app in graph_get(runner, "/applications", token)["value"] for secret in app.get("passwordCredentials") or []]


def verify_rotated(runner) -> list[str]:
    """Rotate now: one client secret in the tenant is replaced by a new one (the old one retired once SmartTrace's test of
    the new one passed); the tenant's other secrets (the sandbox's own identities) are untouched."""
    before, after = set(runner.secrets_before), set(client_secret_ids(runner))
    if len(before - after) != 1 or len(after - before) != 1:
        return ["client secrets removed %s and added %s: expected one of each" % (sorted(before - after), sorted(after - before))]
    return []


def prepare_admin_files(runner, folder: pathlib.Path) -> dict:
    """The administrator's token in a file (what az would print), the sandbox's Graph root and CA for the playbook."""
    token = admin_token(runner.endpoint)
    (folder / "admin-token").write_text(token, encoding="utf-8")
    (folder / "sandbox.yml").write_text(yaml.safe_dump({"smarttrace_sso_graph_url": runner.endpoint["graph_url"],
                                                        "smarttrace_sso_ca_path": runner.endpoint["ca"]}), encoding="utf-8")
    return {}


def prepare_automation_identity_shell(runner, folder: pathlib.Path) -> dict:
    """prepare_admin_files, and an existing SmartTrace app the identity is to own."""
    prepare_admin_files(runner, folder)
    token = admin_token(runner.endpoint)
    with requests.Session() as session:
        session.trust_env = False
        answer = session.post(runner.endpoint["graph_url"] + "/v1.0/applications", json={"displayName": "SmartTrace"},
                              headers={"Authorization": "Bearer " + token}, verify=runner.endpoint["ca"], timeout=30)
        answer.raise_for_status()
    return {"<app id of an existing SmartTrace app>": answer.json()["appId"]}


# docs/*.md's blocks that cannot run against the sandbox, each with the reason; every other marked block is a case.
LIVE = "needs a real tenant and the live test's credentials (tests/integration/integration_config.yml): make integration-live"
AWX = "an AWX/AAP credential type (input or injector configuration), pasted into AWX's web form: no AWX here"
DOCS_SKIPS = {
    "docs:automation-identity.md:github-actions": "a GitHub Actions workflow step (ACTIONS_ID_TOKEN_REQUEST_URL exists only "
    "in a GitHub-hosted job)",
    "docs:execution-environment.md:build-image": "ansible-builder build and podman push to a registry: no container engine or "
    "registry here; the definition is built by make test-ee (ansible-builder create) and make ee-image",
    "docs:execution-environment.md:test-image": "podman run of the image built above: no container engine here (make ee-image "
    "runs the role in the image where podman is installed)",
    "docs:execution-environment.md:base-image": "debootstrap and podman import as root: make ee-image runs exactly these steps "
    "where podman and debootstrap are installed",
    "docs:execution-environment.md:ee-image-definition": "an ansible-builder definition, not a playbook: tests/ee/documented_definition.sh "
    "(make ee-image) builds the image from this very block",
    "docs:execution-environment.md:ee-build": "ansible-builder build needs a container engine: make ee-image runs it",
    "docs:execution-environment.md:awx-certificate-input": AWX,
    "docs:execution-environment.md:awx-certificate-injector": AWX,
    "docs:execution-environment.md:awx-smarttrace-input": AWX,
    "docs:execution-environment.md:awx-smarttrace-injector": AWX,
    "docs:testing-live.md:live-configure": LIVE,
    "docs:testing-live.md:live-run": LIVE,
    "docs:testing-live.md:live-cleanup": LIVE,
}


def admin_token(endpoint: dict) -> str:
    """An administrator's Graph access token, as az account get-access-token gives one: the sandbox's client credentials."""
    with requests.Session() as session:
        session.trust_env = False
        answer = session.post("%s/%s/oauth2/v2.0/token" % (endpoint["authority_url"], endpoint["tenant_id"]),
                              data={"grant_type": "client_credentials", "client_id": endpoint["client_id"],
                                    "client_secret": endpoint["client_secret"], "scope": "https://graph.microsoft.com/.default"},
                              verify=endpoint["ca"], timeout=30)
        answer.raise_for_status()
        return answer.json()["access_token"]


def graph_get(runner, path: str, token: str) -> dict:
    with requests.Session() as session:
        session.trust_env = False
        answer = session.get(runner.endpoint["graph_url"] + "/v1.0" + path, headers={"Authorization": "Bearer " + token},
                             verify=runner.endpoint["ca"], timeout=30)
        answer.raise_for_status()
        return answer.json()


AUTOMATION_PERMISSIONS = {"Application.ReadWrite.OwnedBy", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All"}


def verify_automation_identity(runner, permissions=frozenset(AUTOMATION_PERMISSIONS), owner_of=None) -> list[str]:
    """docs/automation-identity.md's modules playbook (and playbook): one single-tenant app with its service principal,
    exactly these Graph application permissions granted, the certificate, and (owner_of) an owner of that app."""
    token = admin_token(runner.endpoint)
    apps = graph_get(runner, "/applications?$filter=displayName eq 'SmartTrace SSO automation'", token)["value"]
    if len(apps) != 1:
        return ["%d apps named SmartTrace SSO automation, expected 1" % len(apps)]
    app, problems = apps[0], []
    if app.get("signInAudience") != "AzureADMyOrg":
        problems.append("signInAudience %r, expected AzureADMyOrg" % app.get("signInAudience"))
    keys = app.get("keyCredentials") or []
    if [key.get("type") for key in keys] != ["AsymmetricX509Cert"]:
        problems.append("key credentials %r, expected the one certificate" % [key.get("type") for key in keys])
    graph = graph_get(runner, "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'", token)["value"][0]
    names = {role["id"]: role["value"] for role in graph.get("appRoles", [])}
    sps = graph_get(runner, "/servicePrincipals?$filter=appId eq '%s'" % app["appId"], token)["value"]
    if len(sps) != 1:
        return problems + ["%d service principals for the app, expected 1" % len(sps)]
    granted = {names.get(item["appRoleId"], item["appRoleId"])
               for item in graph_get(runner, "/servicePrincipals/%s/appRoleAssignments" % sps[0]["id"], token)["value"]
               if item.get("resourceId") == graph["id"]}
    if granted != set(permissions):
        problems.append("granted Graph application permissions %s, expected %s" % (sorted(granted), sorted(permissions)))
    if owner_of:
        owned = graph_get(runner, "/applications?$filter=displayName eq '%s'" % owner_of, token)["value"]
        owners = {owner.get("id") for app in owned for owner in graph_get(runner, "/applications/%s/owners" % app["id"], token)["value"]}
        if len(owned) != 1 or sps[0]["id"] not in owners:
            problems.append("the identity's service principal is not an owner of the one app %s" % owner_of)
    return problems


def verify_automation_secret(runner) -> list[str]:
    """docs/secret-rotation.md's rotation of the automation identity's secret: one secret of that name is left, the new one."""
    token = admin_token(runner.endpoint)
    apps = graph_get(runner, "/applications?$filter=displayName eq 'SmartTrace SSO automation'", token)["value"]
    if len(apps) != 1:
        return ["%d apps named SmartTrace SSO automation, expected 1" % len(apps)]
    names = [item.get("displayName") for item in apps[0].get("passwordCredentials") or []]
    if names != ["smarttrace.sso automation"]:
        return ["the app's client secrets are named %r, expected the one new secret 'smarttrace.sso automation'" % names]
    return []


def cases(endpoint: dict, work: pathlib.Path) -> dict[str, Case]:
    """Every example and what the test gives it. An example missing here fails the run (see main)."""
    tenant = endpoint["tenant_id"]
    return {
        "docs:automation-identity.md:modules-playbook": Case(
            env={"ENTRA_ADMIN_TOKEN": admin_token},
            files=("{python} %s {work}" % MAKE_CERTIFICATE,),
            must_change=("App registration and service principal",
                         "Exactly these Microsoft Graph application permissions, with admin consent",
                         "Its certificate (the private key stays with you)"),
            verify=verify_automation_identity,
            runs=("check", "real", "rerun")),
        "docs:execution-environment.md:module-defaults-play": Case(
            # AWX's inventory: one host per facility in the group, each with its instance, run locally
            inventory="all:\n  children:\n    smarttrace_instances:\n      hosts:\n        acme:\n          smarttrace_sso_instance: acme\n"
                      "          ansible_python_interpreter: %s\n" % sys.executable,
            vars={"entra_tenant_id": tenant, "entra_client_id": endpoint["client_id"]},
            env={"AZURE_CLIENT_CERTIFICATE_PATH": endpoint["client_certificate_path"]},  # what AWX's credential type injects
            replace={"api_url: https://api.smarttrace.ai/v1": "api_url: " + endpoint["smarttrace_url"]},
            runs=("check", "real", "rerun")),
        "docs:secret-rotation.md:check-old-secret-gone": Case(
            setup=SETUP_APP.format(register="setup_app") + SETUP_SECRET.format(app="setup_app", register="setup_secret"),
            runs=("check", "real", "rerun")),
        "docs:secret-rotation.md:automation-secret-rotation": Case(
            setup=SETUP_AUTOMATION_APP,
            vars={"automation_client_id": "{{ automation_app.app_id }}"},
            must_change=("New client secret for the automation identity (the old one stays valid)",),
            verify=verify_automation_secret,
            changes_on_rerun={"New client secret for the automation identity (the old one stays valid)": "force: true adds a "
                              "secret on every run, as documented",
                              "Retire the older ones": "retires the secret the run before added"},
            # not in check mode: entra_secret refuses check mode's placeholder as keep_key_id (the new secret's key id
            # is known only after the real run), so --check stops at "Retire the older ones"; helper "retire" owns that
            runs=("real", "rerun")),
        "module:entra_tenant_info": Case(runs=("check", "real", "rerun")),
        "module:entra_app": Case(
            setup="""
- name: "docs-test setup: the people who become owners"
  smarttrace.sso.entra_user:
    users:
      - {user_principal_name: alice@contoso.onmicrosoft.com, display_name: Alice}
      - {user_principal_name: bob@contoso.onmicrosoft.com, display_name: Bob}
    password: "{{ vault_bsimon_password }}"
""",
            vars={"vault_bsimon_password": BSIMON_PASSWORD},
            final={"Add a redirect URI, keeping those the app has": "adds a URI to the app that the first example gives "
                   "exactly one (list_mode replace): in one playbook the two would undo each other on every run",
                   "Delete the app registration and its enterprise application": "deletes the app"}),
        "module:entra_sso_plan": Case(vars={"vault_bsimon_password": BSIMON_PASSWORD}, runs=("check", "real", "rerun")),
        "module:entra_sso_audit_info": Case(setup=SETUP_APP.format(register="setup_app"), runs=("check", "real", "rerun")),
        "module:entra_app_info": Case(setup=SETUP_APP.format(register="setup_app"), runs=("check", "real", "rerun")),
        "module:entra_assignment": Case(
            setup=SETUP_APP.format(register="smarttrace_app") + """
- name: "docs-test setup: users to assign"
  smarttrace.sso.entra_user:
    users:
      - {user_principal_name: B.Simon@contoso.onmicrosoft.com, display_name: B.Simon}
      - {user_principal_name: admin1@contoso.onmicrosoft.com, display_name: Admin One}
    password: "{{ vault_bsimon_password }}"
  register: created_users
- name: "docs-test setup: an app without app roles"
  smarttrace.sso.entra_app:
    display_name: Other app
    unique_name: docs-test-other-app
  register: other_app
""",
            vars={"admins": ["admin1@contoso.onmicrosoft.com"], "vault_bsimon_password": BSIMON_PASSWORD},
            final={"Remove a user's assignment": "removes B.Simon's assignment"}),
        "module:entra_secret": Case(
            setup=SETUP_APP.format(register="sso_app"),
            replace={"/etc/smarttrace/client_secret": str(work / "client_secret")},
            final={"Once the consumer uses the new secret, retire the older ones of the same description": "retires secrets",
                   "Remove one secret by its key ID": "removes a secret",
                   "The value was lost - add a new secret now": "force: true adds a secret on every run, as documented"}),
        "module:entra_app_permissions": Case(
            setup=SETUP_AUTOMATION_APP,
            final={"Add one Microsoft Graph application permission, keeping the others": "adds a permission that the first "
                   "example's exclusive list removes again: in one playbook the two would undo each other on every run"},
            runs=("check", "real", "rerun")),
        "module:entra_app_credential": Case(
            setup=SETUP_AUTOMATION_APP + """
- name: "docs-test setup: a throwaway certificate"
  ansible.builtin.command:
    cmd: "{{{{ ansible_playbook_python }}}} {script} {folder}"
    creates: "{folder}/automation.crt"
  check_mode: false
""".format(script=REPO / "tests/integration/targets/create_automation_identity/files/make_certificate.py", folder=work),
            vars={"certificate_file": str(work / "automation.crt")},
            runs=("check", "real", "rerun")),
        "module:entra_app_owner": Case(
            setup=SETUP_AUTOMATION_APP + SETUP_APP.format(register="smarttrace_app"),
            runs=("check", "real", "rerun")),
        "module:entra_user": Case(
            vars={"vault_bsimon_password": BSIMON_PASSWORD, "vault_initial_password": BSIMON_PASSWORD,
                  "offboarding": False,
                  "testers": [{"user_principal_name": "tester3@contoso.onmicrosoft.com", "display_name": "Tester Three"}]},
            final={"Remove the test user": "removes B.Simon"}),
        "module:smarttrace_integration": Case(
            setup=SETUP_APP.format(register="app") + SETUP_SECRET.format(app="app", register="secret"),
            vars={"entra_tenant_id": tenant, "vault_smarttrace_api_token": endpoint["smarttrace_token"],
                  "vault_smarttrace_password": endpoint["smarttrace_password"]},
            replace={"admin@example.com": endpoint["smarttrace_username"]},
            skip={"Update the ids only (the secret SmartTrace holds stays)": "signs in with username and password, which the "
                  "module refuses next to the SMARTTRACE_API_TOKEN the other examples take from the environment; that sign-in "
                  "is tested in tests/integration/targets/smarttrace_integration"},
            final={"Turn single sign-on off and forget the values": "turns single sign-on off"}),
        "module:smarttrace_integration_info": Case(
            setup=SETUP_APP.format(register="app") + SETUP_SECRET.format(app="app", register="secret") + """
- name: "docs-test setup: SmartTrace holds the values"
  smarttrace.sso.smarttrace_integration:
    instance: acme
    application_id: "{{ app.app_id }}"
    tenant_id: "{{ app.tenant_id }}"
    client_secret: "{{ secret.secret | default(omit) }}"
    client_secret_id: "{{ secret.key_id }}"
  no_log: true
""",
            vars={"vault_smarttrace_api_token": endpoint["smarttrace_token"]}),
        "role-readme:1": Case(
            vars={"vault_tenant_id": tenant, "vault_automation_client_id": endpoint["client_id"],
                  "vault_automation_client_secret": endpoint["client_secret"],
                  "vault_smarttrace_api_token": endpoint["smarttrace_token"]},
            runs=("real",)),  # three instances (3 min): check mode and re-runs of the role are role-readme:2's and the README's
        "role-readme:2": Case(runs=("check", "real", "rerun")),
        "guide": Case(
            vars={"entra_tenant_id": tenant, "entra_client_id": endpoint["client_id"],
                  "entra_certificate_path": endpoint["client_certificate_path"],
                  "vault_smarttrace_api_token": endpoint["smarttrace_token"], "vault_bsimon_password": BSIMON_PASSWORD},
            runs=("check", "real", "rerun")),
    }


# ---------------------------------------------------------------------------- running


class Runner:
    def __init__(self, endpoint: dict, collections: pathlib.Path, work: pathlib.Path):
        self.endpoint = endpoint
        self.collections = collections
        self.work = work
        self.home = work / "home"
        self.failures: list[str] = []
        self.case_env: dict = {}  # the current case's env (Case.env), what the user exported
        self.secrets_before: list = []  # the client secrets' key ids before a shell block (configure_acme)

    def env(self) -> dict:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("ANSIBLE_", "AZURE_", "SMARTTRACE_", "ENTRA_")) and name not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
        env.update(sandbox_env.collection_environment(self.endpoint))
        env.update(HOME=str(self.home), ANSIBLE_COLLECTIONS_PATH=str(self.collections), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="docs_results",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        env.update(self.case_env)
        return env

    def reset(self) -> None:
        with requests.Session() as session:
            session.trust_env = False
            answer = session.post(self.endpoint["url"] + "/_sandbox/reset", verify=self.endpoint["ca"], timeout=30)
            answer.raise_for_status()

    def fail(self, name: str, text: str) -> None:
        self.failures.append("%s: %s" % (name, text))
        print("FAILED %s: %s" % (name, text), flush=True)

    def playbook(self, name: str, example: dict, case: Case, final: bool = False) -> pathlib.Path:
        body = example["body"]
        for old, new in case.replace.items():
            if old not in body:
                raise ValueError("%s: the test replaces %r, which the example no longer holds: update tests/docs/run_examples.py" % (name, old))
            body = body.replace(old, new)
        document = yaml.safe_load(body)
        if example["kind"] == "play":
            plays = document
            if case.setup:
                plays[0]["tasks"] = (yaml.safe_load(case.setup) or []) + plays[0].get("tasks", [])
        else:
            plays = [{"name": "docs example " + name, "hosts": "localhost", "connection": "local", "gather_facts": False,
                      "vars": case.vars, "tasks": (yaml.safe_load(case.setup) or []) + document}]
        for play in plays:
            for key in ("tasks", "pre_tasks", "post_tasks"):
                kept = [task for task in play.get(key, []) if task.get("name") not in case.skip
                        and (final or task.get("name") not in case.final)]
                if key in play:
                    play[key] = kept
        named = {task.get("name") for play in plays for key in ("tasks",) for task in play.get(key, [])}
        for listed in list(case.skip) + list(case.changes_on_rerun) + list(case.final) + list(case.must_change):
            if listed not in named and listed not in example["body"]:
                raise ValueError("%s: the test names the task %r, which the example no longer has" % (name, listed))
        path = self.work / (name.replace(":", "_") + (".final" if final else "") + ".yml")
        path.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        return path

    def ansible_playbook(self, name: str, path: pathlib.Path, case: Case, mode: str) -> list[dict] | None:
        results = self.work / ("%s.%s.jsonl" % (path.stem, mode))
        results.unlink(missing_ok=True)
        command = [shutil.which("ansible-playbook") or "ansible-playbook", str(path), *case.extra_args]
        if case.inventory:
            inventory = self.work / (path.stem + ".inventory.yml")
            inventory.write_text(case.inventory, encoding="utf-8")
            command += ["-i", str(inventory)]
        if example_kind_is_play(path) and case.vars:
            vars_file = self.work / (path.stem + ".vars.json")
            vars_file.write_text(json.dumps(case.vars), encoding="utf-8")
            command += ["-e", "@" + str(vars_file)]
        if mode == "check":
            command += ["--check", "--diff"]
        env = dict(self.env(), DOCS_RESULTS=str(results))
        started = time.monotonic()
        done = subprocess.run(command, env=env, cwd=self.work, capture_output=True, text=True, timeout=900, check=False)
        log = self.work / ("%s.%s.log" % (path.stem, mode))
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()] if results.exists() else []
        if done.returncode != 0:
            failed = [line for line in lines if line["status"] == "failed"]
            detail = "; ".join("task %r: %s" % (line["task"], line["msg"]) for line in failed) or (done.stdout + done.stderr)[-3000:]
            self.fail(name, "%s run failed (exit %d, log %s): %s" % (mode, done.returncode, log, detail))
            return None
        print("  %-6s ok in %4.1f s: %d tasks, %d changed" % (mode, time.monotonic() - started, len(lines),
                                                              sum(line["changed"] for line in lines)), flush=True)
        return lines

    def run_case(self, name: str, example: dict, case: Case) -> None:
        print("== %s (%s)" % (name, ", ".join(case.runs)), flush=True)
        for task, reason in case.skip.items():
            print("  skipped task %r: %s" % (task, reason))
        path = self.playbook(name, example, case)
        self.reset()
        self.case_env = {variable: value(self.endpoint) if callable(value) else value for variable, value in case.env.items()}
        try:
            self.run_modes(name, example, case, path)
        finally:
            self.case_env = {}

    def run_modes(self, name: str, example: dict, case: Case, path: pathlib.Path) -> None:
        for command in case.files:
            made = subprocess.run(shlex.split(command.format(python=sys.executable, work=self.work)), cwd=self.work,
                                  capture_output=True, text=True, check=False)
            if made.returncode != 0:
                self.fail(name, "making the example's files failed (%s): %s" % (command, made.stderr[-2000:]))
                return
        for mode in case.runs:
            lines = self.ansible_playbook(name, path, case, mode)
            if lines is None:
                return
            if mode in ("check", "real") and case.must_change:
                changed = {line["task"] for line in lines if line["changed"]}
                missing = [task for task in case.must_change if task not in changed]
                if missing:
                    self.fail(name, "the %s run on a fresh tenant did not change %s" % (mode, ", ".join(map(repr, missing))))
                    return
            if mode == "real" and case.verify is not None:
                problems = case.verify(self)
                if problems:
                    self.fail(name, "after the real run: " + "; ".join(problems))
                    return
                print("  verified: what the tenant holds after the real run", flush=True)
            if mode == "rerun":
                changed = sorted({line["task"] for line in lines if line["changed"] and not line["task"].startswith("docs-test setup")
                                  and line["task"] not in case.changes_on_rerun})
                if changed:
                    self.fail(name, "the second run changed %s (log %s)" % (", ".join(map(repr, changed)), path.with_suffix(".rerun.log")))
                    return
        if case.final:
            lines = self.ansible_playbook(name, self.playbook(name, example, case, final=True), case, "final")
            changed = sorted({line["task"] for line in (lines or []) if line["changed"] and line["task"] not in case.final
                              and not line["task"].startswith("docs-test setup") and line["task"] not in case.changes_on_rerun})
            if changed:
                self.fail(name, "the final run changed %s besides the final tasks" % ", ".join(map(repr, changed)))

    def run_shell(self, name: str, example: dict, environ: dict) -> None:
        """A README shell block, pasted into a fresh bash -e (empty HOME, the system PATH) in the repository."""
        print("== %s (bash -e, fresh environment)" % name, flush=True)
        script = self.work / (name.replace(":", "_") + ".sh")
        script.write_text("set -e\n" + example["body"], encoding="utf-8")
        env = dict(environ, HOME=str(self.home), PATH="/usr/local/bin:/usr/bin:/bin", LANG="C.UTF-8")
        started = time.monotonic()
        done = subprocess.run(["bash", "-e", str(script)], env=env, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
        log = script.with_suffix(".log")
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            self.fail(name, "exit %d (log %s): %s" % (done.returncode, log, (done.stdout + done.stderr)[-3000:]))
        else:
            print("  ok in %.1f s" % (time.monotonic() - started), flush=True)


def example_kind_is_play(path: pathlib.Path) -> bool:
    return not path.read_text(encoding="utf-8").startswith("- name: docs example ")  # the play this test wraps tasks in


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoint", required=True, type=pathlib.Path)
    parser.add_argument("--collections", required=True, type=pathlib.Path)
    parser.add_argument("--work", required=True, type=pathlib.Path)
    parser.add_argument("--only", action="append", default=[], help="run only these examples (names as listed)")
    parser.add_argument("--shell", action="store_true", help="also run README.md's marked shell blocks")
    args = parser.parse_args(argv)
    endpoint = json.loads(args.endpoint.read_text(encoding="utf-8"))
    args.work.mkdir(parents=True, exist_ok=True)
    runner = Runner(endpoint, args.collections.resolve(), args.work.resolve())
    runner.home.mkdir(exist_ok=True)
    examples = extract_examples.extract(REPO)
    shells = shell_cases()
    table = dict(cases(endpoint, runner.work), **shells)
    if not docs_table_agrees(runner.fail, examples, table):
        args.only = ["(none: fix the docs-test markers or the table first)"]
    for name, example in examples.items():
        if args.only and name not in args.only:
            continue
        if name.startswith("readme:"):
            continue  # README blocks: run_readme below
        if name in DOCS_SKIPS:
            print("== %s skipped: %s" % (name, DOCS_SKIPS[name]), flush=True)
            continue
        if name in shells:
            run_docs_shell(runner, name, example, shells[name])
            continue
        if name not in table:
            runner.fail(name, "no case in tests/docs/run_examples.py: say what the example needs, or why it cannot run")
            continue
        try:
            runner.run_case(name, example, table[name])
        except (ValueError, yaml.YAMLError) as exc:
            runner.fail(name, str(exc))
    if args.shell:
        run_readme(runner, examples, args.only)
    unknown = sorted(set(table) - set(examples) - README_BLOCKS - {name for name in table if name.startswith("docs:")})
    for name in unknown:
        runner.fail(name, "the test has a case for an example that no longer exists")
    print("docs examples: %d failed" % len(runner.failures) if runner.failures else "docs examples: all passed")
    for failure in runner.failures:
        print("  - " + failure)
    return 1 if runner.failures else 0


def docs_table_agrees(fail, examples: dict, table: dict, repo: pathlib.Path = REPO) -> bool:
    """docs/*.md's marked blocks against the table (cases and DOCS_SKIPS): every block is in exactly one, every entry is a
    block, and no pasteable block lacks a marker. ``fail(name, text)`` is told each disagreement (tests/docs/test_docs_table.py)."""
    found = {name for name in examples if name.startswith("docs:")}
    listed = {name for name in table if name.startswith("docs:")}
    agrees = True
    for where in extract_examples.unmarked_docs_blocks(repo):
        fail(where, "a yaml or shell block without a <!-- docs-test: LABEL --> line: mark it, and give it a case or a "
                    "DOCS_SKIPS entry with the reason in tests/docs/run_examples.py")
        agrees = False
    for name in sorted(found - listed - set(DOCS_SKIPS)):
        fail(name, "a marked block that tests/docs/run_examples.py neither runs nor skips")
        agrees = False
    for name in sorted((listed | set(DOCS_SKIPS)) - found):
        fail(name, "tests/docs/run_examples.py has an entry for a docs-test block that no longer exists")
        agrees = False
    for name in sorted(listed & set(DOCS_SKIPS)):
        fail(name, "both run and skipped in tests/docs/run_examples.py")
        agrees = False
    return agrees


def run_docs_shell(runner: Runner, name: str, example: dict, case: ShellCase) -> None:
    print("== %s (bash -e, twice)" % name, flush=True)
    folder = runner.work / name.replace(":", "_")
    folder.mkdir(exist_ok=True)
    runner.reset()
    replace = dict(case.replace)
    if case.prepare is not None:
        try:
            replace.update(case.prepare(runner, folder))
        except (RuntimeError, requests.RequestException) as exc:
            runner.fail(name, "preparing the block failed: %s" % exc)
            return
    body = example["body"]
    if case.file:
        page = (REPO / "docs" / name.split(":")[1]).read_text(encoding="utf-8")
        if case.command not in page:
            runner.fail(name, "the test runs %r with the file, which the page no longer says" % case.command)
            return
        (folder / case.file).write_text(body, encoding="utf-8")
        body = case.command + "\n"
    for old, new in replace.items():
        if old not in body:
            runner.fail(name, "the test replaces %r, which the block no longer holds: update tests/docs/run_examples.py" % old)
            return
        body = body.replace(old, new)
    if case.rerun_from and case.rerun_from[0] not in body:
        runner.fail(name, "the test re-runs the block from %r, a line it no longer holds" % case.rerun_from[0])
        return
    for number in (1, 2):
        if number == 2 and case.rerun_from:
            body = body[body.index(case.rerun_from[0]):]
            print("  pass 2 from %r: %s" % (case.rerun_from[0], case.rerun_from[1]), flush=True)
        commands = len(re.findall(r"^ansible-playbook ", body, re.M))
        started = time.monotonic()
        done = subprocess.run(["bash", "-e", "-c", body], env=runner.env(), cwd=folder, capture_output=True, text=True,
                              timeout=900, check=False)
        log = folder / ("pass%d.log" % number)
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            runner.fail(name, "pass %d failed (exit %d, log %s): %s" % (number, done.returncode, log, (done.stdout + done.stderr)[-3000:]))
            return
        recaps = [int(changed) for changed in re.findall(r"^localhost\s*:.*\bchanged=(\d+)", done.stdout, re.M)]
        expected_change = number == 1 or bool(case.changes_every_pass)
        if len(recaps) != commands or any(bool(changed) != expected_change for changed in recaps):
            runner.fail(name, "pass %d: expected %d playbook runs that %s, got changed= %s (log %s)" % (
                number, commands, "change something" if expected_change else "change nothing", recaps, log))
            return
        print("  pass %d ok in %4.1f s: changed= %s" % (number, time.monotonic() - started, recaps), flush=True)
        if number == 1 and case.verify is not None:
            problems = case.verify(runner)
            if problems:
                runner.fail(name, "after the first pass: " + "; ".join(problems))
                return
            print("  verified: what the tenant holds after the first pass", flush=True)


# README.md's marked blocks, in the order a reader runs them. The walk-through's commands run in a folder holding the
# acme.yml of step 2 and a vault.yml made with ansible-vault (the password from a file instead of --ask-vault-pass,
# which asks on a terminal); the connection settings of step 1 are the sandbox's.
WALKTHROUGH = (("readme:walkthrough-check", "check"), ("readme:walkthrough-run", "real"), ("readme:walkthrough-run", "rerun"),
               ("readme:walkthrough-rotate", "real"), ("readme:walkthrough-offboard", "real"))
README_BLOCKS = {"readme:acme.yml", "readme:rehearse"} | {name for name, _mode in WALKTHROUGH}


def run_readme(runner: Runner, examples: dict, only: list) -> None:
    """README.md: the walk-through (acme.yml, rehearse, run, re-run, rotate, offboard) and the sandbox rehearsal."""
    found = {name for name in examples if name.startswith("readme:")}
    for name in sorted(found ^ README_BLOCKS):
        runner.fail(name, "README.md's docs-test blocks and tests/docs/run_examples.py disagree (%s)" %
                    ("a block the test does not know" if name in found else "the test expects this block in README.md"))
    if found != README_BLOCKS:
        return
    if not only or any(name in only for name, _mode in WALKTHROUGH):
        run_walkthrough(runner, examples)
    if not only or "readme:rehearse" in only:
        run_rehearse(runner, examples)


def run_walkthrough(runner: Runner, examples: dict) -> None:
    print("== README walk-through (acme.yml, %s)" % ", ".join("%s %s" % (name.split("-", 1)[1], mode) for name, mode in WALKTHROUGH),
          flush=True)
    folder = runner.work / "walkthrough"
    folder.mkdir(exist_ok=True)
    (folder / "acme.yml").write_text(examples["readme:acme.yml"]["body"], encoding="utf-8")
    password_file = folder / "vault-password"
    password_file.write_text("docs-examples-vault-password\n", encoding="utf-8")
    plain = folder / "vault.yml"
    plain.write_text("vault_bsimon_password: %s\n" % json.dumps(BSIMON_PASSWORD), encoding="utf-8")
    env = runner.env()
    vault = subprocess.run([shutil.which("ansible-vault") or "ansible-vault", "encrypt", "--vault-password-file", str(password_file),
                            str(plain)], env=env, capture_output=True, text=True, check=False)
    if vault.returncode != 0:
        runner.fail("readme:walkthrough", "ansible-vault encrypt failed: " + vault.stderr)
        return
    runner.reset()
    for name, mode in WALKTHROUGH:
        body = examples[name]["body"]
        if "--ask-vault-pass" not in body:
            runner.fail(name, "the test gives the vault password from a file in place of --ask-vault-pass, which is gone")
            return
        body = body.replace("--ask-vault-pass", "--vault-password-file " + shlex.quote(str(password_file)))
        results = folder / ("%s.%s.jsonl" % (name.split(":")[1], mode))
        results.unlink(missing_ok=True)
        started = time.monotonic()
        done = subprocess.run(["bash", "-e", "-c", body], env=dict(env, DOCS_RESULTS=str(results)), cwd=folder,
                              capture_output=True, text=True, timeout=900, check=False)
        log = results.with_suffix(".log")
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()] if results.exists() else []
        if done.returncode != 0:
            runner.fail(name, "%s failed (exit %d, log %s): %s" % (mode, done.returncode, log, (done.stdout + done.stderr)[-3000:]))
            return
        changed = sorted({line["task"] for line in lines if line["changed"]})
        print("  %-26s %-6s ok in %4.1f s: %d tasks, %d changed" % (name, mode, time.monotonic() - started, len(lines), len(changed)),
              flush=True)
        if mode == "rerun" and changed:
            runner.fail(name, "the second run changed %s (log %s)" % (", ".join(map(repr, changed)), log))
            return


def run_rehearse(runner: Runner, examples: dict) -> None:
    """The sandbox rehearsal, pasted into a fresh bash -e in the repository; its sandbox state in the work folder."""
    state = runner.work / "rehearse-sandbox"
    body = examples["readme:rehearse"]["body"]
    if ". .sandbox/env.sh" not in body:
        runner.fail("readme:rehearse", "the test runs the block with its own state folder in place of .sandbox/, which is gone")
        return
    example = {"body": body.replace(". .sandbox/env.sh", ". %s/env.sh" % shlex.quote(str(state)))}
    try:
        runner.run_shell("readme:rehearse", example, {"SANDBOX_STATE": str(state)})
    finally:
        subprocess.run(["make", "--no-print-directory", "sandbox-stop", "SANDBOX_STATE=" + str(state)], cwd=REPO,
                       env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(runner.home)}, capture_output=True, check=False)
    if (state / "sandbox.pid").exists():
        runner.fail("readme:rehearse", "make sandbox-stop left %s behind" % (state / "sandbox.pid"))
    recaps = re.findall(r"^localhost\s*:.*\bchanged=(\d+)", (runner.work / "readme_rehearse.log").read_text(encoding="utf-8"), re.M)
    commands = len(re.findall(r"^ansible-playbook ", body, re.M))
    if commands != len(recaps) or (recaps and recaps[-1] != "0"):
        runner.fail("readme:rehearse", "expected %d playbook runs, the last changing nothing; got changed= %s"
                    % (commands, ", ".join(recaps)))


if __name__ == "__main__":
    sys.exit(main())

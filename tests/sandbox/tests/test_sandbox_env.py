"""tests/tools/sandbox_env.py: absolute paths, and the sandbox's CA for the collection only (never REQUESTS_CA_BUNDLE)."""
from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys

TOOL = pathlib.Path(__file__).resolve().parents[2] / "tools" / "sandbox_env.py"
ENDPOINT = {"url": "https://127.0.0.1:4443", "ca": "relative-state/ca.pem", "tenant_id": "t", "client_id": "c",
            "client_secret": "s'$(not run)", "authority_url": "https://127.0.0.1:4443", "graph_url": "https://127.0.0.1:4443",
            "smarttrace_url": "https://127.0.0.1:4443/smarttrace/v1", "smarttrace_token": "st"}


def _endpoint(tmp_path) -> pathlib.Path:
    state = tmp_path / "relative-state"
    state.mkdir()
    path = state / "endpoint.json"
    path.write_text(json.dumps(ENDPOINT))
    return path


def _sourced(tmp_path, text: str, *names: str) -> dict:
    script = text + "\n" + "".join('printf "%%s=%%s\\n" %s "${%s-UNSET}"\n' % (name, name) for name in names)
    done = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_exports_use_absolute_paths_and_the_collections_own_ca_variables(tmp_path):
    path = _endpoint(tmp_path)
    printed = subprocess.run([sys.executable, str(TOOL), os.path.relpath(path, tmp_path)], cwd=tmp_path, capture_output=True,
                             text=True, check=True).stdout
    values = _sourced(tmp_path, printed, "ENTRA_CA_PATH", "SMARTTRACE_CA_PATH", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                      "AZURE_CLIENT_SECRET")
    assert values["ENTRA_CA_PATH"] == values["SMARTTRACE_CA_PATH"] == str(tmp_path / "relative-state" / "ca.pem")
    assert values["REQUESTS_CA_BUNDLE"] == values["SSL_CERT_FILE"] == "UNSET"
    assert values["AZURE_CLIENT_SECRET"] == ENDPOINT["client_secret"]  # quoted, never run


def test_env_file_puts_the_venv_and_the_collection_first_and_is_private(tmp_path):
    path = _endpoint(tmp_path)
    env_file = tmp_path / "relative-state" / "env.sh"
    subprocess.run([sys.executable, str(TOOL), str(path), "--env-file", str(env_file), "--venv", "venv", "--collections", "cols"],
                   cwd=tmp_path, check=True)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # holds the sandbox's client secret
    values = _sourced(tmp_path, ". %s" % env_file, "PATH", "ANSIBLE_COLLECTIONS_PATH", "ENTRA_CA_PATH", "REQUESTS_CA_BUNDLE")
    assert values["PATH"] == "%s:/usr/bin:/bin" % (tmp_path / "venv" / "bin")
    assert values["ANSIBLE_COLLECTIONS_PATH"] == str(tmp_path / "cols")
    assert values["ENTRA_CA_PATH"] == str(tmp_path / "relative-state" / "ca.pem")
    assert values["REQUESTS_CA_BUNDLE"] == "UNSET"

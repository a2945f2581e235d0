"""The sandbox server: TLS, endpoint.json, request log and masking, test-control routes, faults, CLI."""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import signal
import socket
import ssl
import stat
import subprocess
import sys

import pytest
import requests

from sandbox.http import Response
from sandbox.requestlog import mask
from sandbox.server import Sandbox, load_entra_parts
from sandbox.tls import ensure_certificates

from .conftest import entra_parts, make_session

TESTS_DIR = pathlib.Path(__file__).resolve().parents[2]  # the folder that holds the sandbox package
SECRET = "Cl1ent~Secret~Value~0123456789abcdef"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def new_lines(box, before: int) -> list[dict]:
    return box.log.read()[before:]


# ---------------------------------------------------------------------------- TLS


def test_tls_with_the_sandbox_ca(fresh_sandbox, session):
    response = session.get(fresh_sandbox.url + "/_sandbox/health", timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    localhost_url = fresh_sandbox.url.replace("127.0.0.1", "localhost")
    assert session.get(localhost_url + "/_sandbox/health", timeout=10).status_code == 200


def test_tls_refused_without_the_ca(fresh_sandbox):
    with requests.Session() as plain:
        plain.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            plain.get(fresh_sandbox.url + "/_sandbox/health", timeout=10)
    # the server survives clients that give up during the handshake
    with make_session(fresh_sandbox.tls.ca_cert) as session:
        assert session.get(fresh_sandbox.url + "/_sandbox/health", timeout=10).status_code == 200


def _port(box) -> int:
    return int(box.url.rsplit(":", 1)[1])


def test_tls_1_2_accepted(fresh_sandbox):
    context = ssl.create_default_context(cafile=str(fresh_sandbox.tls.ca_cert))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    connection = http.client.HTTPSConnection("127.0.0.1", _port(fresh_sandbox), context=context, timeout=10)
    try:
        connection.request("GET", "/_sandbox/health")
        assert connection.getresponse().status == 200
        assert connection.sock.version() == "TLSv1.2"
    finally:
        connection.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_refused(fresh_sandbox):
    context = ssl.create_default_context(cafile=str(fresh_sandbox.tls.ca_cert))
    try:
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    connection = http.client.HTTPSConnection("127.0.0.1", _port(fresh_sandbox), context=context, timeout=10)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        connection.request("GET", "/_sandbox/health")
        connection.getresponse()
    connection.close()


def test_certificates_are_reused_while_valid(tmp_path):
    files = ensure_certificates(tmp_path)
    assert mode(files.ca_key) == 0o600 and mode(files.server_key) == 0o600
    ca, server = files.ca_cert.read_bytes(), files.server_cert.read_bytes()
    ensure_certificates(tmp_path)
    assert files.ca_cert.read_bytes() == ca and files.server_cert.read_bytes() == server
    files.server_key.write_text("garbage")
    ensure_certificates(tmp_path)
    assert files.ca_cert.read_bytes() == ca and files.server_cert.read_bytes() != server
    files.ca_cert.write_text("garbage")
    ensure_certificates(tmp_path)
    assert files.ca_cert.read_bytes() != ca


def test_keep_alive_and_content_length(fresh_sandbox):
    context = ssl.create_default_context(cafile=str(fresh_sandbox.tls.ca_cert))
    connection = http.client.HTTPSConnection("127.0.0.1", _port(fresh_sandbox), context=context, timeout=10)
    try:
        for _attempt in range(3):  # three requests on one connection
            connection.request("GET", "/_sandbox/health")
            response = connection.getresponse()
            payload = response.read()
            assert response.status == 200 and response.version == 11
            assert int(response.headers["Content-Length"]) == len(payload)
            assert not response.will_close
        headers = {"Authorization": "Bearer " + fresh_sandbox.endpoint["smarttrace_token"]}
        connection.request("DELETE", "/smarttrace/v1/instances/acme/integrations/azure-ad", headers=headers)
        response = connection.getresponse()
        assert response.status == 204 and response.read() == b"" and "Content-Length" not in response.headers
        connection.request("GET", "/_sandbox/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_chunked_request_body(fresh_sandbox, session):
    chunks = (part for part in (b'{"throttle_every": ', b"0, ", b'"retry_after": 3}'))
    response = session.post(fresh_sandbox.url + "/_sandbox/faults", data=chunks, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200 and response.json()["config"]["retry_after"] == 3


def test_unusable_request_framing(fresh_sandbox):
    context = ssl.create_default_context(cafile=str(fresh_sandbox.tls.ca_cert))
    connection = http.client.HTTPSConnection("127.0.0.1", _port(fresh_sandbox), context=context, timeout=10)
    try:
        connection.putrequest("POST", "/_sandbox/faults")
        connection.putheader("Content-Length", "-5")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400 and response.will_close and response.headers["request-id"]
        assert json.loads(response.read())["error"]["code"] == "bad_request"
    finally:
        connection.close()


# ---------------------------------------------------------------------------- endpoint.json


def test_endpoint_file(fresh_sandbox):
    path = fresh_sandbox.state_dir / "endpoint.json"
    assert mode(path) == 0o600
    endpoint = json.loads(path.read_text())
    url = fresh_sandbox.url
    assert url.startswith("https://127.0.0.1:")
    assert endpoint["url"] == endpoint["authority_url"] == endpoint["graph_url"] == url
    assert endpoint["smarttrace_url"] == url + "/smarttrace/v1"
    assert pathlib.Path(endpoint["ca"]) == fresh_sandbox.tls.ca_cert and pathlib.Path(endpoint["ca"]).is_file()
    for name in ("smarttrace_token", "smarttrace_username", "smarttrace_password", "tenant_id", "client_id", "client_secret"):
        assert isinstance(endpoint[name], str) and endpoint[name], name
    assert {"acme", "globex", "initech"} <= set(endpoint["instances"])
    assert endpoint["domains"]
    assert endpoint == json.loads(json.dumps(fresh_sandbox.endpoint))
    assert not [name for name in os.listdir(fresh_sandbox.state_dir) if name.endswith(".tmp")]


def test_stop_removes_endpoint_file_and_closes_connections(tmp_path):
    box = Sandbox(tmp_path / "state", entra=entra_parts()).start()
    url, endpoint_path = box.url, box.endpoint_path
    assert endpoint_path.is_file()
    with make_session(box.tls.ca_cert) as session:
        assert session.get(url + "/_sandbox/health", timeout=10).status_code == 200  # leaves a kept-alive connection
        box.stop()
        assert not endpoint_path.exists()
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(url + "/_sandbox/health", timeout=10)
    box.stop()  # idempotent


# ---------------------------------------------------------------------------- request log


def test_log_lines(fresh_sandbox, session):
    before = len(fresh_sandbox.log.read())
    session.get(fresh_sandbox.url + "/v1.0/applications", params={"$filter": "displayName eq 'st sso'", "$top": "5"},
                headers={"client-request-id": "c0ffee00-0000-4000-8000-000000000001", "Authorization": "Bearer GRAPH-TOKEN-123"}, timeout=10)
    token = fresh_sandbox.endpoint["smarttrace_token"]
    session.get(fresh_sandbox.endpoint["smarttrace_url"] + "/instances/acme/integrations/azure-ad",
                headers={"Authorization": "Bearer " + token}, timeout=10)
    graph, smarttrace = new_lines(fresh_sandbox, before)
    assert set(graph) >= {"time", "surface", "method", "path", "query", "body", "status", "client_request_id"}
    assert graph["surface"] == "graph" and graph["method"] == "GET" and graph["path"] == "/v1.0/applications"
    assert graph["query"] == {"$filter": "displayName eq 'st sso'", "$top": "5"}
    assert graph["client_request_id"] == "c0ffee00-0000-4000-8000-000000000001" and graph["body"] is None
    assert isinstance(graph["status"], int) and graph["time"].endswith("Z")
    assert smarttrace["surface"] == "smarttrace" and smarttrace["status"] == 200 and smarttrace["client_request_id"] is None
    text = fresh_sandbox.log_path.read_text()
    assert "GRAPH-TOKEN-123" not in text and token not in text and "uthorization" not in text
    assert mode(fresh_sandbox.log_path) == 0o600


def test_log_masks_json_bodies(fresh_sandbox, session):
    before = len(fresh_sandbox.log.read())
    user = {
        "accountEnabled": True, "displayName": "St Sso", "mailNickname": "stsso", "userPrincipalName": "st-sso@example.com",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "P@ssw0rd-Value-1"},
    }
    session.post(fresh_sandbox.url + "/v1.0/users", json=user, timeout=10)
    (entry,) = new_lines(fresh_sandbox, before)
    assert entry["body"]["passwordProfile"] == {"forceChangePasswordNextSignIn": True, "password": "***"}
    assert entry["body"]["displayName"] == "St Sso"
    assert "P@ssw0rd-Value-1" not in fresh_sandbox.log_path.read_text()


def test_log_masks_batch_sub_requests(fresh_sandbox, session):
    before = len(fresh_sandbox.log.read())
    batch = {"requests": [
        {"id": "1", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
         "body": {"displayName": "A", "passwordProfile": {"password": "Batch-Password-1"}}},
        {"id": "2", "method": "POST", "url": "/applications/abc/addPassword", "headers": {"Content-Type": "application/json"},
         "body": {"passwordCredential": {"displayName": "x", "secretText": "Batch-Secret-Text-2"}}, "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "/applications?$top=1"},
    ]}
    session.post(fresh_sandbox.url + "/v1.0/$batch", json=batch, timeout=10)
    (entry,) = new_lines(fresh_sandbox, before)
    assert entry["path"] == "/v1.0/$batch"
    logged = entry["body"]["requests"]
    assert logged[0]["body"]["passwordProfile"] == {"password": "***"}
    assert logged[1]["body"]["passwordCredential"] == {"displayName": "x", "secretText": "***"}
    assert logged[2] == batch["requests"][2]
    text = fresh_sandbox.log_path.read_text()
    assert "Batch-Password-1" not in text and "Batch-Secret-Text-2" not in text


def test_log_masks_form_bodies(fresh_sandbox, session):
    before = len(fresh_sandbox.log.read())
    tenant = fresh_sandbox.endpoint["tenant_id"]
    form = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": SECRET,
            "client_assertion": "eyJhbGciOiJQUzI1NiJ9.payload.signature", "scope": "https://graph.microsoft.com/.default"}
    session.post("%s/%s/oauth2/v2.0/token" % (fresh_sandbox.url, tenant), data=form, timeout=10)
    (entry,) = new_lines(fresh_sandbox, before)
    assert entry["surface"] == "login" and entry["path"] == "/%s/oauth2/v2.0/token" % tenant
    assert entry["body"] == dict(form, client_secret="***", client_assertion="***")
    text = fresh_sandbox.log_path.read_text()
    assert SECRET not in text and "payload.signature" not in text


def test_mask_keeps_shapes():
    body = {"password": {"nested": "kept"}, "secretText": ["kept"], "client_secret": None, "api_token": "gone",
            "smarttrace_token": "gone", "access_token": "gone", "refresh_token": "gone", "list": [{"password": "gone"}]}
    assert mask(body) == {"password": {"nested": "kept"}, "secretText": ["kept"], "client_secret": None, "api_token": "***",
                          "smarttrace_token": "***", "access_token": "***", "refresh_token": "***", "list": [{"password": "***"}]}
    assert body["api_token"] == "gone"  # a copy, not in place


def test_sandbox_routes_are_logged_as_sandbox(fresh_sandbox, session):
    before = len(fresh_sandbox.log.read())
    session.get(fresh_sandbox.url + "/_sandbox/health", timeout=10)
    assert [line["surface"] for line in new_lines(fresh_sandbox, before)] == ["sandbox"]


# ---------------------------------------------------------------------------- ids and errors


def test_request_ids(fresh_sandbox, session):
    response = session.get(fresh_sandbox.url + "/_sandbox/health", headers={"client-request-id": "my-id"}, timeout=10)
    assert response.headers["client-request-id"] == "my-id" and response.headers["request-id"]
    response = session.get(fresh_sandbox.url + "/_sandbox/health", timeout=10)
    assert response.headers["client-request-id"] == response.headers["request-id"]
    assert fresh_sandbox.log.read()[-1]["request_id"] == response.headers["request-id"]


def test_handler_exception_answers_500_envelopes(fresh_sandbox, session, monkeypatch, capsys):
    def explode(req):
        raise KeyError("boom with " + SECRET)

    monkeypatch.setattr(fresh_sandbox.graph, "handle", explode)
    response = session.post(fresh_sandbox.url + "/v1.0/applications", json={"client_secret": SECRET},
                            headers={"client-request-id": "cid-1", "Authorization": "Bearer Top-Secret-Bearer"}, timeout=10)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["innerError"]["client-request-id"] == "cid-1" and error["innerError"]["date"]
    err = capsys.readouterr().err
    assert "KeyError" in err and SECRET not in err and "Top-Secret-Bearer" not in err

    monkeypatch.setattr(fresh_sandbox.smarttrace, "handle", explode)
    response = session.get(fresh_sandbox.endpoint["smarttrace_url"] + "/anything", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": response.json()["error"]["message"], "field": None}}
    capsys.readouterr()


def test_invalid_json_bodies(fresh_sandbox, session):
    headers = {"Content-Type": "application/json"}
    response = session.post(fresh_sandbox.url + "/v1.0/applications", data=b"{oops", headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"
    response = session.post(fresh_sandbox.url + "/_sandbox/faults", data=b"{oops", headers=headers, timeout=10)
    assert response.status_code == 400
    assert fresh_sandbox.log.read()[-1]["body"] is None


# ---------------------------------------------------------------------------- test-control routes


def test_admin_state(fresh_sandbox, session):
    state = session.get(fresh_sandbox.url + "/_sandbox/state", timeout=10).json()
    assert set(state) == {"directory", "smarttrace", "faults"}
    assert state["faults"]["config"]["throttle_every"] == 0 and state["faults"]["injected"] == {"429": 0, "503": 0, "504": 0}
    assert set(state["smarttrace"]["instances"]) >= {"acme", "globex", "initech"}
    text = json.dumps(state)
    for name in ("smarttrace_token", "smarttrace_password", "client_secret"):
        assert fresh_sandbox.endpoint[name] not in text


def test_admin_faults(fresh_sandbox, session):
    url = fresh_sandbox.url + "/_sandbox/faults"
    response = session.post(url, json={"throttle_every": 4, "retry_after": 2, "replication_delay": 0.5}, timeout=10)
    assert response.status_code == 200
    config = response.json()["config"]
    assert (config["throttle_every"], config["retry_after"], config["replication_delay"]) == (4, 2, 0.5)
    assert fresh_sandbox.faults.config.throttle_every == 4
    response = session.post(url, json={"throttle_every": 1, "explode_every": 2}, timeout=10)
    assert response.status_code == 400 and "explode_every" in response.json()["error"]["message"]
    assert session.post(url, json={"throttle_every": "often"}, timeout=10).status_code == 400
    assert session.post(url, json=[1], timeout=10).status_code == 400
    assert fresh_sandbox.faults.config.throttle_every == 4  # a refused change changes nothing
    assert session.get(url, timeout=10).status_code == 405


def test_admin_reset_keeps_the_log(fresh_sandbox, session):
    session.post(fresh_sandbox.url + "/_sandbox/faults", json={"unavailable_every": 9}, timeout=10)
    lines = len(fresh_sandbox.log.read())
    response = session.post(fresh_sandbox.url + "/_sandbox/reset", timeout=10)
    assert response.status_code == 200
    assert fresh_sandbox.faults.config.unavailable_every == 0
    assert len(fresh_sandbox.log.read()) == lines + 1
    assert json.loads(fresh_sandbox.endpoint_path.read_text())["url"] == fresh_sandbox.url


def test_admin_directory_operations(fresh_sandbox, session, monkeypatch):
    calls = []

    def admin(op, body):
        calls.append((op, body))
        return Response(200, {"done": op})

    monkeypatch.setattr(fresh_sandbox.directory, "admin", admin)
    response = session.post(fresh_sandbox.url + "/_sandbox/directory/expire-secret", json={"keyId": "k"}, timeout=10)
    assert response.status_code == 200 and response.json() == {"done": "expire-secret"}
    assert calls == [("expire-secret", {"keyId": "k"})]
    assert session.get(fresh_sandbox.url + "/_sandbox/directory/expire-secret", timeout=10).status_code == 405


def test_admin_unknown_route(fresh_sandbox, session):
    response = session.get(fresh_sandbox.url + "/_sandbox/nothing", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


# ---------------------------------------------------------------------------- faults over HTTP


def test_throttle_every_nth_request(fresh_sandbox, session):
    session.post(fresh_sandbox.url + "/_sandbox/faults", json={"throttle_every": 3, "retry_after": 7}, timeout=10)
    statuses = [session.get(fresh_sandbox.url + "/v1.0/organization", timeout=10) for _number in range(6)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert [statuses.index(r) for r in throttled] == [2, 5]
    assert all(r.headers["Retry-After"] == "7" for r in throttled)
    body = throttled[0].json()["error"]
    assert body["code"] == "TooManyRequests" and body["innerError"]["request-id"] == throttled[0].headers["request-id"]
    faults = session.get(fresh_sandbox.url + "/_sandbox/state", timeout=10).json()["faults"]
    assert faults["injected"]["429"] == 2 and faults["requests"] == 6


def test_login_and_sandbox_requests_are_never_faulted(fresh_sandbox, session):
    fresh_sandbox.faults.configure({"throttle_every": 1, "unavailable_every": 1})
    tenant = fresh_sandbox.endpoint["tenant_id"]
    response = session.get("%s/%s/v2.0/.well-known/openid-configuration" % (fresh_sandbox.url, tenant), timeout=10)
    assert response.status_code not in (429, 503)
    assert session.get(fresh_sandbox.url + "/_sandbox/health", timeout=10).status_code == 200
    assert fresh_sandbox.faults.requests == 0


def test_unavailable_every_nth_request(fresh_sandbox, session):
    session.post(fresh_sandbox.url + "/_sandbox/faults", json={"unavailable_every": 2}, timeout=10)
    responses = [session.get(fresh_sandbox.url + "/v1.0/organization", timeout=10) for _number in range(4)]
    assert [r.status_code == 503 for r in responses] == [False, True, False, True]
    assert responses[1].headers["Retry-After"] == "1"  # the default
    assert responses[1].json()["error"]["code"] == "serviceNotAvailable"
    assert fresh_sandbox.faults.injected["503"] == 2


def test_timeout_after_a_completed_write(fresh_sandbox, session):
    session.post(fresh_sandbox.url + "/_sandbox/faults", json={"timeout_after_write_every": 1}, timeout=10)
    endpoint = fresh_sandbox.endpoint
    headers = {"Authorization": "Bearer " + endpoint["smarttrace_token"]}
    integration = endpoint["smarttrace_url"] + "/instances/globex/integrations/azure-ad"
    body = {"application_id": endpoint["client_id"], "tenant_id": endpoint["tenant_id"], "client_secret": SECRET}
    response = session.put(integration, json=body, headers=headers, timeout=10)
    assert response.status_code == 504 and response.json()["error"]["code"] == "internal"
    assert "Retry-After" not in response.headers
    current = session.get(integration, headers=headers, timeout=10)
    assert current.status_code == 200 and current.json()["client_secret_set"] is True  # the write was carried out
    refused = session.put(integration, json={}, headers=headers, timeout=10)
    assert refused.status_code == 422  # failed writes are not counted nor swapped
    assert fresh_sandbox.faults.injected["504"] == 1 and fresh_sandbox.faults.writes == 1


# ---------------------------------------------------------------------------- command line


def _cli_command(*flags: str) -> list[str]:
    """``python -m sandbox`` (through the stand-in Entra parts while the real ones cannot be imported)."""
    try:
        load_entra_parts()
    except ImportError:
        runner = ("import sys, sandbox.server as server; from sandbox.tests.standin import PARTS; "
                  "server.load_entra_parts = lambda: PARTS; from sandbox.__main__ import main; sys.exit(main(sys.argv[1:]))")
        return [sys.executable, "-c", runner, *flags]
    return [sys.executable, "-m", "sandbox", *flags]


def _cli_env(**extra: str) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SANDBOX_")}
    env["PYTHONPATH"] = str(TESTS_DIR)
    env.update(extra)
    return env


def test_cli_serves_until_sigterm(tmp_path):
    state = tmp_path / "state"
    command = _cli_command("--state", str(state), "--port", "0", "--throttle-every", "5", "--seed", "3")
    process = subprocess.Popen(command, env=_cli_env(SANDBOX_RETRY_AFTER="9", SANDBOX_THROTTLE_EVERY="2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        endpoint_path = state / "endpoint.json"
        assert "https://127.0.0.1:" in line and str(endpoint_path.resolve()) in line, line + process.stderr.read()
        assert mode(endpoint_path) == 0o600
        endpoint = json.loads(endpoint_path.read_text())
        assert endpoint["url"] in line and endpoint["pid"] == process.pid
        with make_session(endpoint["ca"]) as session:
            config = session.get(endpoint["url"] + "/_sandbox/state", timeout=10).json()["faults"]["config"]
        assert config["throttle_every"] == 5 and config["retry_after"] == 9 and config["seed"] == 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not endpoint_path.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_stops_on_sigint(tmp_path):
    process = subprocess.Popen(_cli_command("--state", str(tmp_path / "s")), env=_cli_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert "sandbox listening on" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def test_cli_rejects_a_bad_knob_from_the_environment(tmp_path):
    result = subprocess.run(_cli_command("--state", str(tmp_path / "s")), env=_cli_env(SANDBOX_THROTTLE_EVERY="often"),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "often" in result.stderr
    assert not (tmp_path / "s" / "endpoint.json").exists()


def test_cli_reports_a_busy_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(_cli_command("--state", str(tmp_path / "s"), "--port", str(port)), env=_cli_env(),
                                capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1 and "cannot listen on 127.0.0.1:%d" % port in result.stderr
    assert "Traceback" not in result.stderr

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentication: method selection, config resolution, msal flows against a fake login endpoint, retries, errors."""

import base64
import datetime
import json
import os
import sys
import threading
import time

import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.smarttrace.sso.plugins.module_utils._common import http as _http
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import (
    AuthConfig,
    TokenProvider,
    build_session,
    check_required,
    load_certificate_credential,
    select_auth_method,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import (
    CLIENT,
    LOGIN_ROOT,
    SECRET,
    TENANT,
    FakeClock,
    FakeLogin,
    Reply,
    mount,
)


def params(**overrides):
    values = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, client_certificate_path=None, client_certificate_password=None,
                  access_token=None, auth_method="auto", cloud="public", authority_url=LOGIN_ROOT, graph_url=None, validate_certs=True,
                  ca_path=None, timeout=30, token_cache=True)
    values.update(overrides)
    return values


def provider_for(login, clock=None, **overrides):
    """A TokenProvider in a fresh 'process': its own session and fake server."""
    session = build_session()
    server = mount(session, login)
    clock = clock or FakeClock()
    warnings = []
    provider = TokenProvider(AuthConfig(params(**overrides)), session, warn=warnings.append, sleep=clock.sleep, which=lambda name: None)
    return provider, server, clock, warnings


# ---------------------------------------------------------------------- selection and configuration
@pytest.mark.parametrize("given, expected", [
    (dict(access_token="tok"), "access_token"),
    (dict(), "client_secret"),
    (dict(client_secret=None, client_certificate_path="/c.pem"), "certificate"),
    (dict(client_secret="s", client_certificate_path="/c.pem"), "client_secret"),
    (dict(auth_method="managed_identity"), "managed_identity"),
    (dict(auth_method="azure_cli"), "azure_cli"),
])
def test_auto_picks_from_what_is_given(given, expected):
    assert select_auth_method(AuthConfig(params(**given)), which=lambda name: "/usr/bin/az", environ={}) == expected


def test_auto_uses_managed_identity_when_the_environment_announces_it():
    config = AuthConfig(params(client_secret=None))
    assert select_auth_method(config, which=lambda name: None, environ={"IDENTITY_ENDPOINT": "http://localhost:4141"}) == "managed_identity"


def test_auto_uses_az_only_when_nothing_else_is_given():
    config = AuthConfig(params(client_secret=None))
    assert select_auth_method(config, which=lambda name: "/usr/bin/az", environ={}) == "azure_cli"
    with pytest.raises(AuthenticationError) as caught:
        select_auth_method(config, which=lambda name: None, environ={})
    assert "no credential" in str(caught.value) and "AZURE_CLIENT_SECRET" in str(caught.value)


def test_missing_options_are_named_with_their_environment_variables():
    with pytest.raises(AuthenticationError) as caught:
        check_required(AuthConfig(params(tenant_id=None, client_id=None)), "client_secret")
    assert "tenant_id (or AZURE_TENANT_ID), client_id (or AZURE_CLIENT_ID)" in str(caught.value)
    check_required(AuthConfig(params(tenant_id=None, client_id=None, client_secret=None)), "managed_identity")


@pytest.mark.parametrize("cloud, authority, graph, scope", [
    ("public", "https://login.microsoftonline.com", "https://graph.microsoft.com", "https://graph.microsoft.com/.default"),
    ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us", "https://graph.microsoft.us/.default"),
    ("usgov_dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us", "https://dod-graph.microsoft.us/.default"),
    ("china", "https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"),
])
def test_cloud_defaults(cloud, authority, graph, scope):
    config = AuthConfig(params(cloud=cloud, authority_url=None))
    assert (config.authority, config.graph_root, config.scope) == ("%s/%s" % (authority, TENANT), graph, scope)


def test_overridden_urls_keep_the_cloud_scope():
    config = AuthConfig(params(authority_url="127.0.0.1:8443/", graph_url="https://127.0.0.1:8443/"))
    assert config.authority == "https://127.0.0.1:8443/" + TENANT
    assert config.graph_root == "https://127.0.0.1:8443"
    assert config.scope == "https://graph.microsoft.com/.default"
    assert AuthConfig(params(authority_url="https://login.example.test/" + TENANT)).authority == "https://login.example.test/" + TENANT


# ---------------------------------------------------------------------- session
def test_session_ignores_requests_ca_bundle_and_warns_when_not_verifying(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    session = build_session(True, str(ca), timeout=7)
    server = mount(session, lambda request: Reply(200, {}))
    session.get("https://graph.example.test/v1.0/users")
    assert server.send_options[0]["verify"] == str(ca) and server.send_options[0]["timeout"] == 7
    warnings = []
    assert build_session(False, warn=warnings.append).verify is False
    assert len(warnings) == 1 and "validate_certs is false" in warnings[0]
    assert build_session(True).verify is True


def test_session_still_uses_proxy_variables(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = build_session()
    server = mount(session, lambda request: Reply(200, {}))
    session.get("https://graph.microsoft.com/v1.0/users")
    session.get("https://127.0.0.1:8443/v1.0/users")
    assert server.send_options[0]["proxy"] == "http://proxy.example:3128"
    assert server.send_options[1]["proxy"] is None


# ---------------------------------------------------------------------- client secret and the persistent cache
def test_first_token_asks_once_then_cache_hit_makes_zero_requests():
    login = FakeLogin()
    provider, server, _clock, warnings = provider_for(login)
    token = provider()
    assert server.paths() == ["GET /%s/v2.0/.well-known/openid-configuration" % TENANT, "POST /%s/oauth2/v2.0/token" % TENANT]
    assert login.token_forms[0]["client_secret"] == SECRET and login.token_forms[0]["scope"] == "https://graph.microsoft.com/.default"
    assert provider() == token and len(server.requests) == 2  # in-process
    assert provider.source == "identity_provider" and provider.requests == 2

    for _task in range(5):  # later tasks of the playbook: new processes
        provider, server, _clock, warnings = provider_for(login)
        assert provider() == token
        assert server.requests == [] and provider.source == "cache" and provider.requests == 0
    assert login.issued == 1 and warnings == []


def test_cache_hit_needs_neither_msal_nor_requests(monkeypatch):
    login = FakeLogin()
    token = provider_for(login)[0]()
    monkeypatch.setitem(sys.modules, "msal", None)  # any import of msal fails from here on
    monkeypatch.setitem(sys.modules, "requests", None)
    provider, server, _clock, _warnings = provider_for(login)
    assert provider() == token and provider.source == "cache" and server.requests == []


def test_a_token_of_a_domain_named_tenant_is_found_in_the_cache():
    """msal files the token under the tenant's GUID (from the OpenID configuration), not under the name given as tenant_id."""
    login = FakeLogin(tenant=TENANT)
    domain = "contoso.onmicrosoft.com"

    def by_name(request):  # the OpenID configuration of the name points to the GUID's endpoints
        return login(type(request)(request.method, request.url.replace(domain, TENANT), request.body, request.headers))
    token = provider_for(by_name, tenant_id=domain)[0]()
    provider, server, _clock, _warnings = provider_for(by_name, tenant_id=domain)
    assert provider() == token and server.requests == [] and login.issued == 1


def test_cache_file_never_holds_the_secret():
    provider, _server, _clock, _warnings = provider_for(FakeLogin())
    provider()
    folder = os.environ["SMARTTRACE_SSO_TOKEN_CACHE_DIR"]
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            assert SECRET not in handle.read()


def test_token_expiring_within_five_minutes_is_refreshed():
    login = FakeLogin(expires_in=299)
    provider_for(login)[0]()
    provider, server, _clock, _warnings = provider_for(login)
    provider()
    assert login.issued == 2 and "POST /%s/oauth2/v2.0/token" % TENANT in server.paths()


def test_token_cache_off_asks_every_time():
    login = FakeLogin()
    provider_for(login, token_cache=False)[0]()
    provider_for(login, token_cache=False)[0]()
    assert login.issued == 2 and not os.path.exists(os.environ["SMARTTRACE_SSO_TOKEN_CACHE_DIR"])


def test_other_identity_does_not_get_the_cached_token():
    login = FakeLogin()
    provider_for(login)[0]()
    other = FakeLogin(tenant="99999999-2222-3333-4444-555555555555")
    provider, server, _clock, _warnings = provider_for(other, tenant_id=other.tenant)
    provider()
    assert other.issued == 1


def test_instance_discovery_off_only_for_non_microsoft_hosts(monkeypatch):
    seen = []

    class Spy(msal.ConfidentialClientApplication):
        def __init__(self, *args, **kwargs):
            seen.append(kwargs)
            super().__init__(*args, **kwargs)
    monkeypatch.setattr(msal, "ConfidentialClientApplication", Spy)
    provider_for(FakeLogin())[0]()
    provider_for(FakeLogin(root="https://login.microsoftonline.com"), authority_url=None)[0]()
    assert seen[0]["instance_discovery"] is False and "instance_discovery" not in seen[1]
    assert seen[1]["authority"] == "https://login.microsoftonline.com/" + TENANT


# ---------------------------------------------------------------------- errors and retries
def test_wrong_secret_gives_aadsts_code_and_fix_without_the_secret():
    description = ("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
                   "not the client secret ID, for a secret added to app '%s'.\r\nTrace ID: t\r\nCorrelation ID: corr-1\r\nTimestamp: 2026" % CLIENT)
    login = FakeLogin(token_replies=[Reply(401, {"error": "invalid_client", "error_description": description, "error_codes": [7000215],
                                                 "correlation_id": "corr-1"})])
    provider, _server, clock, _warnings = provider_for(login)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    error = caught.value
    assert error.aadsts == "7000215" and error.status == 401 and error.error == "invalid_client"
    assert "use the secret's Value, not its ID" in str(error) and "corr-1" in str(error)
    assert SECRET not in str(error) and SECRET not in json.dumps(error.to_dict())
    assert clock.sleeps == []


def test_unknown_tenant_at_discovery():
    def login(request):
        return Reply(400, {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '%s' not found." % TENANT, "error_codes": [90002]})
    provider, _server, _clock, _warnings = provider_for(login)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert caught.value.aadsts == "90002" and "check tenant_id" in str(caught.value)


def test_429_from_token_endpoint_is_retried_after_retry_after():
    login = FakeLogin(token_replies=[Reply(429, {"error": "temporarily_unavailable", "error_description": "slow down"}, {"Retry-After": "4"})])
    provider, server, clock, _warnings = provider_for(login)
    assert provider()
    assert clock.sleeps == [4.0] and login.issued == 1 and len(login.token_forms) == 2


def test_5xx_raised_by_msal_is_retried_with_backoff():
    login = FakeLogin(token_replies=[Reply(503, "busy"), Reply(500, "oops")])
    provider, _server, clock, _warnings = provider_for(login)
    assert provider()
    assert len(clock.sleeps) == 2 and len(login.token_forms) == 3


def test_discovery_5xx_is_retried():
    login = FakeLogin()
    replies = [Reply(503, "down", {"Retry-After": "2"})]

    def flaky(request):
        return replies.pop(0) if replies and request.method == "GET" else login(request)
    provider, _server, clock, _warnings = provider_for(flaky)
    assert provider()
    assert clock.sleeps == [2.0]


def test_retries_are_bounded():
    login = FakeLogin(token_replies=[Reply(503, "down", {"Retry-After": "25"})] * 10)
    provider, _server, clock, _warnings = provider_for(login)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert clock.sleeps == [25.0, 25.0] and "failed after 3 attempts" in str(caught.value)


def test_connection_errors_are_retried_then_reported():
    provider, server, clock, _warnings = provider_for(lambda request: _http.ConnectionFailed("refused"))
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert "cannot connect" in str(caught.value) and len(server.requests) == 6 and len(clock.sleeps) == 5


def test_a_certificate_that_does_not_verify_fails_at_once_naming_ca_path():
    provider, server, clock, _warnings = provider_for(lambda request: _http.TLSError("certificate verify failed"))
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert "the TLS certificate of %s does not verify" % LOGIN_ROOT in str(caught.value)
    assert "in ca_path" in str(caught.value) and len(server.requests) == 1 and clock.sleeps == []


# ---------------------------------------------------------------------- certificates
@pytest.fixture(scope="module")
def certificate_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ansible-automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = folder / "automation.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"pem-pass"))
                    + certificate.public_bytes(serialization.Encoding.PEM))
    pfx = folder / "automation.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"a", key, certificate, None, serialization.BestAvailableEncryption(b"pfx-pass")))
    return {"pem": str(pem), "pfx": str(pfx)}


def jwt_header(assertion):
    head = assertion.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


@pytest.mark.parametrize("kind, password", [("pem", "pem-pass"), ("pfx", "pfx-pass")])
def test_certificate_flow_sends_a_signed_assertion(certificate_files, kind, password):
    login = FakeLogin()
    provider, _server, _clock, _warnings = provider_for(login, client_secret=None, client_certificate_path=certificate_files[kind],
                                                        client_certificate_password=password)
    assert provider.method == "certificate"
    provider()
    form = login.token_forms[0]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header = jwt_header(form["client_assertion"])
    assert header["alg"] == "PS256" and "x5t#S256" in header


@pytest.mark.parametrize("kind", ["pem", "pfx"])
def test_wrong_certificate_password_is_reported_without_it(certificate_files, kind):
    with pytest.raises(AuthenticationError) as caught:
        load_certificate_credential(certificate_files[kind], "not-the-password")
    assert "wrong client_certificate_password" in str(caught.value) and "not-the-password" not in str(caught.value)


def test_password_meant_for_a_pfx_does_not_break_an_unencrypted_pem(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plain")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(2)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    plain = tmp_path / "plain.pem"
    plain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM)
                      + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    assert sorted(load_certificate_credential(str(plain), "pfx-password-from-the-environment")) == ["private_key", "public_certificate"]


def test_pem_without_certificate_is_explained(tmp_path, certificate_files):
    key_only = tmp_path / "key.pem"
    key_only.write_bytes(open(certificate_files["pem"], "rb").read().split(b"-----BEGIN CERTIFICATE")[0])
    with pytest.raises(AuthenticationError) as caught:
        load_certificate_credential(str(key_only), "pem-pass")
    assert "certificate is missing" in str(caught.value) and "BEGIN" not in str(caught.value)


def test_unreadable_certificate_path():
    with pytest.raises(AuthenticationError) as caught:
        load_certificate_credential("/nonexistent/cert.pem")
    assert "cannot read client_certificate_path" in str(caught.value)


# ---------------------------------------------------------------------- managed identity, az, given token
def imds(request):
    assert request.url.startswith("http://169.254.169.254/metadata/identity/oauth2/token")
    assert request.headers.get("Metadata") == "true"
    return Reply(200, {"access_token": "mi-token", "expires_in": "3599", "token_type": "Bearer", "resource": "https://graph.microsoft.com"})


def test_managed_identity_system_assigned_and_cached():
    provider, server, _clock, _warnings = provider_for(imds, auth_method="managed_identity", client_id=None, tenant_id=None, client_secret=None)
    assert provider() == "mi-token"
    assert "resource=https%3A%2F%2Fgraph.microsoft.com" in server.requests[0].url and "client_id" not in server.requests[0].url
    provider, server, _clock, _warnings = provider_for(imds, auth_method="managed_identity", client_id=None, tenant_id=None, client_secret=None)
    assert provider() == "mi-token" and server.requests == [] and provider.source == "cache"


def test_managed_identity_user_assigned():
    provider, server, _clock, _warnings = provider_for(imds, auth_method="managed_identity", client_secret=None)
    provider()
    assert "client_id=" + CLIENT in server.requests[0].url


def test_managed_identity_unreachable_fails_fast():
    provider, server, clock, _warnings = provider_for(lambda request: _http.ConnectTimeout("no imds"), auth_method="managed_identity", client_secret=None)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert "managed identity" in str(caught.value) and len(server.requests) == 1 and clock.sleeps == []


def az_provider(run_command, tenant_id=TENANT):
    config = AuthConfig(params(auth_method="azure_cli", client_secret=None, tenant_id=tenant_id, authority_url=None))
    return TokenProvider(config, build_session(), which=lambda name: "/usr/bin/az", run_command=run_command)


def test_azure_cli_token():
    commands = []

    def run(command, timeout):
        commands.append(command)
        return 0, json.dumps({"accessToken": "az-token", "expires_on": 4102444800, "tokenType": "Bearer"}), ""
    provider = az_provider(run)
    assert provider() == "az-token" and provider() == "az-token"
    assert commands == [["/usr/bin/az", "account", "get-access-token", "--resource", "https://graph.microsoft.com", "--output", "json", "--tenant", TENANT]]
    assert provider.source == "azure_cli"


def test_azure_cli_failure_says_what_to_do():
    provider = az_provider(lambda command, timeout: (1, "", "ERROR: Please run 'az login' to setup account.\nmore"))
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert "Please run 'az login'" in str(caught.value) and "az login --tenant %s" % TENANT in str(caught.value)


def test_given_access_token_is_used_as_is():
    provider, server, _clock, _warnings = provider_for(FakeLogin(), access_token="given-token")
    assert provider() == "given-token" and server.requests == [] and provider.source == "given"


class RealTime:
    """Wall-clock time, for the one test where processes really wait for each other."""

    def __call__(self):
        return time.time()

    @staticmethod
    def sleep(seconds):
        time.sleep(seconds)


def test_forks_starting_together_ask_the_token_endpoint_once():
    login = FakeLogin()

    def slow_login(request):  # the token endpoint takes a while, as a real one does
        if request.method == "POST":
            time.sleep(0.3)
        return login(request)

    providers = [provider_for(slow_login, clock=RealTime())[0] for _fork in range(5)]
    start = threading.Barrier(len(providers))
    tokens = []

    def first_task(provider):
        start.wait()
        tokens.append(provider())

    threads = [threading.Thread(target=first_task, args=(provider,)) for provider in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(tokens) == 5 and len(set(tokens)) == 1
    assert login.issued == 1
    assert sorted(provider.source for provider in providers) == ["cache"] * 4 + ["identity_provider"]


def test_service_fabric_gets_a_requests_session_that_ignores_the_environment():
    """msal pins Service Fabric's certificate on a requests.Session only; elsewhere managed identity uses the own session."""
    import requests
    provider, _server, _clock, _warnings = provider_for(FakeLogin(), auth_method="managed_identity", client_secret=None)
    assert provider._managed_identity_http_client({"IDENTITY_ENDPOINT": "https://sf:2377", "IDENTITY_HEADER": "h"}) is provider.session
    session = provider._managed_identity_http_client({"IDENTITY_ENDPOINT": "https://sf:2377", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "ab"})
    assert isinstance(session, requests.Session) and session.trust_env is False and session.hooks["response"]


# ---------------------------------------------------------------------- the cache is bound to the credential
def wrong_secret_login():
    return Reply(401, {"error": "invalid_client", "error_codes": [7000215],
                       "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                                            "the client secret value, not the client secret ID."})


def test_a_wrong_secret_is_refused_at_once_despite_a_cached_token():
    login = FakeLogin()
    token = provider_for(login)[0]()
    login.token_replies.append(wrong_secret_login())
    provider, server, _clock, warnings = provider_for(login, client_secret="wrong-" + SECRET)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert caught.value.aadsts == "7000215" and "the client secret is wrong" in str(caught.value)
    assert "POST /%s/oauth2/v2.0/token" % TENANT in server.paths() and login.token_forms[-1]["client_secret"] == "wrong-" + SECRET
    assert warnings == [] and "wrong-" + SECRET not in str(caught.value)
    # the right secret still finds its token: the failed attempt wrote nothing
    provider, server, _clock, _warnings = provider_for(login)
    assert provider() == token and provider.source == "cache" and server.requests == []


def test_a_rotated_secret_gets_a_new_token_and_rebinds_the_cache():
    login = FakeLogin()
    old = provider_for(login)[0]()
    provider, server, _clock, _warnings = provider_for(login, client_secret="rotated-" + SECRET)
    new = provider()
    assert new != old and provider.source == "identity_provider" and login.issued == 2
    provider, server, _clock, _warnings = provider_for(login, client_secret="rotated-" + SECRET)
    assert provider() == new and server.requests == []
    provider, server, _clock, _warnings = provider_for(login)  # the old secret no longer matches the file
    assert provider() not in (old, new) and login.issued == 3


def test_the_cache_file_holds_a_salted_fingerprint_never_the_secret_or_its_plain_hash():
    import hashlib
    provider_for(FakeLogin())[0]()
    folder = os.environ["SMARTTRACE_SSO_TOKEN_CACHE_DIR"]
    (name,) = [name for name in os.listdir(folder) if name.endswith(".json")]
    text = open(os.path.join(folder, name), encoding="utf-8").read()
    binding = json.loads(text)["SmartTraceSsoCredential"]["credential"]
    assert len(bytes.fromhex(binding["salt"])) == 16 and len(binding["hmac"]) == 64
    for secret_form in (SECRET, hashlib.sha256(SECRET.encode()).hexdigest(), base64.b64encode(SECRET.encode()).decode()):
        assert secret_form not in text


def test_a_cache_hit_with_the_right_secret_still_needs_neither_msal_nor_requests(monkeypatch):
    login = FakeLogin()
    token = provider_for(login)[0]()
    monkeypatch.setitem(sys.modules, "msal", None)
    monkeypatch.setitem(sys.modules, "requests", None)
    provider, server, _clock, _warnings = provider_for(login)
    assert provider() == token and provider.source == "cache" and server.requests == []
    provider, server, _clock, _warnings = provider_for(login, client_secret="other-" + SECRET)
    with pytest.raises(AuthenticationError, match="msal"):  # not the cached token: msal is needed to ask the endpoint
        provider()


@pytest.mark.parametrize("change", ["password", "file"])
def test_a_changed_certificate_or_password_does_not_use_the_cached_token(certificate_files, tmp_path, change):
    login = FakeLogin()
    pem = tmp_path / "automation.pem"
    pem.write_bytes(open(certificate_files["pem"], "rb").read())
    options = dict(client_secret=None, client_certificate_path=str(pem), client_certificate_password="pem-pass")
    token = provider_for(login, **options)[0]()
    provider, server, _clock, _warnings = provider_for(login, **options)
    assert provider() == token and server.requests == []
    if change == "password":
        options["client_certificate_password"] = "not-the-password"
        with pytest.raises(AuthenticationError, match="wrong client_certificate_password"):
            provider_for(login, **options)[0]()
    else:
        pem.write_bytes(open(certificate_files["pfx"], "rb").read())
        options["client_certificate_password"] = "pfx-pass"
        assert provider_for(login, **options)[0]() != token and login.issued == 2


@pytest.mark.parametrize("tenant", ["contoso!", "x/../common", "a?b=c", "t#x", " space", "-dash"])
def test_a_tenant_id_that_is_no_guid_or_domain_never_reaches_a_url(tenant):
    login = FakeLogin()
    with pytest.raises(AuthenticationError) as caught:
        provider_for(login, tenant_id=tenant)
    assert login.token_forms == [] and "tenant_id %r is neither a tenant ID (a GUID) nor a domain name" % tenant in str(caught.value)
    for good in (TENANT, "contoso.onmicrosoft.com", "organizations"):
        check_required(AuthConfig(params(tenant_id=good)), "client_secret")

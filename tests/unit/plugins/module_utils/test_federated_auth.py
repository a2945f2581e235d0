# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method federated: selection, the token file (read at every request, errors without its content), the cache binding."""

import base64
import json
import os

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import (
    AuthConfig,
    TokenProvider,
    build_session,
    check_required,
    entra_argument_spec,
    federated_claims,
    read_federated_token,
    select_auth_method,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import CLIENT, LOGIN_ROOT, TENANT, FakeClock, FakeLogin, Reply, mount


def jwt_for(sub="repo:acme/sso:environment:prod", iss="https://token.ci.example", aud="api://AzureADTokenExchange", jti="1"):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (part({"alg": "RS256", "typ": "JWT"}), part({"iss": iss, "sub": sub, "aud": aud, "jti": jti}), "c2lnbmF0dXJl" + jti)


def params(token_file, **overrides):
    values = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=None, client_certificate_path=None, client_certificate_password=None,
                  federated_token_file=str(token_file), access_token=None, auth_method="auto", cloud="public", authority_url=LOGIN_ROOT,
                  graph_url=None, validate_certs=True, ca_path=None, timeout=30, token_cache=True)
    values.update(overrides)
    return values


def provider_for(login, token_file, **overrides):
    session = build_session()
    server = mount(session, login)
    clock = FakeClock()
    return TokenProvider(AuthConfig(params(token_file, **overrides)), session, sleep=clock.sleep, which=lambda name: None), server


@pytest.fixture()
def token_file(tmp_path):
    path = tmp_path / "azure-identity-token"
    path.write_text(jwt_for() + "\n")
    return path


def test_option_falls_back_to_azure_federated_token_file():
    spec = entra_argument_spec()["federated_token_file"]
    assert spec["type"] == "path" and spec["fallback"][1] == ["AZURE_FEDERATED_TOKEN_FILE"]
    assert "federated" in entra_argument_spec()["auth_method"]["choices"]


@pytest.mark.parametrize("overrides, expected", [
    (dict(), "federated"),
    (dict(client_secret="s"), "client_secret"),  # explicit secrets and certificates come first, as in azure-identity
    (dict(client_certificate_path="/c.pem"), "certificate"),
    (dict(federated_token_file=None, auth_method="federated"), "federated"),
])
def test_auto_picks_federated_when_a_token_file_is_given(token_file, overrides, expected):
    assert select_auth_method(AuthConfig(params(token_file, **overrides)), which=lambda name: None, environ={}) == expected


def test_federated_needs_tenant_client_and_file(token_file):
    config = AuthConfig(params(token_file, tenant_id=None, federated_token_file=None, auth_method="federated"))
    with pytest.raises(AuthenticationError) as caught:
        check_required(config, "federated")
    assert "tenant_id (or AZURE_TENANT_ID)" in str(caught.value) and "federated_token_file (or AZURE_FEDERATED_TOKEN_FILE)" in str(caught.value)


@pytest.mark.parametrize("content", ["", "not a token", '{"token": "x"}', "-----BEGIN CERTIFICATE-----\nabc\n"])
def test_a_file_without_a_jwt_is_named_without_its_content(tmp_path, content):
    path = tmp_path / "token"
    path.write_text(content)
    with pytest.raises(AuthenticationError) as caught:
        read_federated_token(str(path))
    assert "federated_token_file %s does not hold a JSON Web Token" % path in str(caught.value)
    assert (content.strip() or "@@") not in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(AuthenticationError) as caught:
        read_federated_token(str(tmp_path / "absent"))
    assert "cannot read federated_token_file" in str(caught.value) and "AZURE_FEDERATED_TOKEN_FILE" in str(caught.value)


def test_token_is_sent_as_client_assertion_and_never_stored(token_file):
    login = FakeLogin()
    provider, server = provider_for(login, token_file)
    provider()
    form = login.token_forms[0]
    assert form["client_assertion"] == jwt_for() and form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form and provider.method == "federated"
    folder = os.environ["SMARTTRACE_SSO_TOKEN_CACHE_DIR"]
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            text = handle.read()
        assert jwt_for() not in text and jwt_for().split(".")[1] not in text and "repo:acme" not in text


def test_rotated_token_file_is_read_again_and_same_job_keeps_the_cache(token_file):
    login = FakeLogin()
    provider_for(login, token_file)[0]()
    token_file.write_text(jwt_for(jti="2"))  # the platform rotated the file: same issuer, subject, audience
    provider, server = provider_for(login, token_file)
    provider()
    assert server.requests == [] and provider.source == "cache" and login.issued == 1
    token_file.write_text(jwt_for(sub="repo:acme/sso:environment:test", jti="3"))  # another job: the cache is not its
    provider, server = provider_for(login, token_file)
    provider()
    assert login.issued == 2 and login.token_forms[-1]["client_assertion"] == jwt_for(sub="repo:acme/sso:environment:test", jti="3")


def test_without_cache_every_request_reads_the_file_anew(token_file):
    login = FakeLogin()
    provider, _server = provider_for(login, token_file, token_cache=False)
    provider()
    token_file.write_text(jwt_for(jti="9"))
    provider_for(login, token_file, token_cache=False)[0]()
    assert [form["client_assertion"] for form in login.token_forms] == [jwt_for(), jwt_for(jti="9")]


@pytest.mark.parametrize("code, words", [
    (70021, "no federated identity credential of client_id matches"),
    (700211, "issuer"),
    (700212, "api://AzureADTokenExchange"),
    (700213, "case-sensitive"),
    (700024, "write a fresh one to federated_token_file"),
])
def test_aadsts_codes_of_federation_get_their_fix(token_file, code, words):
    description = "AADSTS%d: No matching federated identity record found.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026" % code
    login = FakeLogin(token_replies=[Reply(400, {"error": "invalid_client", "error_description": description, "error_codes": [code]})])
    provider, _server = provider_for(login, token_file)
    with pytest.raises(AuthenticationError) as caught:
        provider()
    assert caught.value.aadsts == str(code) and words in str(caught.value) and jwt_for() not in str(caught.value)


def test_a_bad_file_fails_before_any_request(tmp_path):
    path = tmp_path / "token"
    path.write_text("garbage")
    login = FakeLogin()
    provider, server = provider_for(login, path)
    with pytest.raises(AuthenticationError):
        provider()
    assert server.requests == []


def test_claims_binding_ignores_the_signature_and_order():
    assert federated_claims(jwt_for(jti="1")) == federated_claims(jwt_for(jti="2"))
    assert federated_claims(jwt_for(aud=["b", "a"])) == federated_claims(jwt_for(aud=["a", "b"]))
    assert federated_claims(jwt_for(iss="https://other")) != federated_claims(jwt_for())
    assert federated_claims("a.b.c") is None

# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_errors: secret masking, readable messages, structured fail_json fields."""

import json

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError, GraphError, aadsts_code, mask_secrets, to_fail_kwargs

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize("text, leaked", [
    ("Authorization: Bearer %s" % JWT, JWT),
    ("token %s in a message" % JWT, JWT),
    ("client_secret=abcDEF123~xyz&grant_type=client_credentials", "abcDEF123~xyz"),
    ('{"secretText": "Zq8Q~verySecret", "keyId": "1"}', "Zq8Q~verySecret"),
    ("password: hunter2hunter2", "hunter2hunter2"),
])
def test_mask_secrets(text, leaked):
    masked = mask_secrets(text)
    assert leaked not in masked and "********" in masked


def test_mask_keeps_ordinary_text():
    assert mask_secrets("Resource 'abc' does not exist.") == "Resource 'abc' does not exist."
    assert mask_secrets(None) is None


def test_graph_error_reads_well_and_masks():
    error = GraphError.from_response(401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired: Bearer %s" % JWT,
                                                     "innerError": {"request-id": "r-1", "client-request-id": "c-1"}}},
                                     method="GET", url="https://graph.microsoft.com/v1.0/applications")
    text = str(error)
    assert text.startswith("Microsoft Graph GET https://graph.microsoft.com/v1.0/applications failed (HTTP 401, InvalidAuthenticationToken)")
    assert "[request-id: r-1, client-request-id: c-1]" in text and JWT not in text
    kwargs = to_fail_kwargs(error)
    assert kwargs["msg"] == text and kwargs["graph_error"]["status"] == 401 and JWT not in json.dumps(kwargs)


def test_graph_error_without_response():
    error = GraphError("no response from Microsoft Graph (ReadTimeout)", code="ReadTimeout", method="POST", url="https://g/v1.0/users")
    assert "(no response, ReadTimeout)" in str(error) and error.status is None


def test_graph_error_from_empty_body():
    error = GraphError.from_response(503, b"", {"Request-Id": "hdr"})
    assert error.request_id == "hdr" and "HTTP 503 without an error message" in str(error)


@pytest.mark.parametrize("code, fix", [
    ("7000215", "use the secret's Value, not its ID"),
    ("7000222", "expired"),
    ("700016", "not registered in this tenant"),
    ("90002", "tenant does not exist"),
    ("700027", "certificate is not registered"),
])
def test_authentication_error_explains_the_fix(code, fix):
    error = AuthenticationError.from_token_response({"error": "invalid_client", "error_description": "AADSTS%s: Something.\r\nTrace ID: t" % code,
                                                     "correlation_id": "corr"}, status=401)
    assert error.aadsts == code and fix in str(error) and "Trace ID" not in str(error)
    kwargs = to_fail_kwargs(error)
    assert kwargs["auth_error"]["aadsts"] == code and kwargs["auth_error"]["hint"] and "corr" in kwargs["msg"]


def test_unexpected_errors_are_masked_too():
    assert to_fail_kwargs(ValueError("bad Bearer %s" % JWT)) == {"msg": "ValueError: bad Bearer ********"}


@pytest.mark.parametrize("text, code", [
    ("AADSTS7000215: Invalid client secret provided.", "7000215"),
    ("The test failed: AADSTS700016: Application not found", "700016"),
    ("invalid client secret", None), ("", None), (None, None),
])
def test_the_one_place_that_reads_an_aadsts_code_from_text(text, code):
    assert aadsts_code(text) == code


def test_error_codes_win_over_the_text():
    error = AuthenticationError.from_token_response({"error": "invalid_client", "error_codes": [7000222],
                                                     "error_description": "AADSTS7000215: words that disagree"})
    assert error.aadsts == "7000222"

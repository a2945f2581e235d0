# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability and security details found by the reliability suite (docs/reliability.md)."""

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._graph.auth import build_session
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import AuthenticationError, GraphError, graph_permission_needed

DENIED = b'{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}}'


@pytest.mark.parametrize("method, path, permission", [
    ("PATCH", "/v1.0/applications(uniqueName='x')", "Application.ReadWrite.OwnedBy (or Application.ReadWrite.All)"),
    ("POST", "/v1.0/applications/1/addPassword", "Application.ReadWrite.OwnedBy (or Application.ReadWrite.All)"),
    ("GET", "/v1.0/servicePrincipals?$filter=x", "Application.Read.All"),
    ("POST", "/v1.0/servicePrincipals/1/appRoleAssignedTo", "AppRoleAssignment.ReadWrite.All"),
    ("POST", "/v1.0/users", "User.ReadWrite.All"),
    ("GET", "/v1.0/groups?$filter=x", "Group.Read.All"),
    ("GET", "/v1.0/organization", None),
])
def test_permission_of_a_request(method, path, permission):
    assert graph_permission_needed(method, "https://graph.microsoft.com" + path) == permission


def test_403_names_the_permission_and_the_fix():
    error = GraphError.from_response(403, DENIED, method="PATCH", url="https://graph.microsoft.com/v1.0/applications(uniqueName='x')")
    text = str(error)
    assert "lacks the Microsoft Graph application permission Application.ReadWrite.OwnedBy" in text
    assert "grant it with admin consent" in text


def test_other_403_and_other_errors_get_no_permission_advice():
    other = GraphError.from_response(403, b'{"error": {"code": "CannotDeleteOrUpdateEnabledEntitlement", "message": "no"}}',
                                     method="PATCH", url="https://graph.microsoft.com/v1.0/applications/1")
    missing = GraphError.from_response(404, b'{"error": {"code": "Request_ResourceNotFound", "message": "no"}}',
                                       method="GET", url="https://graph.microsoft.com/v1.0/applications/1")
    assert "lacks" not in str(other) and "lacks" not in str(missing)


def test_ca_path_that_is_not_a_file_is_named(tmp_path):
    with pytest.raises(AuthenticationError) as caught:
        build_session(True, str(tmp_path / "missing.pem"))
    assert "ca_path %s is not a file" % (tmp_path / "missing.pem") in str(caught.value)
    assert "give the PEM file" in str(caught.value)


def test_verification_is_on_by_default_and_off_only_with_a_warning(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    warnings = []
    assert build_session().verify is True
    assert build_session(True, str(ca)).verify == str(ca)
    assert build_session(False, str(ca), warn=warnings.append).verify is False
    assert len(warnings) == 1 and "validate_certs is false" in warnings[0] and "ca_path" in warnings[0]

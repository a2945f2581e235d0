"""The tenant's app management policy: a client secret longer than its max lifetime is refused (contract section 3)."""
from __future__ import annotations

import pytest

from sandbox.directory import iso

from .entra_helpers import Tenant


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def add_password(tenant, app, days):
    end = tenant.directory.now() + days * 86400
    return tenant.call("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {"displayName": "s", "endDateTime": iso(end)}})


def test_no_policy_no_limit_and_a_policy_refuses_longer_secrets(tenant):
    app = tenant.new_app()
    assert add_password(tenant, app, 3650).status == 200
    assert tenant.directory.admin("set-app-management-policy", {"password_max_lifetime_days": 90}).body == {"password_max_lifetime_days": 90}
    assert add_password(tenant, app, 90).status == 200
    refused = add_password(tenant, app, 91)
    assert refused.status == 400
    assert refused.body["error"]["code"] == "CredentialInvalidLifetimeAsPerAppPolicy"
    assert refused.body["error"]["message"].startswith("Credential lifetime exceeds the max value allowed as per assigned policy")
    assert len(tenant.ok("GET", "/applications/%s" % app["id"])["passwordCredentials"]) == 2
    tenant.directory.admin("set-app-management-policy", {"password_max_lifetime_days": None})
    assert add_password(tenant, app, 400).status == 200


def test_policy_is_reset_with_the_tenant_and_validated(tenant):
    tenant.directory.admin("set-app-management-policy", {"password_max_lifetime_days": 30})
    tenant.directory.reset()
    assert tenant.directory.password_max_lifetime_days is None
    for bad in (0, -1, "90", True):
        assert tenant.directory.admin("set-app-management-policy", {"password_max_lifetime_days": bad}).status == 400

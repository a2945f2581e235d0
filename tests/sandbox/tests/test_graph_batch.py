"""JSON batching: envelope rules, dependsOn and 424, per-item faults (429, 503, 504 after the write)."""
from __future__ import annotations

import pytest

from .entra_helpers import Tenant

JSON = {"Content-Type": "application/json"}


@pytest.fixture(name="tenant")
def fixture_tenant(tmp_path):
    return Tenant(tmp_path)


def _by_id(body: dict) -> dict:
    return {item["id"]: item for item in body["responses"]}


def test_batch_runs_each_request_and_answers_200(tenant):
    requests = [
        {"id": "1", "method": "GET", "url": "/organization?$select=id,displayName"},
        {"id": "2", "method": "POST", "url": "/applications", "headers": JSON, "body": {"displayName": "Batched"}},
        {"id": "3", "method": "GET", "url": "applications?$filter=displayName eq 'Batched'", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/applications/not-a-guid"},
        {"id": "5", "method": "GET", "url": "/users?$filter=endswith(mail,'.com')&$count=true", "headers": {"ConsistencyLevel": "eventual"}},
    ]
    response = tenant.call("POST", "/$batch", {"requests": requests})
    assert response.status == 200
    items = _by_id(response.body)
    assert sorted(items) == ["1", "2", "3", "4", "5"]
    assert items["1"]["status"] == 200 and items["1"]["body"]["value"][0]["displayName"] == "Contoso"
    assert items["2"]["status"] == 201 and items["2"]["headers"]["Location"].endswith("Microsoft.DirectoryServices.Application")
    assert [a["displayName"] for a in items["3"]["body"]["value"]] == ["Batched"]
    assert items["4"]["status"] == 400 and items["4"]["body"]["error"]["innerError"]["request-id"]
    assert items["5"]["status"] == 200 and items["5"]["body"]["@odata.count"] == 4


def test_failed_dependency_is_424_and_skips_the_request(tenant):
    requests = [
        {"id": "a", "method": "POST", "url": "/applications", "headers": JSON, "body": {"displayName": ""}},
        {"id": "b", "method": "POST", "url": "/applications", "headers": JSON, "body": {"displayName": "Never"}, "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": "/domains", "dependsOn": ["b"]},
    ]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert items["a"]["status"] == 400
    assert items["b"]["status"] == 424 and items["c"]["status"] == 424
    assert tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'Never'"})["value"] == []


def test_depends_on_runs_dependencies_first_whatever_the_order(tenant):
    requests = [
        {"id": "2", "method": "GET", "url": "/applications?$filter=displayName eq 'First'", "dependsOn": ["1"]},
        {"id": "1", "method": "POST", "url": "/applications", "headers": JSON, "body": {"displayName": "First"}},
    ]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert len(items["2"]["body"]["value"]) == 1


@pytest.mark.parametrize("body, message", [
    ({"requests": [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)]}, "exceeds the allowed limit of 20"),
    ({"requests": [{"id": "1", "method": "GET", "url": "/domains"}, {"id": "1", "method": "GET", "url": "/domains"}]}, "duplicate request id '1'"),
    ({"requests": [{"id": "1", "method": "POST", "url": "/applications", "body": {"displayName": "x"}}]},
     "Write request id : 1 does not contain Content-Type header or body."),
    ({"requests": [{"id": "1", "method": "GET", "url": "/domains", "dependsOn": ["9"]}]}, "depends on a request id that is not in the batch"),
    ({"requests": [{"id": "1", "method": "GET", "url": "/domains", "dependsOn": ["2"]},
                   {"id": "2", "method": "GET", "url": "/domains", "dependsOn": ["1"]}]}, "circular"),
    ({"requests": [{"id": 1, "method": "GET", "url": "/domains"}]}, "Invalid batch payload format"),
    ({"requests": []}, "Invalid batch payload format"),
    ({"batch": []}, "Invalid batch payload format"),
    ({"requests": [{"id": "1", "method": "GET", "url": "/domains", "extra": 1}]}, "Invalid batch payload format"),
])
def test_malformed_batches_are_400(tenant, body, message):
    error = tenant.fails(400, "POST", "/$batch", body)
    assert message in error["message"]


def test_absolute_or_versioned_urls_fail_the_item(tenant):
    requests = [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"},
                {"id": "2", "method": "GET", "url": "/v1.0/users"},
                {"id": "3", "method": "GET", "url": "/$batch"},
                {"id": "4", "method": "HEAD", "url": "/users"}]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert [items[i]["status"] for i in "1234"] == [400, 400, 400, 400]


def test_batch_needs_a_token_and_post(tenant):
    tenant.fails(401, "POST", "/$batch", {"requests": [{"id": "1", "method": "GET", "url": "/domains"}]}, token=None)
    tenant.fails(405, "GET", "/$batch")
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": [{"id": "1", "method": "GET", "url": "/users"}]}, status=200,
                             token=tenant.limited_token()))
    assert items["1"]["status"] == 403


def test_throttling_inside_a_batch_answers_429_per_item(tmp_path):
    tenant = Tenant(tmp_path, throttle_every=2, retry_after=7)
    requests = [{"id": str(i), "method": "GET", "url": "/domains"} for i in range(1, 5)]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert [items[str(i)]["status"] for i in range(1, 5)] == [200, 429, 200, 429]
    throttled = items["2"]
    assert throttled["headers"]["Retry-After"] == "7"
    assert throttled["body"]["error"]["code"] == "TooManyRequests" and throttled["body"]["error"]["innerError"]["request-id"]
    assert tenant.faults.injected["429"] == 2


def test_unavailable_inside_a_batch_answers_503(tmp_path):
    tenant = Tenant(tmp_path, unavailable_every=1)
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": [{"id": "1", "method": "GET", "url": "/domains"}]}, status=200))
    assert items["1"]["status"] == 503 and items["1"]["headers"]["Retry-After"] == "1"


def test_timeout_after_write_inside_a_batch_keeps_the_write(tmp_path):
    tenant = Tenant(tmp_path, timeout_after_write_every=1)
    requests = [{"id": "1", "method": "POST", "url": "/applications", "headers": JSON, "body": {"displayName": "Written"}},
                {"id": "2", "method": "GET", "url": "/applications?$filter=displayName eq 'Written'", "dependsOn": ["1"]}]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert items["1"]["status"] == 504 and items["2"]["status"] == 424
    found = tenant.ok("GET", "/applications", query={"$filter": "displayName eq 'Written'"})["value"]
    assert len(found) == 1   # the create happened: a blind re-send would make a duplicate
    assert tenant.faults.injected["504"] == 1


def test_failed_writes_are_not_counted_for_504(tmp_path):
    tenant = Tenant(tmp_path, timeout_after_write_every=1)
    requests = [{"id": "1", "method": "POST", "url": "/applications", "headers": JSON, "body": {}}]
    items = _by_id(tenant.ok("POST", "/$batch", {"requests": requests}, status=200))
    assert items["1"]["status"] == 400 and tenant.faults.writes == 0

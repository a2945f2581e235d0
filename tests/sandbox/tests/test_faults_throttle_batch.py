"""The throttle_batch_every knob: $batch sub-requests are throttled on their own count; plain requests are not."""
from __future__ import annotations

from .entra_helpers import Tenant


def _statuses(body: dict) -> list:
    return [item["status"] for item in sorted(body["responses"], key=lambda item: int(item["id"]))]


def test_every_sub_request_of_a_batch_is_throttled_and_plain_requests_are_not(tmp_path):
    tenant = Tenant(tmp_path, throttle_batch_every=1, retry_after=3)
    requests = [{"id": str(i), "method": "GET", "url": "/domains"} for i in range(1, 4)]
    body = tenant.ok("POST", "/$batch", {"requests": requests}, status=200)
    assert _statuses(body) == [429, 429, 429]
    assert body["responses"][0]["headers"]["Retry-After"] == "3"
    tenant.ok("GET", "/domains")  # the same request alone goes through
    assert tenant.faults.injected["429"] == 3


def test_every_second_sub_request(tmp_path):
    tenant = Tenant(tmp_path, throttle_batch_every=2)
    requests = [{"id": str(i), "method": "GET", "url": "/domains"} for i in range(1, 5)]
    assert _statuses(tenant.ok("POST", "/$batch", {"requests": requests}, status=200)) == [200, 429, 200, 429]

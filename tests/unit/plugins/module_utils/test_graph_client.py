# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GraphClient: retries, paging, $batch, replication retries, safe create, error parsing, headers, trace."""

import json
from urllib.parse import urlsplit

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._common import http as _http
from ansible_collections.smarttrace.sso.plugins.module_utils._common.http import Session
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError, TLSVerificationError
from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import (
    GraphClient,
    conflict_409,
    no_backing_application,
    not_a_valid_reference_update,
    not_found,
    owned_by_backing_app_403,
    parse_retry_after,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.version import USER_AGENT
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import (
    GRAPH_ROOT,
    FakeClock,
    Reply,
    graph_error,
    mount,
    request_json,
    scripted,
)

TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.signature"


def make_client(handler, max_wait=300.0, **kwargs):
    session = Session()
    server = mount(session, handler)
    clock = FakeClock()
    client = GraphClient(session, GRAPH_ROOT, lambda: TOKEN, timeout=5, sleep=clock.sleep, clock=clock, max_wait=max_wait, **kwargs)
    return client, server, clock


# ---------------------------------------------------------------------- basics
def test_get_sends_token_user_agent_and_client_request_id():
    client, server, _clock = make_client(scripted(Reply(200, {"id": "a1"})))
    assert client.get("/applications/a1", params={"$select": "id"}) == {"id": "a1"}
    request = server.requests[0]
    assert request.url == GRAPH_ROOT + "/v1.0/applications/a1?%24select=id"
    assert request.headers["Authorization"] == "Bearer " + TOKEN
    assert request.headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("smarttrace.sso/")
    assert len(request.headers["client-request-id"]) == 36
    assert client.request_count == 1


def test_graph_root_with_version_suffix_is_accepted():
    client, server, _clock = make_client(scripted(Reply(200, {})))
    client = GraphClient(client.session, GRAPH_ROOT + "/v1.0/", lambda: TOKEN)
    client.get("/users")
    assert server.requests[0].url == GRAPH_ROOT + "/v1.0/users"


def test_post_sends_json_body_and_204_gives_none():
    client, server, _clock = make_client(scripted(Reply(204)))
    assert client.patch("/applications/a1", {"web": {"redirectUris": ["https://x/cb"]}}) is None
    assert server.requests[0].headers["Content-Type"] == "application/json"
    assert request_json(server.requests[0]) == {"web": {"redirectUris": ["https://x/cb"]}}


def test_error_envelope_is_parsed():
    details = [{"code": "ObjectConflict", "target": "userPrincipalName", "message": "exists"}]
    client, _server, _clock = make_client(scripted(graph_error(400, "Request_BadRequest", "Another object with the same value...", "rid-9", details)))
    with pytest.raises(GraphError) as caught:
        client.post("/users", {"userPrincipalName": "a@b"})
    error = caught.value
    assert (error.status, error.code, error.request_id, error.client_request_id) == (400, "Request_BadRequest", "rid-9", "c-1")
    assert error.detail_codes == ["ObjectConflict"]
    assert error.method == "POST" and error.url.endswith("/v1.0/users")
    text = str(error)
    assert "HTTP 400" in text and "Request_BadRequest" in text and "ObjectConflict (userPrincipalName)" in text and "rid-9" in text


def test_non_json_error_body_and_request_id_header():
    client, _server, _clock = make_client(scripted(Reply(400, "<html>bad gateway thing</html>", {"request-id": "hdr-id"})))
    with pytest.raises(GraphError) as caught:
        client.get("/users")
    assert caught.value.request_id == "hdr-id"
    assert "bad gateway thing" in caught.value.message


def test_get_or_none_and_delete_missing_ok():
    client, _server, _clock = make_client(scripted(graph_error(404, "Request_ResourceNotFound", "Resource 'x' does not exist")))
    assert client.get_or_none("/applications/x") is None
    assert client.delete("/applications/x", missing_ok=True) is False
    with pytest.raises(GraphError):
        client.delete("/applications/x")


def test_other_errors_are_not_swallowed_by_get_or_none():
    client, _server, _clock = make_client(scripted(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges")))
    with pytest.raises(GraphError) as caught:
        client.get_or_none("/applications/x")
    assert caught.value.status == 403


# ---------------------------------------------------------------------- throttling and transient errors
def test_429_retry_after_is_honoured():
    client, server, clock = make_client(scripted(Reply(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "7"}),
                                                 Reply(200, {"value": []})))
    assert client.get("/users") == {"value": []}
    assert clock.sleeps == [7.0]
    assert len(server.requests) == 2 and client.request_count == 2
    # the same client-request-id on the retry: one logical request
    assert server.requests[0].headers["client-request-id"] == server.requests[1].headers["client-request-id"]


@pytest.mark.parametrize("status", [503, 504])
def test_503_and_504_honour_retry_after(status):
    client, _server, clock = make_client(scripted(Reply(status, None, {"Retry-After": "3"}), Reply(status, None, {"Retry-After": "2"}), Reply(200, {"ok": 1})))
    assert client.get("/users") == {"ok": 1}
    assert clock.sleeps == [3.0, 2.0]


@pytest.mark.parametrize("status", [408, 424, 500, 502, 503])
def test_backoff_with_jitter_when_retry_after_is_absent(status):
    client, _server, clock = make_client(scripted(Reply(status), Reply(status), Reply(status), Reply(200, {})))
    client.get("/users")
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps, 1):
        assert 0.5 * 2 ** (attempt - 1) <= slept <= 2 ** (attempt - 1)


def test_bounded_total_wait_gives_up_with_a_clear_error():
    client, server, clock = make_client(scripted(Reply(429, None, {"Retry-After": "20"})), max_wait=50)
    with pytest.raises(GraphError) as caught:
        client.get("/users")
    assert clock.sleeps == [20.0, 20.0]
    assert len(server.requests) == 3
    error = caught.value
    assert error.status == 429 and error.attempts == 3 and error.waited == 40
    assert "Gave up" in str(error) and "max_wait" in str(error) and "after 3 attempts" in str(error)


def test_retry_after_longer_than_budget_gives_up_without_sleeping():
    client, _server, clock = make_client(scripted(Reply(429, None, {"Retry-After": "3600"})), max_wait=60)
    with pytest.raises(GraphError):
        client.get("/users")
    assert clock.sleeps == []


def test_attempts_are_bounded_too():
    client, server, _clock = make_client(scripted(Reply(503, None, {"Retry-After": "0"})), max_attempts=4)
    with pytest.raises(GraphError) as caught:
        client.get("/users")
    assert len(server.requests) == 4 and "4 attempts made" in str(caught.value)


def test_retry_after_http_date():
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=1767225600.0) == 30.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_post_is_retried_on_429_and_503_only():
    client, server, _clock = make_client(scripted(Reply(429, None, {"Retry-After": "1"}), Reply(503, None, {"Retry-After": "1"}), Reply(201, {"id": "n"})))
    assert client.post("/applications", {"displayName": "x"}) == {"id": "n"}
    assert len(server.requests) == 3
    client, server, _clock = make_client(scripted(Reply(504), Reply(201, {"id": "dup"})))
    with pytest.raises(GraphError) as caught:
        client.post("/applications", {"displayName": "x"})
    assert caught.value.status == 504 and len(server.requests) == 1


def test_connection_errors_retried_for_get_not_for_post():
    client, server, _clock = make_client(scripted(_http.ConnectionFailed("reset"), Reply(200, {"id": 1})))
    assert client.get("/users/1") == {"id": 1}
    client, server, _clock = make_client(scripted(_http.ConnectTimeout("slow"), Reply(201, {"id": 1})))
    with pytest.raises(GraphError) as caught:
        client.post("/users", {"a": 1})
    assert caught.value.status is None and caught.value.code == "ConnectTimeout" and len(server.requests) == 1


@pytest.mark.parametrize("verify, expected_fix", [(True, "in ca_path (or REQUESTS_CA_BUNDLE)"),
                                                  ("/etc/wrong-ca.pem", "ca_path (or REQUESTS_CA_BUNDLE) is /etc/wrong-ca.pem")])
def test_a_certificate_that_does_not_verify_fails_at_once_with_the_fix(verify, expected_fix):
    client, server, clock = make_client(scripted(_http.TLSCertificateError("certificate verify failed: self-signed certificate"),
                                                 Reply(200, {"id": 1})))
    client.session.verify = verify
    with pytest.raises(TLSVerificationError) as caught:
        client.get("/users/1")
    text = str(caught.value)
    assert len(server.requests) == 1 and clock.sleeps == []  # no retry, no waiting
    assert text.startswith("Microsoft Graph GET %s/v1.0/users/1 failed: the TLS certificate does not verify" % GRAPH_ROOT)
    assert "self-signed certificate" in text and expected_fix in text and "validate_certs=false" in text
    assert caught.value.to_dict()["code"] == "SSLError"


def test_a_certificate_failure_inside_batch_and_create_is_not_retried_or_looked_up():
    client, server, clock = make_client(scripted(_http.TLSCertificateError("certificate verify failed"), Reply(200, {})))
    with pytest.raises(TLSVerificationError):
        client.batch([{"method": "GET", "url": "/users/1"}, {"method": "GET", "url": "/users/2"}])
    assert len(server.requests) == 1 and clock.sleeps == []
    client, server, clock = make_client(scripted(_http.TLSCertificateError("certificate verify failed"), Reply(200, {})))
    looked_up = []
    with pytest.raises(TLSVerificationError):
        client.create("/applications", {"displayName": "x"}, find_existing=lambda: looked_up.append(1))
    assert len(server.requests) == 1 and looked_up == [] and clock.sleeps == []


def test_other_tls_failures_are_still_retried_for_get():
    client, server, _clock = make_client(scripted(_http.TLSError("EOF occurred in violation of protocol"), Reply(200, {"id": 1})))
    assert client.get("/users/1") == {"id": 1} and len(server.requests) == 2


# ---------------------------------------------------------------------- paging
def test_list_all_follows_absolute_next_link_verbatim():
    next_link = GRAPH_ROOT + "/v1.0/users?$top=2&$skiptoken=X%27opaque%27~token"
    pages = [Reply(200, {"value": [{"id": 1}, {"id": 2}], "@odata.nextLink": next_link}), Reply(200, {"value": [{"id": 3}]})]
    client, server, _clock = make_client(scripted(*pages))
    assert client.list_all("/users", params={"$top": 2}) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert server.requests[0].url == GRAPH_ROOT + "/v1.0/users?%24top=2"
    assert server.requests[1].url == next_link


def test_next_link_to_another_host_is_refused():
    client, server, _clock = make_client(scripted(Reply(200, {"value": [], "@odata.nextLink": "https://evil.example/v1.0/users?$skiptoken=1"})))
    with pytest.raises(GraphError) as caught:
        client.list_all("/users")
    assert "refusing" in str(caught.value) and len(server.requests) == 1


# ---------------------------------------------------------------------- replication retries
def test_replication_predicates():
    def error(status, code, message, details=None):
        return GraphError(message, status=status, code=code, details=details)
    assert not_found(error(404, "Request_ResourceNotFound", "x"))
    assert no_backing_application(error(400, "Request_BadRequest", "The appId 'a' of the service principal does not reference a valid application object."))
    assert no_backing_application(error(400, "Request_BadRequest", "x", [{"code": "NoBackingApplicationObject", "target": "appId"}]))
    assert not no_backing_application(error(400, "Request_BadRequest", "Property userPrincipalName is invalid."))
    assert not_a_valid_reference_update(error(400, "Request_BadRequest", "Not a valid reference update."))
    lag_403 = "When using this permission, the backing application of the service principal being created must in the local tenant"
    assert owned_by_backing_app_403(error(403, "Authorization_RequestDenied", lag_403))
    assert not owned_by_backing_app_403(error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
    assert conflict_409(error(409, "Error_MsaAppDoesNotExist", "The corresponding MSA application does not exist."))
    assert not conflict_409(error(409, "Request_MultipleObjectsWithSameKeyValue", "already in use"))


def test_replication_retry_only_when_asked():
    missing = graph_error(404, "Request_ResourceNotFound", "Resource 'a1' does not exist")
    client, server, _clock = make_client(scripted(missing, Reply(200, {"id": "a1"})))
    with pytest.raises(GraphError):
        client.get("/applications/a1")
    assert len(server.requests) == 1

    client, server, clock = make_client(scripted(missing, missing, Reply(200, {"id": "a1"})))
    assert client.get("/applications/a1", retry_on=(not_found,)) == {"id": "a1"}
    assert len(server.requests) == 3 and len(clock.sleeps) == 2


def test_replication_retry_for_service_principal_create():
    lag = graph_error(400, "Request_BadRequest", "does not reference a valid application object", details=[{"code": "NoBackingApplicationObject"}])
    client, server, _clock = make_client(scripted(lag, lag, Reply(201, {"id": "sp1"})))
    assert client.post("/servicePrincipals", {"appId": "x"}, retry_on=(no_backing_application, owned_by_backing_app_403)) == {"id": "sp1"}
    assert len(server.requests) == 3


def test_replication_retry_is_bounded():
    client, _server, clock = make_client(scripted(graph_error(404, "Request_ResourceNotFound", "gone")), max_wait=20)
    with pytest.raises(GraphError) as caught:
        client.get("/applications/a1", retry_on=(not_found,))
    assert sum(clock.sleeps) <= 20 and "Gave up" in str(caught.value)


# ---------------------------------------------------------------------- safe create
def test_create_after_504_uses_find_existing_and_never_posts_twice():
    client, server, _clock = make_client(scripted(Reply(504, {"error": {"code": "GatewayTimeout", "message": "timeout"}})))
    lookups = []

    def find_existing():
        lookups.append(1)
        return {"id": "app-1", "displayName": "x"}

    assert client.create("/applications", {"displayName": "x"}, find_existing) == {"id": "app-1", "displayName": "x"}
    assert [request.method for request in server.requests] == ["POST"]
    assert lookups == [1]


def test_create_after_timeout_waits_for_replication_before_finding():
    client, server, clock = make_client(scripted(_http.ReadTimeout("read timed out")))
    answers = [None, None, {"id": "late"}]
    assert client.create("/applications", {"displayName": "x"}, lambda: answers.pop(0)) == {"id": "late"}
    assert [request.method for request in server.requests] == ["POST"] and len(clock.sleeps) == 2


def test_create_posts_again_only_when_nothing_is_found():
    client, server, _clock = make_client(scripted(Reply(502), Reply(201, {"id": "new"})))
    assert client.create("/applications", {"displayName": "x"}, lambda: None) == {"id": "new"}
    assert [request.method for request in server.requests] == ["POST", "POST"]


def test_create_does_not_look_up_after_a_plain_error():
    client, _server, _clock = make_client(scripted(graph_error(400, "Request_BadRequest", "invalid")))
    with pytest.raises(GraphError):
        client.create("/applications", {"displayName": "x"}, lambda: pytest.fail("find_existing must not be called"))


# ---------------------------------------------------------------------- $batch
def batch_handler(answer_for, calls):
    """Answer each $batch call with answer_for(inner request) -> (status, body, headers); responses in reverse order."""
    def handler(request):
        assert urlsplit(request.url).path == "/v1.0/$batch" and request.method == "POST"
        inner = request_json(request)["requests"]
        calls.append(inner)
        responses = []
        for item in inner:
            status, body, headers = answer_for(item)
            responses.append({"id": item["id"], "status": status, "headers": headers or {}, "body": body})
        return Reply(200, {"responses": list(reversed(responses))})
    return handler


def test_batch_chunks_by_20_and_keeps_input_order():
    calls = []
    client, server, _clock = make_client(batch_handler(lambda item: (200, {"url": item["url"]}, None), calls))
    results = client.batch([{"method": "GET", "url": "/users/%d" % index} for index in range(45)])
    assert [len(call) for call in calls] == [20, 20, 5]
    assert [result["url"] for result in results] == ["/users/%d" % index for index in range(45)]
    assert client.request_count == 3


def test_batch_urls_are_relative_and_bodies_have_content_type():
    calls = []
    client, _server, _clock = make_client(batch_handler(lambda item: (204, None, None), calls))
    client.batch([{"method": "PATCH", "url": GRAPH_ROOT + "/v1.0/applications/a", "body": {"tags": []}},
                  {"method": "get", "url": "/v1.0/users", "params": {"$top": 5}},
                  {"method": "DELETE", "url": "groups/g"}])
    first, second, third = calls[0]
    assert first == {"id": "1", "method": "PATCH", "url": "/applications/a", "body": {"tags": []}, "headers": {"Content-Type": "application/json"}}
    assert second == {"id": "2", "method": "GET", "url": "/users?$top=5"}
    assert third["url"] == "/groups/g" and "headers" not in third and "body" not in third


def test_batch_urls_are_percent_encoded():
    calls = []
    client, _server, _clock = make_client(batch_handler(lambda item: (200, {"value": []}, None), calls))
    client.batch([{"url": "/applications", "params": {"$filter": "displayName eq 'R&D + Ops #1'", "$select": "id,appId"}},
                  {"url": "/applications(uniqueName='a b')"}, {"url": "/users/already%40encoded"}])
    first, second, third = calls[0]
    assert first["url"] == "/applications?$filter=displayName%20eq%20'R%26D%20%2B%20Ops%20%231'&$select=id,appId"
    assert second["url"] == "/applications(uniqueName='a%20b')"
    assert third["url"] == "/users/already%40encoded"


def test_batch_per_item_errors_are_returned_not_raised():
    calls = []

    def answer(item):
        if item["url"] == "/users/bad":
            return 404, {"error": {"code": "Request_ResourceNotFound", "message": "nope", "innerError": {"request-id": "r-bad"}}}, None
        return 200, {"id": item["url"]}, None
    client, _server, _clock = make_client(batch_handler(answer, calls))
    results = client.batch([{"url": "/users/a"}, {"url": "/users/bad"}, {"url": "/users/c"}])
    assert results[0] == {"id": "/users/a"} and results[2] == {"id": "/users/c"}
    assert isinstance(results[1], GraphError) and results[1].status == 404 and results[1].request_id == "r-bad"
    assert results[1].url == GRAPH_ROOT + "/v1.0/users/bad"


def test_batch_inner_429_retried_with_inner_retry_after():
    calls, seen = [], {}

    def answer(item):
        seen[item["url"]] = seen.get(item["url"], 0) + 1
        if item["url"] == "/users/b" and seen[item["url"]] == 1:
            return 429, {"error": {"code": "TooManyRequests", "message": "slow"}}, {"Retry-After": "9"}
        return 200, {"n": seen[item["url"]]}, None
    client, _server, clock = make_client(batch_handler(answer, calls))
    results = client.batch([{"url": "/users/a"}, {"url": "/users/b"}])
    assert results == [{"n": 1}, {"n": 2}]
    assert clock.sleeps == [9.0]
    assert [[item["url"] for item in call] for call in calls] == [["/users/a", "/users/b"], ["/users/b"]]


def test_batch_424_retried_with_its_throttled_dependency():
    calls, seen = [], {}

    def answer(item):
        seen[item["id"]] = seen.get(item["id"], 0) + 1
        if item["id"] == "create" and seen["create"] == 1:
            return 503, {"error": {"code": "ServiceUnavailable", "message": "busy"}}, {"Retry-After": "2"}
        if item.get("dependsOn") and seen["create"] == 1:
            return 424, {"error": {"code": "FailedDependency", "message": "dependency failed"}}, None
        return 201, {"id": item["id"]}, None
    client, _server, clock = make_client(batch_handler(answer, calls))
    results = client.batch([{"id": "create", "method": "POST", "url": "/applications", "body": {"displayName": "x"}},
                            {"id": "owner", "method": "POST", "url": "/applications/x/owners/$ref", "body": {}, "dependsOn": ["create"]}])
    assert results == [{"id": "create"}, {"id": "owner"}]
    assert clock.sleeps == [2.0]
    assert calls[1][1]["dependsOn"] == ["create"]


def test_batch_424_of_a_permanent_failure_is_returned():
    calls = []

    def answer(item):
        if item.get("dependsOn"):
            return 424, {"error": {"code": "FailedDependency", "message": "dependency failed"}}, None
        return 400, {"error": {"code": "Request_BadRequest", "message": "invalid"}}, None
    client, _server, clock = make_client(batch_handler(answer, calls))
    results = client.batch([{"id": "a", "url": "/x"}, {"id": "b", "url": "/y", "dependsOn": ["a"]}])
    assert [result.status for result in results] == [400, 424] and clock.sleeps == [] and len(calls) == 1


def test_batch_inner_504_of_a_post_is_not_retried():
    calls = []
    client, _server, _clock = make_client(batch_handler(lambda item: (504, None, {"Retry-After": "1"}), calls))
    results = client.batch([{"method": "POST", "url": "/applications", "body": {"displayName": "x"}}])
    assert results[0].status == 504 and len(calls) == 1


def test_batch_outer_failure_becomes_per_item_errors():
    client, _server, _clock = make_client(scripted(graph_error(400, "BadRequest", "Invalid batch payload")))
    results = client.batch([{"url": "/a"}, {"url": "/b"}])
    assert all(isinstance(result, GraphError) and result.status == 400 for result in results)


def test_batch_inner_retries_are_bounded():
    calls = []
    client, _server, clock = make_client(batch_handler(lambda item: (429, None, {"Retry-After": "30"}), calls), max_wait=70)
    results = client.batch([{"url": "/a"}])
    assert results[0].status == 429 and "Gave up" in str(results[0])
    assert clock.sleeps == [30.0, 30.0] and len(calls) == 3


def persistently_throttled(throttled_urls, alone_429s=1, retry_after="2"):
    """A Graph fake: sub-requests for ``throttled_urls`` are always 429 inside $batch; sent alone, 429 ``alone_429s`` times, then 200."""
    calls, alone = [], []

    def handler(request):
        path = urlsplit(request.url).path
        if path.endswith("/$batch"):
            inner = request_json(request)["requests"]
            calls.append(inner)
            responses, failed = [], set()
            for item in inner:
                if item["url"].split("?")[0] in throttled_urls:
                    failed.add(item["id"])
                    responses.append({"id": item["id"], "status": 429, "headers": {"Retry-After": retry_after}, "body": {"error": {"code": "TooManyRequests"}}})
                elif failed.intersection(item.get("dependsOn", ())):
                    failed.add(item["id"])
                    responses.append({"id": item["id"], "status": 424, "body": {"error": {"code": "FailedDependency"}}})
                else:
                    responses.append({"id": item["id"], "status": 200, "body": {"url": item["url"]}})
            return Reply(200, {"responses": responses})
        alone.append((request.method, path, request.body))
        if sum(1 for entry in alone if entry[1] == path) <= alone_429s:
            return Reply(429, {"error": {"code": "TooManyRequests", "message": "throttled"}}, {"Retry-After": retry_after})
        return Reply(200 if request.method == "GET" else 201, {"alone": path})
    return handler, calls, alone


def test_batch_a_persistently_throttled_sub_request_is_sent_alone_on_its_own_schedule():
    handler, calls, alone = persistently_throttled({"/users/2"})
    client, _server, clock = make_client(handler)
    results = client.batch([{"method": "GET", "url": "/users/%d" % index, "params": {"$select": "id"}} for index in range(4)])
    assert [result.get("url") or result.get("alone") for result in results] == [
        "/users/0?$select=id", "/users/1?$select=id", "/v1.0/users/2", "/users/3?$select=id"]
    assert [len(call) for call in calls] == [4, 1, 1]  # only the throttled one is re-sent, for BATCH_ROUNDS_BEFORE_ALONE rounds
    assert [entry[:2] for entry in alone] == [("GET", "/v1.0/users/2"), ("GET", "/v1.0/users/2")]
    assert clock.sleeps == [2.0, 2.0, 2.0, 2.0]  # every wait is the Retry-After Graph gave


def test_batch_alone_requests_keep_dependency_order_and_bodies():
    handler, calls, alone = persistently_throttled({"/applications"}, alone_429s=0)
    client, _server, _clock = make_client(handler)
    results = client.batch([{"id": "create", "method": "POST", "url": "/applications", "body": {"displayName": "x"}},
                            {"id": "owner", "method": "POST", "url": "/applications/x/owners/$ref", "body": {"a": 1}, "dependsOn": ["create"]},
                            {"id": "other", "method": "GET", "url": "/users/1"}])
    assert results == [{"alone": "/v1.0/applications"}, {"alone": "/v1.0/applications/x/owners/$ref"}, {"url": "/users/1"}]
    assert [(method, path) for method, path, _body in alone] == [("POST", "/v1.0/applications"), ("POST", "/v1.0/applications/x/owners/$ref")]
    assert [json.loads(body) for _method, _path, body in alone] == [{"displayName": "x"}, {"a": 1}]


def test_batch_alone_requests_stay_within_the_same_max_wait():
    handler, calls, alone = persistently_throttled({"/users/1"}, alone_429s=100, retry_after="10")
    client, _server, clock = make_client(handler, max_wait=60)
    started = clock.now
    results = client.batch([{"url": "/users/1"}, {"url": "/users/2"}])
    assert results[1] == {"url": "/users/2"}
    assert isinstance(results[0], GraphError) and results[0].status == 429 and "max_wait (60 s)" in str(results[0])
    assert clock.now - started <= 60 and len(calls) == 3 and len(alone) == 4  # 3 batch rounds, then alone at t=30, 40, 50, 60


def test_batch_a_failed_alone_dependency_leaves_its_dependents_unsent():
    handler, calls, alone = persistently_throttled({"/applications"}, alone_429s=100, retry_after="10")
    client, _server, _clock = make_client(handler, max_wait=45)
    results = client.batch([{"id": "create", "method": "POST", "url": "/applications", "body": {}},
                            {"id": "owner", "method": "POST", "url": "/applications/x/owners/$ref", "body": {}, "dependsOn": ["create"]}])
    assert all(isinstance(result, GraphError) for result in results)
    assert [path for _method, path, _body in alone] == ["/v1.0/applications"] * 2  # at t=30 and t=40; the owner is never sent


def test_batch_rejects_dependencies_across_chunks_and_duplicate_ids():
    client, _server, _clock = make_client(scripted(Reply(200, {"responses": []})))
    with pytest.raises(ValueError):
        client.batch([{"url": "/a/%d" % index} for index in range(20)] + [{"url": "/b", "dependsOn": ["1"]}])
    with pytest.raises(ValueError):
        client.batch([{"id": "x", "url": "/a"}, {"id": "x", "url": "/b"}])


# ---------------------------------------------------------------------- trace
def test_trace_is_short_and_secret_free():
    client, _server, _clock = make_client(scripted(Reply(429, None, {"Retry-After": "1"}), Reply(200, {"secretText": "TOPSECRET"}, {"request-id": "r1"})),
                                          trace_size=5)
    client.post("/applications/a/addPassword", {"passwordCredential": {"displayName": "k"}})
    for _index in range(10):
        client.get("/users")
    assert len(client.trace) == 5
    dump = json.dumps(list(client.trace))
    assert TOKEN not in dump and "TOPSECRET" not in dump and "passwordCredential" not in dump
    assert client.trace[-1]["status"] == 200 and client.trace[-1]["url"] == "/users"


# ---------------------------------------------------------------------- rejected token
def test_rejected_token_is_renewed_once_and_the_request_repeated():
    renewals = []
    client, server, clock = make_client(scripted(graph_error(401, "InvalidAuthenticationToken", "Access token validation failure."),
                                                 Reply(201, {"id": "new"})),
                                        on_token_rejected=lambda: renewals.append(1) or True)
    assert client.post("/applications", {"displayName": "x"}) == {"id": "new"}
    assert renewals == [1] and len(server.requests) == 2 and sum(clock.sleeps) == 0


def test_rejected_token_twice_or_without_renewal_is_an_error():
    client, server, _clock = make_client(scripted(*[graph_error(401, "InvalidAuthenticationToken", "Access token has expired.")] * 2),
                                         on_token_rejected=lambda: True)
    with pytest.raises(GraphError) as raised:
        client.get("/applications")
    assert raised.value.status == 401 and len(server.requests) == 2
    client, server, _clock = make_client(scripted(graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")))
    with pytest.raises(GraphError):
        client.get("/applications")
    assert len(server.requests) == 1


# ---------------------------------------------------------------------- what Graph says only in words: one mapping
@pytest.mark.parametrize("status, code, message, kind", [
    (400, "Request_BadRequest", "Not a valid reference update.", "not_a_valid_reference_update"),
    (400, "Request_BadRequest", "The appId 'x' of the service principal does not reference a valid application object.", "no_backing_application"),
    (403, "Authorization_RequestDenied", "When using this permission, the backing application of the service principal being created must in the "
     "local tenant", "backing_application_not_visible"),
    (400, "Request_BadRequest", "Permission (scope or role) cannot be deleted or updated unless disabled first", "app_role_not_disabled"),
    (400, "Request_BadRequest", "Permission being assigned already exists on the object.", "assignment_exists"),
    (400, "Request_BadRequest", "Permission being assigned was not found on application.", "app_role_not_on_resource"),
    (400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.", "upn_conflict"),
    (400, "Request_BadRequest", "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain "
     "names in your organization.", "upn_domain_not_verified"),
    (400, "Request_BadRequest", "Property userPrincipalName is invalid.", "upn_invalid"),
    (400, "Request_BadRequest", "The specified password does not comply with password complexity requirements.", "password_too_weak"),
    (400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.", "mail_nickname_invalid"),
    (404, "Request_BadRequest", "Not a valid reference update.", None),  # the words alone are not enough: the status too
    (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", None),
    (400, "Request_BadRequest", "One or more property values specified are invalid.", None),
])
def test_message_kind_is_the_one_place_graph_text_is_read(status, code, message, kind):
    from ansible_collections.smarttrace.sso.plugins.module_utils._graph.client import message_kind
    error = GraphError(message, status=status, code=code)
    assert message_kind(error) == kind


def test_predicates_decide_on_codes_first_and_on_the_mapped_text_only_where_graph_has_no_code():
    details = [{"code": "NoBackingApplicationObject", "target": "appId"}]
    coded = GraphError.from_response(400, {"error": {"code": "Request_BadRequest", "message": "reworded by Graph one day", "details": details}})
    assert no_backing_application(coded)
    assert not_a_valid_reference_update(GraphError("NOT A VALID REFERENCE UPDATE.", status=400, code="Request_BadRequest"))
    assert owned_by_backing_app_403(GraphError("... the backing application of the service principal ...", status=403))
    assert not owned_by_backing_app_403(GraphError("Insufficient privileges to complete the operation.", status=403))
    assert conflict_409(GraphError("x", status=409, code="Error_MsaAppDoesNotExist"))
    assert not conflict_409(GraphError("x", status=409, code="Request_MultipleObjectsWithSameKeyValue"))

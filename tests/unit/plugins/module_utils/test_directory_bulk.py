# -*- coding: utf-8 -*-
# Copyright (c) smarttrace.sso contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_directory_bulk: in-filter lookups (15 values, 20 per $batch), paging, batched writes with replication and transient retries."""

from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import (
    IN_LIMIT,
    TRANSIENT_ROUNDS,
    Waiter,
    collection_url,
    find_by,
    find_many,
    find_many_waiting,
    in_filter,
    is_ambiguous,
    is_replication_lag,
    odata_string,
    send_all,
    unique,
    write_all,
)
from ansible_collections.smarttrace.sso.plugins.module_utils._common.errors import GraphError
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fake_directory import FakeDirectory
from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import graph_error


@pytest.fixture
def directory():
    return FakeDirectory()


def waiter_for(directory):
    return Waiter(sleep=directory.clock.sleep, clock=directory.clock)


def test_literals_and_urls_are_quoted_and_encoded():
    assert odata_string("o'brien@contoso.example") == "'o''brien@contoso.example'"
    assert in_filter("userPrincipalName", ["a@x.example"]) == "userPrincipalName eq 'a@x.example'"
    assert in_filter("id", ["1", "2"]) == "id in ('1','2')"
    url = collection_url("/users", in_filter("userPrincipalName", ["a+b#EXT#@x.example", "c&d@x.example"]), ("id", "displayName"))
    query = parse_qs(urlsplit(url).query)
    assert query["$filter"] == ["userPrincipalName in ('a+b#EXT#@x.example','c&d@x.example')"]
    assert query["$select"] == ["id,displayName"]
    assert " " not in url and "#" not in url


def test_unique_is_case_insensitive_and_keeps_order():
    assert unique(["B@x", "a@x", "b@X", "A@x"]) == ["B@x", "a@x"]


def test_one_lookup_is_sent_alone(directory):
    user = directory.add_user("adele@contoso.example")
    found = find_by(directory.graph, "/users", "userPrincipalName", ["ADELE@contoso.example", "nobody@contoso.example"], ("id", "userPrincipalName"))
    assert found == {"adele@contoso.example": [{"id": user["id"], "userPrincipalName": "adele@contoso.example"}], "nobody@contoso.example": []}
    assert directory.http == 1 and directory.calls[0][0] == "GET"


def test_300_names_cost_one_request_and_400_cost_two(directory):
    names = ["user%03d@contoso.example" % index for index in range(400)]
    for name in names[::7]:
        directory.add_user(name)
    found = find_by(directory.graph, "/users", "userPrincipalName", names[:300], ("id", "userPrincipalName"))
    assert directory.http == 1
    assert len(directory.calls) == 300 // IN_LIMIT
    assert all(len(parse_qs("f=" + call[2]["$filter"])) for call in directory.calls)
    assert sum(bool(items) for items in found.values()) == len(names[:300:7])
    directory.http = 0
    find_by(directory.graph, "/users", "userPrincipalName", names, ("id",))
    assert directory.http == 2


def test_several_queries_share_one_batch(directory):
    user = directory.add_user("adele@contoso.example")
    group = directory.add_group("SmartTrace Users")
    users, groups = find_many(directory.graph, [("/users", "userPrincipalName", ["adele@contoso.example"], ("id", "userPrincipalName")),
                                                ("/groups", "displayName", ["smarttrace users"], ("id", "displayName"))])
    assert users["adele@contoso.example"][0]["id"] == user["id"]
    assert groups["smarttrace users"][0]["id"] == group["id"]
    assert directory.http == 1 and len(directory.calls) == 2


def test_a_lookup_with_more_than_a_page_follows_the_next_link(directory):
    for _index in range(3):
        directory.add_group("Same")
    directory.fail_next = {}
    original = directory.listing

    def small_pages(items, query, path):
        return original(items, dict(query, **{"$top": "2"}), path)
    directory.listing = small_pages
    found = find_by(directory.graph, "/groups", "displayName", ["Same"], ("id", "displayName"))
    assert len(found["same"]) == 3


def test_a_failed_lookup_raises(directory):
    directory.fail_next[("GET", "/users")] = [graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")]
    with pytest.raises(GraphError) as caught:
        find_by(directory.graph, "/users", "userPrincipalName", ["a@contoso.example"], ("id",))
    assert caught.value.status == 403


def test_waiting_lookup_asks_again_only_for_the_missing(directory):
    young = directory.add_user("new@contoso.example")
    directory.add_user("old@contoso.example")
    directory.young.add(young["id"])
    waiter = waiter_for(directory)
    original_sleep = waiter.sleep

    def sleep_and_replicate(seconds):
        original_sleep(seconds)
        if len(directory.clock.sleeps) == 2:
            directory.young.clear()
    waiter.sleep = sleep_and_replicate
    (found,) = find_many_waiting(directory.graph, [("/users", "userPrincipalName", ["old@contoso.example", "new@contoso.example"], ("id",))],
                                 60, waiter)
    assert found["new@contoso.example"] == [{"id": young["id"], "userPrincipalName": "new@contoso.example"}]
    assert len(directory.clock.sleeps) == 2
    assert [call[2]["$filter"] for call in directory.calls[1:]] == ["userPrincipalName eq 'new@contoso.example'"] * 2


def test_waiting_lookup_gives_up_after_the_timeout(directory):
    waiter = waiter_for(directory)
    (found,) = find_many_waiting(directory.graph, [("/users", "userPrincipalName", ["ghost@contoso.example"], ("id",))], 10, waiter)
    assert found == {"ghost@contoso.example": []}
    assert 0 < sum(directory.clock.sleeps) <= 10


def test_send_all_returns_errors_per_request(directory):
    user = directory.add_user("a@contoso.example")
    answers = send_all(directory.graph, [{"method": "DELETE", "url": "/users/%s" % user["id"]}, {"method": "DELETE", "url": "/users/nope"}])
    assert answers[0] is None and isinstance(answers[1], GraphError) and answers[1].status == 404
    assert directory.http == 1
    assert send_all(directory.graph, []) == []


def test_write_all_retries_replication_until_visible_and_transient_a_few_times(directory):
    sp = directory.add_sp()
    young = directory.add_user("new@contoso.example")
    directory.young.add(young["id"])
    waiter = waiter_for(directory)
    original_sleep = waiter.sleep

    def sleep_and_replicate(seconds):
        original_sleep(seconds)
        directory.young.clear()
    waiter.sleep = sleep_and_replicate
    request = {"method": "POST", "url": "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"],
               "body": {"principalId": young["id"], "resourceId": sp["id"], "appRoleId": "00000000-0000-0000-0000-000000000000"}}
    (answer,) = write_all(directory.graph, [request], lambda _request, error: "replication" if is_replication_lag(error) else None, 60, waiter)
    assert answer["principalId"] == young["id"]
    assert len(directory.clock.sleeps) == 1

    # a POST with an unknown outcome (502) is re-sent only when the caller says it is harmless, at most TRANSIENT_ROUNDS times
    directory.fail_next[("POST", "/servicePrincipals")] = [graph_error(502, "BadGateway", "Bad gateway")] * 10
    others = [directory.add_user("other%d@contoso.example" % index) for index in range(2)]
    posts = [dict(request, body=dict(request["body"], principalId=user["id"])) for user in others]
    answers = write_all(directory.graph, posts, lambda _request, error: "transient" if is_ambiguous(error) else None, 0, waiter)
    assert all(isinstance(answer, GraphError) and answer.status == 502 for answer in answers)
    assert len([call for call in directory.calls if call[0] == "POST" and call[1].startswith("/servicePrincipals")]) == 2 + 2 * TRANSIENT_ROUNDS


def test_write_all_stops_replication_retries_at_the_timeout(directory):
    sp = directory.add_sp()
    young = directory.add_user("new@contoso.example")
    directory.young.add(young["id"])
    request = {"method": "POST", "url": "/servicePrincipals/%s/appRoleAssignedTo" % sp["id"],
               "body": {"principalId": young["id"], "resourceId": sp["id"], "appRoleId": "00000000-0000-0000-0000-000000000000"}}
    (answer,) = write_all(directory.graph, [request], lambda _request, error: "replication", 5, waiter_for(directory))
    assert isinstance(answer, GraphError) and answer.message == "Not a valid reference update."
    assert sum(directory.clock.sleeps) <= 5


def test_error_classes():
    assert is_ambiguous(GraphError("x", status=None)) and is_ambiguous(GraphError("x", status=504))
    assert not is_ambiguous(GraphError("x", status=503)) and not is_ambiguous(GraphError("x", status=400))
    assert is_replication_lag(GraphError("Not a valid reference update.", status=400))
    assert is_replication_lag(GraphError("gone", status=404))
    assert not is_replication_lag(GraphError("Permission being assigned already exists on the object.", status=400))


def test_a_waiter_ends_by_the_tasks_budget_when_that_comes_first():
    from ansible_collections.smarttrace.sso.plugins.module_utils._entra.directory_bulk import Waiter
    from ansible_collections.smarttrace.sso.plugins.module_utils._common.retry_policy import Deadline
    from ansible_collections.smarttrace.sso.tests.unit.plugins.module_utils.fakes import FakeClock
    clock = FakeClock()
    polls = []
    waiter = Waiter(sleep=clock.sleep, clock=clock, budget=Deadline(10, clock))
    assert waiter.wait_until(lambda: polls.append(clock()) or False, 60) is False
    assert polls and polls[-1] <= polls[0] + 10  # the 60 s asked for end at the budget's 10 s
    assert Waiter(sleep=clock.sleep, clock=clock).deadline(60).seconds == 60  # no budget: the wait's own

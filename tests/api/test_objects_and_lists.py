"""Typed objects and lists: classification, exact payloads, datetimes, pagination."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from urllib.parse import parse_qs

import oairun_jupyter as oai
from oairun_jupyter import configure

from ..support.http_server import LoopbackServer, json_reply
from ..support.replay import load_entries


def test_classify_picks_the_type_from_the_object_field_and_keeps_the_payload():
    entries = load_entries("FunctionToolsWork")
    run_payload = entries[1]["ResponseBody"]
    run = oai.classify(run_payload)
    assert type(run) is oai.Run
    assert run.to_dict() is run_payload
    for field in oai.Run.FIELDS:
        getattr(run, field)  # every field of the seed's Run reads
    assert run.created_at == dt.datetime(2025, 10, 30, 22, 1, 19, tzinfo=dt.timezone.utc)
    assert run.started_at is None and run.status == "queued"
    assert repr(run) == "<Run run_VSZ30Gv0cSXNu4f67kzJ8NyA status='queued' thread=thread_iPTdbXGcxD5XNzfCaYWFJylc>"
    assert oai.classify({"object": "thread.deleted", "id": "t", "deleted": True}) == {
        "object": "thread.deleted", "id": "t", "deleted": True}


def test_message_text_and_repr():
    messages = load_entries("FunctionToolsWork")[-1]["ResponseBody"]
    listing = oai.classify(messages)
    assert isinstance(listing, oai.ListObject) and all(isinstance(m, oai.Message) for m in listing)
    assert "taco" in listing[0].text.lower()
    assert repr(listing[0]).startswith("<Message msg_") and len(repr(listing[0])) < 120
    assert repr(listing).startswith("<ListObject 2 x Message")


def test_unknown_fields_still_read():
    step = oai.RunStep.from_payload({"id": "step_1", "object": "thread.run.step", "novel_field": 3})
    assert step.novel_field == 3
    assert step.expired_at is None  # a listed field the service left out


def _paging_server(total):
    items = [{"id": f"run_{i:04d}", "object": "thread.run", "status": "completed"} for i in range(total)]

    def answer(request):
        query = {k: v[0] for k, v in parse_qs("&".join(f"{k}={v}" for k, v in request.query)).items()}
        limit = int(query.get("limit", 20))
        start = 0
        if "after" in query:
            start = next(i for i, item in enumerate(items) if item["id"] == query["after"]) + 1
        page = items[start:start + limit]
        return json_reply(200, {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                                "last_id": page[-1]["id"] if page else None,
                                "has_more": start + limit < len(items)})
    return LoopbackServer(answer)


def test_a_limit_above_one_page_follows_after_while_has_more():
    with _paging_server(250) as server:
        configure(base_url=server.base_url)
        runs = oai.oai_list_runs("thread_1", limit=230)
    assert [r.id for r in runs] == [f"run_{i:04d}" for i in range(230)]
    assert (runs.first_id, runs.last_id, runs.has_more) == ("run_0000", "run_0229", True)
    limits_and_afters = [dict(r.query) for r in server.received]
    assert limits_and_afters == [{"limit": "100"}, {"limit": "100", "after": "run_0099"},
                                 {"limit": "30", "after": "run_0199"}]


def test_pagination_stops_when_the_server_has_no_more():
    with _paging_server(150) as server:
        configure(base_url=server.base_url)
        runs = oai.oai_list_runs("thread_1", limit=1000)
        # two pages, and no third request once a page says has_more: false
        assert [dict(r.query).get("after") for r in server.received] == [None, "run_0099"]
        raw = oai.oai_list_runs("thread_1", limit=1000, classify_response=False)
        async_runs = asyncio.run(oai.oai_list_runs("thread_1", limit=120, async_=True))
    assert len(runs) == 150 and runs.has_more is False
    assert type(raw) is dict and len(raw["data"]) == 150 and raw["last_id"] == "run_0149"
    assert len(async_runs) == 120 and async_runs.has_more is True
    json.dumps(raw)  # the joined raw list is plain JSON


def test_a_limit_within_one_page_is_one_request():
    with _paging_server(50) as server:
        configure(base_url=server.base_url)
        runs = oai.oai_list_runs("thread_1", limit=10, order="desc")
    assert len(runs) == 10 and len(server.received) == 1
    assert dict(server.received[0].query) == {"limit": "10", "order": "desc"}


def test_a_limit_above_one_page_with_before_reads_backwards(server):
    """`before` alone pages backwards: each next page is the one before the first item read (the
    pager used to follow `after` from the cursor: 100 items and has_more False)."""
    thread = oai.oai_create_thread()
    ids = [oai.oai_create_message(thread.id, f"m{n}").id for n in range(260)]
    newer_first = oai.oai_list_messages(thread.id, limit=150, before=ids[10], order="desc")
    assert [m.id for m in newer_first] == ids[11:161][::-1] and newer_first.has_more is True
    older_first = oai.oai_list_messages(thread.id, limit=150, before=ids[200], order="asc")
    assert [m.id for m in older_first] == ids[50:200] and older_first.has_more is True
    everything_before = asyncio.run(oai.oai_list_messages(thread.id, limit=1000, before=ids[120], order="asc",
                                                          async_=True))
    assert [m.id for m in everything_before] == ids[:120] and everything_before.has_more is False
    assert (everything_before.first_id, everything_before.last_id) == (ids[0], ids[119])

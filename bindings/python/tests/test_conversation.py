"""Conversations (omni/conversation.h): the state machine, exactly-once steps, the
WhatsApp service window, transitions, history, lists, delivery status, delete,
settings, the pure apply and the DynamoDB Streams converter.

Time passes by opening engines with later fixed clocks over one SQLite file (the
Python binding has no host clock hook)."""

import datetime
import decimal
import itertools
import json
import os
import re
import threading
from typing import Any, Dict, Iterator, List, Optional

import pytest

import omni

T0 = "2026-01-01T00:00:00Z"
T0_MS = 1767225600000
HOUR = 3600 * 1000
FIXED = {"clock": {"fixed": T0}, "random": {"seed": 1}}
HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni",
                      "conversation.h")

_seeds = itertools.count(100)


def at(db: str, ms: int) -> omni.Engine:
    """An engine over the SQLite file `db` whose clock stands at T0 + ms."""
    return omni.Engine({"storage": "sqlite:" + db,
                        "clock": {"fixed": omni.time_format(T0_MS + ms)},
                        "random": {"seed": next(_seeds)}})


def msg(mid: str, *, customer: str = "cust-1", account: str = "acc-1",
        carrier: str = "twilio", channel_type: Optional[str] = "sms",
        direction: Optional[str] = None, content_type: str = "text", content: str = "hi",
        channel: Optional[str] = None) -> Dict[str, Any]:
    """A BiDirectionalEvent for conversation_step."""
    message: Dict[str, Any] = {"id": mid, "carrier": carrier, "content": content,
                               "contentType": content_type,
                               "timestamp": "2026-01-01T00:00:00.000Z"}
    if channel_type is not None:
        message["channelType"] = channel_type
    event: Dict[str, Any] = {"correlationId": "corr-" + mid,
                             "identity": {"customerId": customer},
                             "routing": {"accountId": account, "businessUnitId": "bu-1"},
                             "enrichedMessage": message}
    if direction is not None:
        event["direction"] = direction
    if channel is not None:
        event["channel"] = channel
    return event


def wa(mid: str, **kw: Any) -> Dict[str, Any]:
    """A WhatsApp message event."""
    return msg(mid, carrier="whatsapp", channel_type=None, **kw)


def detail_types(result: Dict[str, Any]) -> List[str]:
    return [e["detailType"] for e in result["events"]]


def raises(code: str, fn: Any, *args: Any, **kw: Any) -> omni.OmniError:
    with pytest.raises(omni.OmniError) as info:
        fn(*args, **kw)
    assert info.value.code == code, info.value
    return info.value


def all_history(engine: omni.Engine, cid: str, **kw: Any) -> Iterator[Dict[str, Any]]:
    cursor = None
    while True:
        page = engine.conversation_history(cid, cursor=cursor, **kw)
        yield from page["items"]
        cursor = page["next"]
        if cursor is None:
            return


# ---- the header ----------------------------------------------------------------------


def test_every_conversation_function_has_a_prototype() -> None:
    from omni import _lib

    with open(HEADER, encoding="utf-8") as f:
        names = set(re.findall(r"OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(", f.read()))
    assert len(names) == 18
    assert sorted(names - set(_lib.PROTOTYPES)) == []
    for name in names:
        assert getattr(_lib.lib(), name).argtypes is not None


def test_enums_match_the_header_and_the_library() -> None:
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()

    def members(enum_name: str) -> Dict[str, int]:
        body = re.search(r"typedef enum " + enum_name + r" \{(.*?)\}", text, re.S)
        assert body, enum_name
        return {k: int(v) for k, v in
                re.findall(r"OMNI_CONVERSATION_([A-Z_]+) = (\d+)", body.group(1))}

    assert members("omni_conversation_status") == {
        s.name: int(s) for s in omni.ConversationStatus}
    assert members("omni_conversation_event") == {
        e.name: int(e) for e in omni.ConversationEvent}
    from omni._lib import lib

    for s in omni.ConversationStatus:
        assert lib().omni_conversation_status_name(int(s)).decode() == s.label
    for e in omni.ConversationEvent:
        assert lib().omni_conversation_event_name(int(e)).decode() == e.label
    assert lib().omni_conversation_status_name(6) is None
    assert omni.CONVERSATION_STATUSES[omni.ConversationStatus.REOPENED] == "reopened"
    assert omni.CONVERSATION_EVENTS[-1] == "set_metadata"
    assert omni.ConversationEvent.AGENT_ASSIGNED.label == "agent_assigned"


# ---- the pure state machine -----------------------------------------------------------


def _table() -> Dict[str, List[str]]:
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    rows: Dict[str, List[str]] = {}
    for event in omni.CONVERSATION_EVENTS:
        m = re.search(r"^ \*\s+" + event + r"((?:\s+(?:[a-z]+|-)){6})\s*$", text, re.M)
        assert m, event
        rows[event] = m.group(1).split()
    return rows


def test_next_status_follows_the_header_table() -> None:
    table = _table()
    assert len(table) == 11
    for event, row in table.items():
        for status, expected in zip(omni.CONVERSATION_STATUSES, row):
            if expected == "-":
                err = raises("INVALID_TRANSITION", omni.conversation_next_status, status, event)
                assert err.status == omni.Status.ETRANSITION
                assert event in err.message and status in err.message
                assert err.retryable is False
            else:
                assert omni.conversation_next_status(status, event) == expected
    # enum members (or their numbers) work as well as names
    assert omni.conversation_next_status(omni.ConversationStatus.NEW,
                                         omni.ConversationEvent.ESCALATE) == "escalated"
    assert omni.conversation_next_status(2, 0) == "reopened"


def test_next_status_errors() -> None:
    for status, event in [("bogus", "resolve"), ("active", "bogus"), ("Active", "resolve"),
                          (6, 0), (0, 11), (-1, 0), (2**40, 0), ("", "resolve")]:
        err = raises("INVALID_ARGUMENT", omni.conversation_next_status, status, event)
        assert err.status == omni.Status.EINVAL
    raises("INVALID_ARGUMENT", omni.conversation_next_status, "new\0x", "resolve")
    for status, event in [(None, "resolve"), ("new", 1.5), (True, "resolve"), ("new", [])]:
        with pytest.raises(TypeError):
            omni.conversation_next_status(status, event)  # type: ignore[arg-type]


def _doc(**over: Any) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "conversationId": "conv-1", "customerId": "cust-1", "accountId": "acc-1",
        "businessUnitId": "bu-1", "tenantId": "t-1",
        "channel": {"type": "whatsapp", "carrier": "whatsapp"}, "status": "active",
        "assignedTo": None,
        "participants": [{"id": "cust-1", "type": "customer",
                          "joinedAt": "2026-01-01T00:00:00.000Z", "status": "active"}],
        "metadata": {"startedAt": "2026-01-01T00:00:00.000Z",
                     "lastActivityAt": "2026-01-01T00:00:00.000Z", "messageCount": 1,
                     "topics": [], "priority": "normal"},
        "lastInboundAt": "2026-01-01T00:00:00.000Z",
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
    }
    doc.update(over)
    return doc


def test_apply_assigns_escalates_and_computes_the_window() -> None:
    out = omni.conversation_apply(_doc(), {"event": "agent_assigned", "agentId": "agent-7"},
                                  T0_MS + HOUR)
    conv = out["conversation"]
    assert conv["status"] == "active"
    assert conv["assignedTo"] == "agent-7"
    assert [p["id"] for p in conv["participants"]] == ["cust-1", "agent-7"]
    assert conv["participants"][1] == {"id": "agent-7", "type": "agent",
                                       "joinedAt": "2026-01-01T01:00:00.000Z",
                                       "status": "active"}
    assert conv["updatedAt"] == "2026-01-01T01:00:00.000Z"
    assert conv["serviceWindow"] == {"open": True, "expiresAt": "2026-01-02T00:00:00.000Z"}
    [ev] = out["events"]
    assert ev == {"source": "omni.workflow", "detailType": "conversation.assigned",
                  "detail": {"conversationId": "conv-1", "previousAssignee": None,
                             "newAssignee": "agent-7",
                             "assignedAt": "2026-01-01T01:00:00.000Z"}}

    # the result feeds the next apply (JSON text works as well as a dict)
    out2 = omni.conversation_apply(json.dumps(conv), '{"event": "escalate", "priority": "urgent"}',
                                   T0_MS + 25 * HOUR)
    assert out2["conversation"]["status"] == "escalated"
    assert out2["conversation"]["assignedTo"] == "agent-7"  # a human assignee stays
    assert out2["conversation"]["metadata"]["priority"] == "urgent"
    assert out2["conversation"]["serviceWindow"]["open"] is False
    assert detail_types(out2) == ["conversation.status_changed"]
    assert out2["events"][0]["detail"]["previousStatus"] == "active"
    assert out2["events"][0]["detail"]["newStatus"] == "escalated"

    # explicit "at"; set_metadata changes nothing but metadata and emits nothing
    out3 = omni.conversation_apply(_doc(), {"event": "set_metadata", "sentiment": "negative",
                                            "topics": ["billing"], "at": "2026-01-01T00:30:00Z"},
                                   T0_MS)
    assert out3["events"] == []
    meta = out3["conversation"]["metadata"]
    assert meta["sentiment"] == "negative" and meta["topics"] == ["billing"]
    assert out3["conversation"]["updatedAt"] == "2026-01-01T00:30:00.000Z"


def test_apply_preconditions_and_errors() -> None:
    doc = _doc()
    err = raises("INVALID_TRANSITION", omni.conversation_apply, doc, {"event": "reopen"}, T0_MS)
    assert err.status == omni.Status.ETRANSITION
    # agent_left / agent_transferred need an agent; inactivity needs the timeout
    raises("INVALID_TRANSITION", omni.conversation_apply, doc, {"event": "agent_left"}, T0_MS)
    raises("INVALID_TRANSITION", omni.conversation_apply, doc,
           {"event": "agent_transferred", "agentId": "a2"}, T0_MS)
    raises("INVALID_TRANSITION", omni.conversation_apply, doc,
           {"event": "inactivity_timeout"}, T0_MS + HOUR)
    out = omni.conversation_apply(doc, {"event": "inactivity_timeout"}, T0_MS + 24 * HOUR)
    assert out["conversation"]["status"] == "expired"
    out = omni.conversation_apply(doc, {"event": "inactivity_timeout",
                                        "inactivityTimeoutMs": HOUR}, T0_MS + HOUR)
    assert out["conversation"]["status"] == "expired"
    # bad events
    for event in [{"event": "agent_assigned"},                 # needs agentId
                  {"event": "bot_handover"},                   # needs botId
                  {"event": "set_metadata"},                   # needs something to set
                  {"event": "fly"}, {}, {"event": "resolve", "extra": 1},
                  {"event": "resolve", "priority": "whenever"},
                  {"event": "resolve", "at": "yesterday"},
                  {"event": "agent_assigned", "agentId": "bad id!"}]:
        raises("INVALID_ARGUMENT", omni.conversation_apply, doc, event, T0_MS)
    # bad documents
    for bad in [_doc(status="sleeping"), _doc(channel="sms"), _doc(metadata={}),
                _doc(conversationId=""), {"conversationId": "c"}]:
        raises("INVALID_ARGUMENT", omni.conversation_apply, bad, {"event": "resolve"}, T0_MS)
    raises("INVALID_ARGUMENT", omni.conversation_apply, "[1]", {"event": "resolve"}, T0_MS)
    raises("INVALID_JSON", omni.conversation_apply, "{", {"event": "resolve"}, T0_MS)
    raises("INVALID_JSON", omni.conversation_apply, doc, b'{"event": "resolve",}', T0_MS)
    raises("INVALID_ARGUMENT", omni.conversation_apply, doc, {"event": "resolve"}, -1)
    big = _doc(metadata={**_doc()["metadata"], "topics": ["x" * 300_000]})
    raises("PAYLOAD_TOO_LARGE", omni.conversation_apply, big, {"event": "resolve"}, T0_MS)
    with pytest.raises(TypeError):
        omni.conversation_apply([doc], {"event": "resolve"}, T0_MS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        omni.conversation_apply(doc, {"event": "resolve"}, "now")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        omni.conversation_apply(doc, {"event": "resolve"}, 2**63)
    # no now_ms: the system clock (long after T0, so the window is closed)
    assert omni.conversation_apply(doc, {"event": "resolve"})["conversation"]["status"] == (
        "resolved")


# ---- steps ------------------------------------------------------------------------------


def test_step_creates_then_continues() -> None:
    with omni.Engine(FIXED) as engine:
        first = engine.conversation_step(msg("SM1"))
        assert first["success"] is True and first["duplicate"] is False
        assert first["correlationId"] == "corr-SM1"
        assert first["nextStep"] == "workFlowPreRoute"
        conv = first["conversation"]
        cid = conv["conversationId"]
        assert conv["status"] == "new"
        assert conv["channel"] == {"type": "sms", "carrier": "twilio"}
        assert "serviceWindow" not in conv  # WhatsApp only
        assert first["messageState"] == {"messageId": first["messageState"]["messageId"],
                                         "sequenceNumber": 1, "deliveryStatus": "processing",
                                         "direction": "inbound"}
        assert first["routing"] == {"accountId": "acc-1", "businessUnitId": "bu-1",
                                    "tenantId": "", "conversationId": cid,
                                    "customerId": "cust-1", "channel": "sms",
                                    "assignedTo": None, "priority": "normal"}
        assert detail_types(first) == ["conversation.created", "message.created"]
        assert first["events"][0]["detail"]["createdAt"] == "2026-01-01T00:00:00.000Z"
        omni.uuid_parse(cid)  # a UUID (v7)
        assert cid[14] == "7"

        second = engine.conversation_step(msg("SM2", content="more"))
        assert second["duplicate"] is False
        assert second["conversation"]["conversationId"] == cid
        assert second["conversation"]["status"] == "active"
        assert second["messageState"]["sequenceNumber"] == 2
        assert detail_types(second) == ["conversation.status_changed", "message.created"]
        assert second["events"][0]["detail"]["previousStatus"] == "new"
        assert second["events"][0]["detail"]["newStatus"] == "active"

        doc = engine.conversation_get(cid)
        assert doc["status"] == "active" and doc["metadata"]["messageCount"] == 2
        assert doc["customerId"] == "cust-1" and doc["accountId"] == "acc-1"
        assert doc["lastInboundAt"] == "2026-01-01T00:00:00.000Z"
        assert "lastMessage" not in doc
        assert engine.conversation_window(cid) == (True, 0)


def test_step_duplicates_change_nothing() -> None:
    with omni.Engine(FIXED) as engine:
        first = engine.conversation_step(msg("SM1"))
        cid = first["conversation"]["conversationId"]
        again = engine.conversation_step(msg("SM1"))  # the pending latest message
        assert again["duplicate"] is True and again["events"] == []
        assert again["messageState"] == first["messageState"]
        assert again["conversation"]["conversationId"] == cid
        engine.conversation_step(msg("SM2"))
        older = engine.conversation_step(msg("SM1"))  # found by its reference record
        assert older["duplicate"] is True
        assert older["messageState"]["sequenceNumber"] == 1
        assert older["correlationId"] == "corr-SM1"
        # the same id in the other direction, or from another carrier, is another message
        out = engine.conversation_step(msg("SM1", direction="outbound"))
        assert out["duplicate"] is False and out["messageState"]["sequenceNumber"] == 3
        assert out["messageState"]["deliveryStatus"] == "pending"
        assert engine.conversation_get(cid)["metadata"]["messageCount"] == 3
        assert [m["sequenceNumber"] for m in all_history(engine, cid)] == [1, 2, 3]


def test_step_channels_accounts_and_options() -> None:
    with omni.Engine(FIXED) as engine:
        sms = engine.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        mms = engine.conversation_step(msg("MM1", channel_type="mms"))
        assert mms["conversation"]["conversationId"] == sms  # sms and mms share "sms"
        chat = engine.conversation_step(msg("CH1", carrier="twilio", channel_type="chat"))
        assert chat["routing"]["channel"] == "whatsapp"
        lc = engine.conversation_step(msg("LC1", carrier="livechat", channel_type=None))
        assert lc["routing"]["channel"] == "livechat"
        named = engine.conversation_step(msg("X1", channel="web-widget"))
        assert named["routing"]["channel"] == "web-widget"
        other = engine.conversation_step(msg("SM9", account="acc-2"))
        ids = {sms, chat["conversation"]["conversationId"], lc["conversation"]["conversationId"],
               named["conversation"]["conversationId"], other["conversation"]["conversationId"]}
        assert len(ids) == 5
        # options (the clock stands still: no time has passed for the 1 ms timeout)
        r = engine.conversation_step(msg("SM10"), {"inactivityTimeoutMs": 1})
        assert r["conversation"]["status"] == "active"
        r = engine.conversation_step(msg("SM11"), '{"maxAttempts": 1, "dedupeWindowMs": 0}')
        assert r["conversation"]["status"] == "active"
        assert r["messageState"]["sequenceNumber"] == 4  # SM1, MM1, SM10, SM11


def test_step_errors() -> None:
    with omni.Engine(FIXED) as engine:
        raises("INVALID_JSON", engine.conversation_step, "{")
        raises("INVALID_JSON", engine.conversation_step, b"\xff")
        raises("INVALID_ARGUMENT", engine.conversation_step, "[]")
        for key in ["identity", "routing", "enrichedMessage", "correlationId"]:
            bad = msg("SM1")
            del bad[key]
            raises("INVALID_ARGUMENT", engine.conversation_step, bad)
        for bad in [msg("SM1", customer="bad id!"), msg("SM1", account=""),
                    msg("SM1", direction="sideways"), msg("SM1", channel="Bad Channel"),
                    msg("SM1", channel_type="pigeon"), msg("SM1\n"), msg("x" * 257), msg(""),
                    msg("SM1", carrier="Twilio"), msg("SM1", carrier="a/b")]:
            raises("INVALID_ARGUMENT", engine.conversation_step, bad)
        too_big = msg("SM1", content="x" * (300 * 1024))
        raises("PAYLOAD_TOO_LARGE", engine.conversation_step, too_big)
        for opts in [{"bogus": 1}, {"maxAttempts": 0}, {"maxAttempts": 65},
                     {"inactivityTimeoutMs": 0}, {"dedupeWindowMs": -1}, "[]"]:
            raises("INVALID_ARGUMENT", engine.conversation_step, msg("SM1"), opts)
        raises("INVALID_JSON", engine.conversation_step, msg("SM1"), "{")
        with pytest.raises(TypeError):
            engine.conversation_step([msg("SM1")])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            engine.conversation_step(msg("SM1"), 5)  # type: ignore[arg-type]
        # nothing was recorded by the failed calls
        assert engine.conversation_list("cust-1")["items"] == []
    err = raises("INVALID_ARGUMENT", engine.conversation_step, msg("SM1"))  # closed engine
    assert "closed" in err.message


def test_step_accepts_ids_at_their_limits() -> None:
    with omni.Engine(FIXED) as engine:
        long_msg = "S" * 256
        r = engine.conversation_step(msg(long_msg, customer="c" * 128, account="a" * 128,
                                         channel="x" * 32))
        cid = r["conversation"]["conversationId"]
        assert r["routing"]["channel"] == "x" * 32
        assert [m["carrierMessageId"] for m in all_history(engine, cid)] == [long_msg]
        assert len(engine.conversation_list("c" * 128)["items"]) == 1
        assert engine.conversation_delivery({"carrier": "twilio", "carrierMessageId": long_msg,
                                             "status": "sent"})["changed"] is True
        raises("INVALID_ARGUMENT", engine.conversation_step, msg("S1", customer="c" * 129))
        raises("INVALID_ARGUMENT", engine.conversation_step, msg("S1", account="a" * 129))
        raises("INVALID_ARGUMENT", engine.conversation_step, msg("S1", channel="x" * 33))


def test_concurrent_steps_are_exactly_once() -> None:
    with omni.Engine(FIXED) as engine:
        cid = engine.conversation_step(msg("first"))["conversation"]["conversationId"]
        errors: List[BaseException] = []

        def worker(n: int) -> None:
            try:
                for i in range(10):
                    # every message twice: the second one is a duplicate
                    for _ in range(2):
                        engine.conversation_step(msg(f"T{n}-{i}"), {"maxAttempts": 64})
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        items = list(all_history(engine, cid, limit=7))
        assert [m["sequenceNumber"] for m in items] == list(range(1, 42))
        assert len({m["carrierMessageId"] for m in items}) == 41
        assert engine.conversation_get(cid)["metadata"]["messageCount"] == 41


def test_engines_sharing_one_sqlite_file_step_exactly_once(tmp_path: Any) -> None:
    db = str(tmp_path / "shared.db")
    with at(db, 0) as e:
        cid = e.conversation_step(msg("first"))["conversation"]["conversationId"]
    errors: List[BaseException] = []

    def worker(n: int) -> None:
        try:
            with at(db, 1000) as engine:  # one engine (and connection) per "host"
                for i in range(5):
                    for _ in range(2):
                        engine.conversation_step(msg(f"H{n}-{i}"), {"maxAttempts": 64})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with at(db, 2000) as e:
        items = list(all_history(e, cid))
        assert [m["sequenceNumber"] for m in items] == list(range(1, 22))
        assert len({m["carrierMessageId"] for m in items}) == 21
        assert len({m["messageId"] for m in items}) == 21


# ---- time: inactivity and the WhatsApp window ---------------------------------------------


def test_inactivity_reopens_and_settings_apply(tmp_path: Any) -> None:
    db = str(tmp_path / "conv.db")
    with at(db, 0) as e:
        cid = e.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        e.conversation_step(msg("SM2"))
    with at(db, 23 * HOUR) as e:
        assert e.conversation_step(msg("SM3"))["conversation"]["status"] == "active"
    with at(db, 48 * HOUR) as e:  # 25 h after the last message: past the 24 h default
        r = e.conversation_step(msg("SM4"))
        assert r["conversation"]["conversationId"] == cid
        assert r["conversation"]["status"] == "reopened"
        assert r["events"][0]["detail"] == {"conversationId": cid, "previousStatus": "active",
                                            "newStatus": "reopened",
                                            "changedAt": "2026-01-03T00:00:00.000Z"}
        e.conversation_settings_set("acc-1", {"inactivityTimeoutMs": HOUR})
    with at(db, 48 * HOUR + 30 * 60 * 1000) as e:
        assert e.conversation_step(msg("SM5"))["conversation"]["status"] == "active"
    with at(db, 50 * HOUR) as e:  # the account's 1 h timeout
        assert e.conversation_step(msg("SM6"))["conversation"]["status"] == "reopened"
        # transition's inactivity_timeout uses the account's timeout too
        raises("INVALID_TRANSITION", e.conversation_transition, cid,
               {"event": "inactivity_timeout"})
    with at(db, 51 * HOUR) as e:
        out = e.conversation_transition(cid, {"event": "inactivity_timeout"})
        assert out["conversation"]["status"] == "expired"
        # options beat the settings
        r = e.conversation_step(msg("SM7"), {"inactivityTimeoutMs": 100 * HOUR})
        assert r["conversation"]["status"] == "reopened"  # expired -> reopened by a message
        assert r["messageState"]["sequenceNumber"] == 7


def test_dedupe_window_setting(tmp_path: Any) -> None:
    db = str(tmp_path / "dedupe.db")
    with at(db, 0) as e:
        e.conversation_settings_set("acc-1", {"dedupeWindowMs": 60_000})
        e.conversation_step(msg("SM1"))
        e.conversation_step(msg("SM2"))
        assert e.conversation_step(msg("SM1"))["duplicate"] is True
    with at(db, 30_000) as e:
        assert e.conversation_step(msg("SM1"))["duplicate"] is True
    with at(db, 120_000) as e:  # SM1's reference expired: it is recorded again
        r = e.conversation_step(msg("SM1"))
        assert r["duplicate"] is False and r["messageState"]["sequenceNumber"] == 3


def test_whatsapp_service_window(tmp_path: Any) -> None:
    db = str(tmp_path / "wa.db")
    with at(db, 0) as e:
        # a conversation opened by us: no window yet, only templates
        err = raises("SERVICE_WINDOW_CLOSED", e.conversation_step,
                     wa("out-0", customer="cust-9", direction="outbound"))
        assert err.status == omni.Status.EWINDOW and err.retryable is False
        assert e.conversation_list("cust-9")["items"] == []  # nothing recorded
        t = e.conversation_step(wa("out-1", customer="cust-9", direction="outbound",
                                   content_type="template"))
        assert t["conversation"]["serviceWindow"] == {"open": False, "expiresAt": None}
        assert e.conversation_window(t["conversation"]["conversationId"]) == (False, 0)

        first = e.conversation_step(wa("wamid.1"))
        cid = first["conversation"]["conversationId"]
        assert first["routing"]["channel"] == "whatsapp"
        assert first["conversation"]["serviceWindow"] == {
            "open": True, "expiresAt": "2026-01-02T00:00:00.000Z"}
        window = e.conversation_window(cid)
        assert window == (True, T0_MS + 24 * HOUR)
        assert window.open is True and window.expires_at == "2026-01-02T00:00:00.000Z"
        reply = e.conversation_step(wa("out-2", direction="outbound"))
        assert reply["messageState"]["deliveryStatus"] == "pending"
    with at(db, 23 * HOUR) as e:
        # outbound messages do not move the window
        e.conversation_step(wa("out-3", direction="outbound"))
        assert e.conversation_window(cid).expires_at_ms == T0_MS + 24 * HOUR
    with at(db, 24 * HOUR) as e:
        is_open, expires = e.conversation_window(cid)
        assert (is_open, expires) == (False, T0_MS + 24 * HOUR)
        assert e.conversation_get(cid)["serviceWindow"]["open"] is False
        err = raises("SERVICE_WINDOW_CLOSED", e.conversation_step,
                     wa("out-4", direction="outbound"))
        assert err.status == omni.Status.EWINDOW
        assert isinstance(err, omni.OmniError) and err.to_dict()["code"] == (
            "SERVICE_WINDOW_CLOSED")
        t = e.conversation_step(wa("out-5", direction="outbound", content_type="template"))
        assert t["duplicate"] is False
        # the customer writes again: the window reopens for 24 h
        e.conversation_step(wa("wamid.2"))
        assert e.conversation_window(cid) == (True, T0_MS + 48 * HOUR)
        e.conversation_step(wa("out-6", direction="outbound"))
        # other channels always have an open window
        sms = e.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        assert e.conversation_window(sms) == omni.ServiceWindow(True, 0)
        assert e.conversation_window(sms).expires_at is None
        raises("NOT_FOUND", e.conversation_window, "no-such-conversation")
        raises("INVALID_ARGUMENT", e.conversation_window, "bad id!")


# ---- transitions ---------------------------------------------------------------------------


def test_transitions_valid_and_invalid() -> None:
    with omni.Engine(FIXED) as engine:
        cid = engine.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        engine.conversation_step(msg("SM2"))

        out = engine.conversation_transition(cid, {"event": "agent_assigned",
                                                   "agentId": "agent-1"})
        assert out["conversation"]["assignedTo"] == "agent-1"
        assert detail_types(out) == ["conversation.assigned"]
        assert engine.conversation_get(cid)["assignedTo"] == "agent-1"

        err = raises("INVALID_TRANSITION", engine.conversation_transition, cid,
                     {"event": "agent_transferred", "agentId": "agent-1"})
        assert err.status == omni.Status.ETRANSITION

        out = engine.conversation_transition(cid, '{"event": "agent_transferred", '
                                                  '"agentId": "agent-2", "reason": "shift"}')
        parts = {p["id"]: p["status"] for p in out["conversation"]["participants"]}
        assert parts == {"cust-1": "active", "agent-1": "transferred", "agent-2": "active"}
        assert out["events"][0]["detail"]["previousAssignee"] == "agent-1"

        out = engine.conversation_transition(cid, {"event": "agent_left"})
        assert out["conversation"]["assignedTo"] is None
        assert out["events"][0]["detail"]["newAssignee"] is None
        raises("INVALID_TRANSITION", engine.conversation_transition, cid,
               {"event": "agent_left"})

        out = engine.conversation_transition(cid, {"event": "bot_handover", "botId": "bot-1"})
        assert out["conversation"]["assignedTo"] == "bot-1"
        out = engine.conversation_transition(cid, {"event": "escalate"})
        assert out["conversation"]["status"] == "escalated"
        assert out["conversation"]["assignedTo"] is None  # bots leave on escalation
        assert detail_types(out) == ["conversation.status_changed", "conversation.assigned"]

        raises("INVALID_TRANSITION", engine.conversation_transition, cid, {"event": "escalate"})
        out = engine.conversation_transition(cid, {"event": "resolve"})
        assert out["conversation"]["status"] == "resolved"
        raises("INVALID_TRANSITION", engine.conversation_transition, cid, {"event": "resolve"})
        out = engine.conversation_transition(cid, {"event": "reopen"})
        assert out["conversation"]["status"] == "reopened"
        raises("INVALID_TRANSITION", engine.conversation_transition, cid, {"event": "reopen"})

        out = engine.conversation_transition(cid, {"event": "set_metadata",
                                                   "priority": "high"})
        assert out["events"] == []
        assert engine.conversation_get(cid)["metadata"]["priority"] == "high"

        # a failed transition changes nothing
        before = engine.conversation_get(cid)
        for event in [{"event": "inbound_message"}, {"event": "outbound_message"},
                      {"event": "nope"}, {"event": "agent_assigned"}, {"event": 7},
                      {"event": "set_metadata"}, "[]"]:
            raises("INVALID_ARGUMENT", engine.conversation_transition, cid, event)
        raises("INVALID_JSON", engine.conversation_transition, cid, "{")
        assert engine.conversation_get(cid) == before

        raises("NOT_FOUND", engine.conversation_transition, "missing", {"event": "resolve"})
        raises("INVALID_ARGUMENT", engine.conversation_transition, "bad id!",
               {"event": "resolve"})
        with pytest.raises(TypeError):
            engine.conversation_transition(cid, None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            engine.conversation_transition(42, {"event": "resolve"})  # type: ignore[arg-type]


# ---- history and lists ------------------------------------------------------------------------


def test_history_pages_and_filters(tmp_path: Any) -> None:
    db = str(tmp_path / "history.db")
    kinds = [("inbound", "text"), ("outbound", "text"), ("inbound", "image"),
             ("outbound", "template"), ("inbound", "text"), ("inbound", "image"),
             ("outbound", "text")]
    for i, (direction, ctype) in enumerate(kinds):
        with at(db, i * 60_000) as e:  # one message a minute
            r = e.conversation_step(msg(f"M{i + 1}", direction=direction, content_type=ctype))
            cid = r["conversation"]["conversationId"]
    with at(db, HOUR) as e:
        page = e.conversation_history(cid)
        assert [m["sequenceNumber"] for m in page["items"]] == [1, 2, 3, 4, 5, 6, 7]
        assert page["next"] is None
        first = page["items"][0]
        assert first["conversationId"] == cid and first["carrier"] == "twilio"
        assert first["carrierMessageId"] == "M1" and first["direction"] == "inbound"
        assert first["contentType"] == "text" and first["deliveryStatus"] == "processing"
        assert first["correlationId"] == "corr-M1"
        assert first["message"]["content"] == "hi"
        assert first["createdAt"] == "2026-01-01T00:00:00.000Z"
        assert page["items"][6]["createdAt"] == "2026-01-01T00:06:00.000Z"

        # pages of 3
        p1 = e.conversation_history(cid, limit=3)
        assert [m["sequenceNumber"] for m in p1["items"]] == [1, 2, 3] and p1["next"]
        p2 = e.conversation_history(cid, limit=3, cursor=p1["next"])
        assert [m["sequenceNumber"] for m in p2["items"]] == [4, 5, 6]
        p3 = e.conversation_history(cid, limit=3, cursor=p2["next"])
        assert [m["sequenceNumber"] for m in p3["items"]] == [7]
        assert p3["next"] is None or e.conversation_history(
            cid, limit=3, cursor=p3["next"])["items"] == []
        # the same with the query document
        q = e.conversation_history(cid, {"limit": 3, "cursor": p1["next"]})
        assert q == p2
        assert e.conversation_history(cid, '{"limit": 3}') == p1

        def seqs(**kw: Any) -> List[int]:
            return [m["sequenceNumber"] for m in all_history(e, cid, **kw)]

        assert seqs(direction="outbound") == [2, 4, 7]
        assert seqs(direction="inbound", limit=2) == [1, 3, 5, 6]
        assert seqs(content_type="image") == [3, 6]
        assert seqs(content_type="template", direction="outbound") == [4]
        assert seqs(since="2026-01-01T00:02:00Z") == [3, 4, 5, 6, 7]  # inclusive
        assert seqs(until="2026-01-01T00:02:00Z") == [1, 2]  # exclusive
        assert seqs(since=T0_MS + 60_000, until=T0_MS + 180_000) == [2, 3]
        assert seqs(since=datetime.datetime(2026, 1, 1, 0, 5, tzinfo=datetime.timezone.utc),
                    direction="inbound") == [6]
        assert seqs(until=datetime.datetime(2026, 1, 1, 0, 1)) == [1]  # naive = UTC
        assert seqs(content_type="video") == []

        # errors
        with pytest.raises(TypeError):
            e.conversation_history(cid, {"limit": 3}, limit=3)
        with pytest.raises(TypeError):
            e.conversation_history(cid, since=1.5)  # type: ignore[arg-type]
        for kw in [{"limit": 0}, {"limit": 1001}, {"limit": "3"}, {"direction": "up"},
                   {"since": "yesterday"}, {"content_type": ""}]:
            raises("INVALID_ARGUMENT", e.conversation_history, cid, **kw)
        raises("INVALID_ARGUMENT", e.conversation_history, cid, {"status": "active"})
        raises("INVALID_ARGUMENT", e.conversation_history, cid, "[]")
        raises("INVALID_JSON", e.conversation_history, cid, "{")
        other = e.conversation_step(msg("O1", customer="cust-2"))["conversation"]
        other_page = e.conversation_history(other["conversationId"], limit=1)
        assert [m["carrierMessageId"] for m in other_page["items"]] == ["O1"]
        raises("INVALID_ARGUMENT", e.conversation_history, cid, cursor="someone-else/000000000001")
        raises("NOT_FOUND", e.conversation_history, "nope")
        raises("INVALID_ARGUMENT", e.conversation_history, "bad id!")


def test_list_a_customers_conversations() -> None:
    with omni.Engine(FIXED) as engine:
        assert engine.conversation_list("cust-1") == {"items": [], "next": None}
        sms = engine.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        engine.conversation_step(msg("SM2"))
        whatsapp = engine.conversation_step(wa("wamid.1"))["conversation"]["conversationId"]
        other_acc = engine.conversation_step(msg("SM3", account="acc-2"))
        engine.conversation_step(msg("SM4", customer="cust-10"))  # a longer id, same prefix
        engine.conversation_transition(whatsapp, {"event": "resolve"})

        page = engine.conversation_list("cust-1")
        ids = [c["conversationId"] for c in page["items"]]
        assert sorted(ids) == sorted([sms, whatsapp,
                                      other_acc["conversation"]["conversationId"]])
        assert page["next"] is None
        by_id = {c["conversationId"]: c for c in page["items"]}
        assert by_id[sms]["status"] == "active" and by_id[sms]["customerId"] == "cust-1"
        assert by_id[whatsapp]["serviceWindow"]["open"] is True
        assert by_id[whatsapp]["status"] == "resolved"

        seen = []
        cursor = None
        while True:
            p = engine.conversation_list("cust-1", limit=1, cursor=cursor)
            seen += [c["conversationId"] for c in p["items"]]
            cursor = p["next"]
            if cursor is None:
                break
        assert seen == ids

        assert [c["conversationId"] for c in engine.conversation_list(
            "cust-1", status="resolved")["items"]] == [whatsapp]
        assert len(engine.conversation_list(
            "cust-1", status=omni.ConversationStatus.NEW)["items"]) == 1  # acc-2's
        assert len(engine.conversation_list("cust-1", {"status": "active"})["items"]) == 1
        assert engine.conversation_list("cust-10")["items"][0]["customerId"] == "cust-10"
        assert engine.conversation_list("nobody")["items"] == []

        raises("INVALID_ARGUMENT", engine.conversation_list, "cust-1", status="sleeping")
        raises("INVALID_ARGUMENT", engine.conversation_list, "cust-1", limit=0)
        raises("INVALID_ARGUMENT", engine.conversation_list, "cust-1", {"direction": "inbound"})
        raises("INVALID_ARGUMENT", engine.conversation_list, "cust-1", cursor="cust-2/x")
        raises("INVALID_ARGUMENT", engine.conversation_list, "bad id!")
        raises("INVALID_JSON", engine.conversation_list, "cust-1", "{")
        with pytest.raises(TypeError):
            engine.conversation_list("cust-1", {"limit": 1}, limit=1)
        with pytest.raises(TypeError):
            engine.conversation_list(None)  # type: ignore[arg-type]


# ---- delivery status --------------------------------------------------------------------------


def test_delivery_status_only_moves_forward() -> None:
    with omni.Engine(FIXED) as engine:
        engine.conversation_step(msg("SM1"))
        out = engine.conversation_step(msg("out-1", direction="outbound"))
        cid = out["conversation"]["conversationId"]
        mid = out["messageState"]["messageId"]
        ref = {"conversationId": cid, "sequenceNumber": 2}

        r = engine.conversation_delivery({**ref, "status": "sent",
                                          "timestamp": "2026-01-01T00:00:05Z"})
        assert r["changed"] is True
        assert r["message"]["deliveryStatus"] == "sent"
        assert r["message"]["updatedAt"] == "2026-01-01T00:00:05.000Z"
        assert r["message"]["messageId"] == mid
        assert r["events"] == [{"source": "omni.workflow",
                                "detailType": "message.delivery_updated",
                                "detail": {"messageId": mid, "conversationId": cid,
                                           "previousStatus": "pending", "newStatus": "sent",
                                           "updatedAt": "2026-01-01T00:00:05.000Z"}}]
        # backwards or the same: no change, not an error
        for status in ["queued", "pending", "sent"]:
            r = engine.conversation_delivery({**ref, "status": status})
            assert r["changed"] is False and r["events"] == []
            assert r["message"]["deliveryStatus"] == "sent"
        # by the carrier's message id (a status event of Inbound.handle)
        r = engine.conversation_delivery({"carrier": "twilio", "carrierMessageId": "out-1",
                                          "status": "delivered", "kind": "status"})
        assert r["changed"] is True and r["message"]["deliveryStatus"] == "delivered"
        r = engine.conversation_delivery('{"carrier": "twilio", "carrierMessageId": "out-1", '
                                         '"status": "read"}')
        assert r["changed"] is True
        for status in ["failed", "delivered", "undelivered"]:  # read is final
            assert engine.conversation_delivery({**ref, "status": status})["changed"] is False
        history = engine.conversation_history(cid, direction="outbound")["items"]
        assert history[0]["deliveryStatus"] == "read"

        # failed with an error code, then final
        out2 = engine.conversation_step(msg("out-2", direction="outbound"))
        ref2 = {"conversationId": cid, "sequenceNumber": out2["messageState"]["sequenceNumber"]}
        r = engine.conversation_delivery({**ref2, "status": "failed", "errorCode": 30008,
                                          "errorMessage": "Unknown error"})
        assert r["changed"] is True
        assert r["message"]["errorCode"] == 30008
        assert r["message"]["errorMessage"] == "Unknown error"
        assert engine.conversation_delivery({**ref2, "status": "sent"})["changed"] is False
        # an inbound message is found by its carrier id too
        r = engine.conversation_delivery({"carrier": "twilio", "carrierMessageId": "SM1",
                                          "status": "read"})
        assert r["message"]["direction"] == "inbound" and r["changed"] is True

        raises("NOT_FOUND", engine.conversation_delivery, {**ref, "sequenceNumber": 99,
                                                           "status": "sent"})
        # an unknown carrier id is parked, not an error
        assert engine.conversation_delivery(
            {"carrier": "twilio", "carrierMessageId": "nope", "status": "sent"}) == {
                "changed": False, "parked": True, "message": None, "events": []}
        for bad in [{**ref, "status": "lost"}, {**ref}, {"status": "sent"},
                    {**ref, "sequenceNumber": 0, "status": "sent"},
                    {**ref, "status": "sent", "timestamp": "soon"},
                    {**ref, "status": "sent", "errorCode": True},
                    {**ref, "status": "sent", "errorMessage": 5}, "[]"]:
            raises("INVALID_ARGUMENT", engine.conversation_delivery, bad)
        raises("INVALID_JSON", engine.conversation_delivery, "{")
        with pytest.raises(TypeError):
            engine.conversation_delivery(None)  # type: ignore[arg-type]


def test_delivery_attach_and_parked_statuses() -> None:
    with omni.Engine(FIXED) as engine:
        out = engine.conversation_step(msg("idem-1", direction="outbound"))
        cid = out["conversation"]["conversationId"]
        seq = out["messageState"]["sequenceNumber"]
        # callbacks before the provider's id is known: parked, in arrival order
        for status in ("delivered", "sent"):
            r = engine.conversation_delivery({"kind": "status", "carrier": "twilio",
                                              "carrierMessageId": "SM9", "status": status})
            assert r == {"changed": False, "parked": True, "message": None, "events": []}
        attach = {"conversationId": cid, "sequenceNumber": seq, "carrier": "twilio",
                  "carrierMessageId": "SM9", "status": "queued"}
        r = engine.conversation_delivery(attach)
        assert r["changed"] is True and r["parked"] is False
        assert r["message"]["carrierMessageId"] == "SM9"
        assert r["message"]["steppedMessageId"] == "idem-1"
        assert r["message"]["deliveryStatus"] == "delivered"
        assert [(e["detail"]["previousStatus"], e["detail"]["newStatus"])
                for e in r["events"]] == [("pending", "queued"), ("queued", "delivered")]
        assert engine.conversation_delivery(attach)["changed"] is False  # idempotent
        # a fallback carrier's id: a new attempt
        r = engine.conversation_delivery({**attach, "carrier": "bandwidth",
                                          "carrierMessageId": "BW1"})
        assert r["message"]["deliveryStatus"] == "queued"
        assert [i["carrier"] for i in r["message"]["carrierMessageIds"]] == ["twilio",
                                                                             "bandwidth"]
        late = engine.conversation_delivery({"carrier": "twilio", "carrierMessageId": "SM9",
                                             "status": "read"})
        assert late["changed"] is False and late["message"]["deliveryStatus"] == "queued"
        # errors
        inbound = engine.conversation_step(msg("SM-IN"))["messageState"]["sequenceNumber"]
        raises("INVALID_ARGUMENT", engine.conversation_delivery,
               {**attach, "sequenceNumber": inbound})
        raises("NOT_FOUND", engine.conversation_delivery, {**attach, "sequenceNumber": 99})
        other = engine.conversation_step(msg("idem-2", direction="outbound"))
        raises("ALREADY_EXISTS", engine.conversation_delivery,
               {**attach, "sequenceNumber": other["messageState"]["sequenceNumber"]})
        raises("INVALID_ARGUMENT", engine.conversation_delivery,
               {**attach, "carrierMessageId": ""})


# ---- delete and settings -------------------------------------------------------------------------


def test_delete() -> None:
    with omni.Engine(FIXED) as engine:
        cid = engine.conversation_step(msg("SM1"))["conversation"]["conversationId"]
        engine.conversation_step(msg("SM2"))
        keep = engine.conversation_step(wa("wamid.1"))["conversation"]["conversationId"]
        out = engine.conversation_delete(cid)
        assert out == {"events": [{"source": "omni.workflow",
                                   "detailType": "conversation.deleted",
                                   "detail": {"conversationId": cid,
                                              "deletedAt": "2026-01-01T00:00:00.000Z"}}]}
        for call in (engine.conversation_get, engine.conversation_delete,
                     engine.conversation_history, engine.conversation_window):
            raises("NOT_FOUND", call, cid)
        raises("NOT_FOUND", engine.conversation_transition, cid, {"event": "resolve"})
        # its references are gone: a status for its carrier id names no message
        assert engine.conversation_delivery(
            {"carrier": "twilio", "carrierMessageId": "SM1", "status": "read"})["parked"] is True
        assert [c["conversationId"] for c in engine.conversation_list("cust-1")["items"]] == [
            keep]
        # its messages and references are gone: the same message starts a new conversation
        again = engine.conversation_step(msg("SM1"))
        assert again["duplicate"] is False
        assert again["conversation"]["conversationId"] != cid
        assert again["messageState"]["sequenceNumber"] == 1
        assert engine.conversation_get(keep)["metadata"]["messageCount"] == 1
        raises("INVALID_ARGUMENT", engine.conversation_delete, "bad id!")
        raises("INVALID_ARGUMENT", engine.conversation_delete, "a\0b")


def test_settings() -> None:
    with omni.Engine(FIXED) as engine:
        raises("NOT_FOUND", engine.conversation_settings_get, "acc-1")
        engine.conversation_settings_set("acc-1", {"inactivityTimeoutMs": HOUR,
                                                   "dedupeWindowMs": 0})
        assert engine.conversation_settings_get("acc-1") == {"inactivityTimeoutMs": HOUR,
                                                             "dedupeWindowMs": 0}
        engine.conversation_settings_set("acc-1", '{"dedupeWindowMs": 1000}')  # replaces
        assert engine.conversation_settings_get("acc-1") == {"dedupeWindowMs": 1000}
        engine.conversation_settings_set("acc-2", {})
        assert engine.conversation_settings_get("acc-2") == {}
        raises("NOT_FOUND", engine.conversation_settings_get, "acc-3")
        for bad in [{"bogus": 1}, {"inactivityTimeoutMs": 0},
                    {"inactivityTimeoutMs": 2**40 + 1}, {"dedupeWindowMs": -5},
                    {"dedupeWindowMs": 1.5}, {"maxAttempts": 3}, "[]"]:
            raises("INVALID_ARGUMENT", engine.conversation_settings_set, "acc-1", bad)
        raises("INVALID_JSON", engine.conversation_settings_set, "acc-1", "{")
        raises("INVALID_ARGUMENT", engine.conversation_settings_set, "bad id!", {})
        raises("INVALID_ARGUMENT", engine.conversation_settings_get, "")
        assert engine.conversation_settings_get("acc-1") == {"dedupeWindowMs": 1000}
        with pytest.raises(TypeError):
            engine.conversation_settings_set("acc-1", 5)  # type: ignore[arg-type]


# ---- DynamoDB Streams ----------------------------------------------------------------------------

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/2026-01-01T00:00:00.000"


def test_dynamodb_unmarshall() -> None:
    item = {"id": {"S": "c-1"}, "count": {"N": "42"}, "ratio": {"N": "0.5"},
            "big": {"N": "12345678901234567890123456789012345678"},
            "exact": {"N": "3.1415926535897932384626433832795028841"},  # 38 digits
            "blob": {"B": "aGVsbG8="}, "ok": {"BOOL": True}, "none": {"NULL": True},
            "meta": {"M": {"tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2.5"]}}},
            "list": {"L": [{"S": "x"}, {"N": "-7"}, {"L": []}]},
            "bins": {"BS": ["AQ==", "Ag=="]}}
    out = omni.dynamodb_unmarshall(item)
    assert out["id"] == "c-1" and out["count"] == 42 and out["ratio"] == 0.5
    assert out["big"] == 12345678901234567890123456789012345678
    assert out["blob"] == "aGVsbG8=" and out["ok"] is True and out["none"] is None
    assert out["meta"] == {"tags": ["a", "b"], "nums": [1, 2.5]}
    assert out["list"] == ["x", -7, []]
    assert out["bins"] == ["AQ==", "Ag=="]
    exact = omni.dynamodb_unmarshall(item, use_decimal=True)["exact"]
    assert exact == decimal.Decimal("3.1415926535897932384626433832795028841")
    assert out["exact"] == 3.141592653589793  # a float without use_decimal
    # JSON text in; bytes values of a dict item go out as base64
    assert omni.dynamodb_unmarshall('{"a": {"S": "b"}}') == {"a": "b"}
    assert omni.dynamodb_unmarshall({"b": {"B": b"hello"}}) == {"b": "aGVsbG8="}
    assert omni.dynamodb_unmarshall({}) == {}

    for bad in [{"a": {"S": "x", "N": "1"}}, {"a": {}}, {"a": {"N": "abc"}},
                {"a": {"S": 5}}, {"a": {"BOOL": "yes"}}, {"a": "plain"}, {"a": {"XX": "1"}},
                {"a": {"SS": []}}, {"a": {"B": "not base64!"}}, "[]"]:
        raises("INVALID_ARGUMENT", omni.dynamodb_unmarshall, bad)
    raises("INVALID_JSON", omni.dynamodb_unmarshall, "{")
    with pytest.raises(TypeError):
        omni.dynamodb_unmarshall([1])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        omni.dynamodb_unmarshall({"a": {"S": object()}})


def _record(event_id: str, table: str, name: str, new: Optional[Dict[str, Any]] = None,
            old: Optional[Dict[str, Any]] = None, view: str = "NEW_AND_OLD_IMAGES",
            when: Optional[int] = 1767225600) -> Dict[str, Any]:
    ddb: Dict[str, Any] = {"Keys": {"id": {"S": "k"}}, "StreamViewType": view,
                           "SequenceNumber": "1", "SizeBytes": 10}
    if when is not None:
        ddb["ApproximateCreationDateTime"] = when
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {"eventID": event_id, "eventName": name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "eventSourceARN": ARN.format(table), "dynamodb": ddb}


def test_dynamodb_stream_events() -> None:
    conv_old = {"conversationId": {"S": "c-1"}, "customerId": {"S": "cust-1"},
                "accountId": {"S": "acc-1"}, "channel": {"S": "sms"}, "status": {"S": "new"},
                "assignedTo": {"NULL": True}, "createdAt": {"S": "2026-01-01T00:00:00.000Z"}}
    conv_new = {**conv_old, "status": {"S": "active"}, "assignedTo": {"S": "agent-1"}}
    msg_old = {"messageId": {"S": "m-1"}, "conversationId": {"S": "c-1"},
               "sequenceNumber": {"N": "1"}, "direction": {"S": "outbound"},
               "deliveryStatus": {"S": "pending"},
               "createdAt": {"S": "2026-01-01T00:00:00.000Z"}}
    msg_new = {**msg_old, "deliveryStatus": {"S": "sent"}}
    event = {"Records": [
        _record("1", "conversations", "INSERT", new=conv_old),
        _record("2", "conversations", "MODIFY", new=conv_new, old=conv_old),
        _record("3", "messages", "INSERT", new=msg_old),
        _record("4", "messages", "MODIFY", new=msg_new, old=msg_old),
        _record("5", "conversations", "REMOVE", old=conv_new, when=None),
        _record("6", "audit", "INSERT", new={"id": {"S": "x"}}),
        _record("7", "conversations", "MODIFY", new=conv_new, view="KEYS_ONLY"),
        _record("8", "messages", "INSERT", new={"messageId": {"S": "m-2"},
                                                "count": {"N": "nope"}}),
        _record("9", "conversations", "MODIFY", new=conv_new, old=conv_new),
    ]}
    out = omni.dynamodb_stream_events(event, T0_MS + 5000)
    status = {r["eventID"]: r["status"] for r in out["records"]}
    assert status == {"1": "success", "2": "success", "3": "success", "4": "success",
                      "5": "success", "6": "skipped", "7": "skipped", "8": "failed",
                      "9": "skipped"}
    failed = [r for r in out["records"] if r["status"] == "failed"]
    assert failed[0]["error"]
    assert [e["detailType"] for e in out["events"]] == [
        "conversation.created", "conversation.status_changed", "conversation.assigned",
        "message.created", "message.delivery_updated", "conversation.deleted"]
    assert all(e["source"] == "omni.workflow" for e in out["events"])
    created, changed, assigned, mcreated, delivery, deleted = [e["detail"] for e in
                                                               out["events"]]
    assert created["conversationId"] == "c-1" and created["status"] == "new"
    assert created["customerId"] == "cust-1" and created["channel"] == "sms"
    assert (changed["previousStatus"], changed["newStatus"]) == ("new", "active")
    assert changed["changedAt"] == "2026-01-01T00:00:00.000Z"  # ApproximateCreationDateTime
    assert (assigned["previousAssignee"], assigned["newAssignee"]) == (None, "agent-1")
    assert mcreated["messageId"] == "m-1" and mcreated["sequenceNumber"] == 1
    assert mcreated["createdAt"] == "2026-01-01T00:00:00.000Z"  # the item's
    assert (delivery["previousStatus"], delivery["newStatus"]) == ("pending", "sent")
    assert deleted == {"conversationId": "c-1",
                       "deletedAt": "2026-01-01T00:00:05.000Z"}  # no time: now_ms

    assert omni.dynamodb_stream_events(json.dumps(event), T0_MS + 5000) == out
    assert omni.dynamodb_stream_events({"Records": []}, T0_MS) == {"events": [],
                                                                   "records": []}
    raises("INVALID_ARGUMENT", omni.dynamodb_stream_events, {"records": []}, T0_MS)
    raises("INVALID_ARGUMENT", omni.dynamodb_stream_events, {"Records": {}}, T0_MS)
    raises("INVALID_ARGUMENT", omni.dynamodb_stream_events, "[]", T0_MS)
    raises("INVALID_JSON", omni.dynamodb_stream_events, "{", T0_MS)
    raises("INVALID_ARGUMENT", omni.dynamodb_stream_events, {"Records": []}, -10**15)
    raises("PAYLOAD_TOO_LARGE", omni.dynamodb_stream_events,
           {"Records": [], "pad": "x" * (7 * 1024 * 1024)}, T0_MS)
    with pytest.raises(TypeError):
        omni.dynamodb_stream_events(event, "now")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        omni.dynamodb_stream_events(None)  # type: ignore[arg-type]

"""omni conversation: steps (exactly once), transitions, history, lists,
delivery status, the WhatsApp service window, settings, the pure apply and
the DynamoDB Streams converter; state kept across runs in an SQLite store."""
import json

T0 = "2025-01-02T03:04:05Z"


def event(msg_id="SM1", customer="cust-1", account="acc-1", carrier="twilio",
          channel_type="sms", content_type="text", direction=None):
    ev = {
        "correlationId": "corr-" + msg_id,
        "identity": {"customerId": customer},
        "routing": {"accountId": account, "businessUnitId": "bu-1", "tenantId": "t-1"},
        "enrichedMessage": {"id": msg_id, "carrier": carrier, "channelType": channel_type,
                            "content": "Hi " + msg_id, "contentType": content_type,
                            "timestamp": "2025-01-02T03:04:00Z"},
    }
    if direction:
        ev["direction"] = direction
    return ev


def wa_event(msg_id, **kw):
    return event(msg_id, customer="cust-wa", account="acc-wa", carrier="whatsapp",
                 channel_type="chat", **kw)


class Conv:
    """Runs `omni conversation ...` over one SQLite file."""

    def __init__(self, omni, tmp_path):
        self.omni = omni
        self.store = "sqlite:" + str(tmp_path / "conv.db")

    def __call__(self, *args, input=None, now=None):
        extra = ["--now", now] if now else []
        return self.omni("conversation", *args, "--store", self.store, *extra, input=input)

    def ok(self, *args, input=None, now=None):
        if isinstance(input, (dict, list)):
            input = json.dumps(input)
        r = self(*args, input=input, now=now)
        assert r.code == 0, r.err
        return r.json()

    def step(self, ev, *args, now=T0):
        return self.ok("step", *args, input=ev, now=now)


def test_step_creates_and_continues_across_runs(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    first = conv.step(event("SM1"), now=T0)
    assert first["success"] is True and first["duplicate"] is False
    c = first["conversation"]
    assert c["status"] == "new"
    assert c["channel"] == {"type": "sms", "carrier": "twilio"}
    assert c["metadata"]["startedAt"] == "2025-01-02T03:04:05.000Z"
    assert c["metadata"]["messageCount"] == 1
    assert first["messageState"]["sequenceNumber"] == 1
    assert first["messageState"]["deliveryStatus"] == "processing"
    assert first["messageState"]["direction"] == "inbound"
    assert first["routing"]["customerId"] == "cust-1"
    assert first["routing"]["conversationId"] == c["conversationId"]
    assert first["nextStep"] == "workFlowPreRoute"
    assert [e["detailType"] for e in first["events"]] == ["conversation.created",
                                                           "message.created"]
    assert first["events"][0]["detail"]["createdAt"] == "2025-01-02T03:04:05.000Z"

    # A second process continues the same conversation.
    second = conv.step(event("SM2"), now="2025-01-02T03:05:00Z")
    assert second["conversation"]["conversationId"] == c["conversationId"]
    assert second["conversation"]["status"] == "active"
    assert second["messageState"]["sequenceNumber"] == 2
    assert second["conversation"]["metadata"]["lastActivityAt"] == "2025-01-02T03:05:00.000Z"
    assert [e["detailType"] for e in second["events"]] == ["conversation.status_changed",
                                                            "message.created"]
    doc = conv.ok("get", c["conversationId"])
    assert doc["customerId"] == "cust-1" and doc["accountId"] == "acc-1"
    assert doc["metadata"]["messageCount"] == 2
    assert doc["lastInboundAt"] == "2025-01-02T03:05:00.000Z"
    assert "serviceWindow" not in doc


def test_duplicate_is_detected_across_runs(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    first = conv.step(event("SM1"))
    again = conv.step(event("SM1"), now="2025-01-02T04:00:00Z")
    assert again["duplicate"] is True
    assert again["events"] == []
    assert again["messageState"] == first["messageState"]
    assert again["conversation"]["conversationId"] == first["conversation"]["conversationId"]
    # Nothing changed: the next message still gets sequence number 2.
    assert conv.step(event("SM2"))["messageState"]["sequenceNumber"] == 2
    # The same id outbound is another message.
    out = conv.step(event("SM1", direction="outbound"))
    assert out["duplicate"] is False
    assert out["messageState"]["sequenceNumber"] == 3


def test_array_input_steps_in_order_in_one_run(omni):
    evs = [event("SM1"), event("SM2", direction="outbound"), event("SM1"), event("SM3")]
    r = omni("conversation", "step", "--now", T0, "--seed", "7", input=json.dumps(evs))
    assert r.code == 0, r.err
    res = r.json()
    assert [x["messageState"]["sequenceNumber"] for x in res] == [1, 2, 1, 3]
    assert [x["duplicate"] for x in res] == [False, False, True, False]
    assert [x["messageState"]["direction"] for x in res] == ["inbound", "outbound", "inbound",
                                                               "inbound"]
    assert res[1]["messageState"]["deliveryStatus"] == "pending"
    assert len({x["conversation"]["conversationId"] for x in res}) == 1
    # --seed and --now make the ids reproducible.
    again = omni("conversation", "step", "--now", T0, "--seed", "7", input=json.dumps(evs))
    assert again.json() == res
    assert res[0]["conversation"]["conversationId"][14] == "7"  # a UUIDv7
    assert omni("conversation", "step", input="[]").json() == []


def test_array_stops_at_the_first_error_and_shows_what_was_recorded(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    bad = event("SM2")
    bad["direction"] = "sideways"
    r = conv("step", input=json.dumps([event("SM1"), bad, event("SM3")]), now=T0)
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"
    assert "direction" in r.error()["message"]
    done = json.loads(r.out)
    assert len(done) == 1 and done[0]["messageState"]["sequenceNumber"] == 1
    # SM3 was not stepped.
    assert conv.step(event("SM3"))["messageState"]["sequenceNumber"] == 2


def test_outbound_flag_and_whatsapp_service_window(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    # No customer message yet: the window has never opened.
    r = conv("step", "--outbound", input=json.dumps(wa_event("out-0")), now=T0)
    assert r.code == 1
    err = r.error()
    assert err["code"] == "SERVICE_WINDOW_CLOSED"
    assert err["retryable"] is False
    assert r.out == b""
    # ...and nothing was recorded.
    assert conv.ok("list", "cust-wa")["items"] == []

    first = conv.step(wa_event("wamid.1"), now="2025-01-02T03:00:00Z")
    cid = first["conversation"]["conversationId"]
    assert first["conversation"]["channel"] == {"type": "whatsapp", "carrier": "whatsapp"}
    assert first["conversation"]["serviceWindow"] == {"open": True,
                                                      "expiresAt": "2025-01-03T03:00:00.000Z"}
    reply = conv.step(wa_event("out-1"), "--outbound", now="2025-01-02T04:00:00Z")
    assert reply["messageState"]["direction"] == "outbound"
    assert reply["messageState"]["deliveryStatus"] == "pending"
    # --outbound leaves an explicit direction alone.
    inbound = conv.step(wa_event("wamid.x", direction="inbound"), "--outbound",
                        now="2025-01-02T04:00:00Z")
    assert inbound["messageState"]["direction"] == "inbound"
    assert conv.ok("window", cid, now="2025-01-02T05:00:00Z") == {
        "open": True, "expiresAt": "2025-01-03T04:00:00.000Z"}

    late = "2025-01-03T04:00:01Z"
    assert conv.ok("window", cid, now=late) == {"open": False,
                                                "expiresAt": "2025-01-03T04:00:00.000Z"}
    r = conv("step", "--outbound", input=json.dumps(wa_event("out-2")), now=late)
    assert r.code == 1
    assert r.error()["code"] == "SERVICE_WINDOW_CLOSED"
    # Templates may always be sent.
    tpl = conv.step(wa_event("out-3", content_type="template"), "--outbound", now=late)
    assert tpl["duplicate"] is False
    assert tpl["conversation"]["serviceWindow"]["open"] is False

    # Other channels have no window.
    sms = conv.step(event("SM1"))
    assert conv.ok("window", sms["conversation"]["conversationId"]) == {"open": True,
                                                                         "expiresAt": None}
    r = conv("window", "no-such-conversation")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"


def test_transition_valid_and_invalid(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    cid = conv.step(event("SM1"))["conversation"]["conversationId"]
    t1 = "2025-01-02T03:10:00Z"
    res = conv.ok("transition", cid, input={"event": "agent_assigned", "agentId": "agent-7"},
                  now=t1)
    assert res["conversation"]["status"] == "active"
    assert res["conversation"]["assignedTo"] == "agent-7"
    kinds = [e["detailType"] for e in res["events"]]
    assert kinds == ["conversation.status_changed", "conversation.assigned"]
    assigned = res["events"][1]["detail"]
    assert assigned["previousAssignee"] is None and assigned["newAssignee"] == "agent-7"
    assert assigned["assignedAt"] == "2025-01-02T03:10:00.000Z"

    ev = tmp_path / "resolve.json"
    ev.write_text('{"event": "resolve"}\n')
    res = conv.ok("transition", cid, str(ev), now=t1)
    assert res["conversation"]["status"] == "resolved"
    assert conv.ok("get", cid)["status"] == "resolved"

    r = conv("transition", cid, str(ev))
    assert r.code == 1
    err = r.error()
    assert err["code"] == "INVALID_TRANSITION"
    assert "resolve" in err["message"] and "resolved" in err["message"]
    assert conv.ok("get", cid)["updatedAt"] == "2025-01-02T03:10:00.000Z"

    # A new message reopens it.
    assert conv.step(event("SM2"))["conversation"]["status"] == "reopened"
    # Messages go through step, not transition; unknown events are invalid.
    r = conv("transition", cid, input='{"event": "inbound_message"}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = conv("transition", cid, input='{"event": "dance"}')
    assert r.code == 2
    r = conv("transition", cid, input="{oops")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = conv("transition", "no-such-id", input='{"event": "resolve"}')
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"


def test_history_filters_and_pagination(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    times = ["2025-01-02T03:00:00Z", "2025-01-02T03:01:00Z", "2025-01-02T03:02:00Z",
             "2025-01-02T03:03:00Z", "2025-01-02T03:04:00Z"]
    cid = None
    for i, t in enumerate(times):
        ev = event(f"SM{i + 1}", direction="outbound" if i % 2 else None,
                   content_type="image" if i == 4 else "text")
        cid = conv.step(ev, now=t)["conversation"]["conversationId"]

    page = conv.ok("history", cid)
    assert [m["sequenceNumber"] for m in page["items"]] == [1, 2, 3, 4, 5]
    assert page["next"] is None
    m = page["items"][0]
    assert m["carrierMessageId"] == "SM1" and m["carrier"] == "twilio"
    assert m["message"]["content"] == "Hi SM1"
    assert m["correlationId"] == "corr-SM1"
    assert m["createdAt"] == "2025-01-02T03:00:00.000Z"

    seen, cursor = [], None
    for _ in range(5):
        args = ["history", cid, "--limit", "2"] + (["--cursor", cursor] if cursor else [])
        page = conv.ok(*args)
        seen += [m["sequenceNumber"] for m in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]

    out = conv.ok("history", cid, "--direction", "outbound")
    assert [m["sequenceNumber"] for m in out["items"]] == [2, 4]
    assert all(m["deliveryStatus"] == "pending" for m in out["items"])
    img = conv.ok("history", cid, "--content-type", "image")
    assert [m["sequenceNumber"] for m in img["items"]] == [5]
    win = conv.ok("history", cid, "--since", "2025-01-02T03:01:00Z",
                  "--until=2025-01-02T03:03:00Z")
    assert [m["sequenceNumber"] for m in win["items"]] == [2, 3]

    r = conv("history", cid, "--limit", "many")
    assert r.code == 2
    r = conv("history", cid, "--limit", "0")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = conv("history", cid, "--direction", "up")
    assert r.code == 2
    r = conv("history", "no-such-id")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"


def test_list_a_customers_conversations(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    a = conv.step(event("SM1"))["conversation"]["conversationId"]
    b = conv.step(event("SM2", account="acc-2"))["conversation"]["conversationId"]
    c = conv.step(event("SM3", carrier="whatsapp", channel_type="chat"))
    c = c["conversation"]["conversationId"]
    conv.step(event("SM4", customer="cust-other"))
    conv.ok("transition", b, input={"event": "resolve"})

    items = conv.ok("list", "cust-1")["items"]
    assert sorted(x["conversationId"] for x in items) == sorted([a, b, c])
    assert all(x["customerId"] == "cust-1" for x in items)
    resolved = conv.ok("list", "cust-1", "--status", "resolved")["items"]
    assert [x["conversationId"] for x in resolved] == [b]

    seen, cursor = [], None
    for _ in range(5):
        args = ["list", "cust-1", "--limit", "1"] + (["--cursor", cursor] if cursor else [])
        page = conv.ok(*args)
        seen += [x["conversationId"] for x in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([a, b, c])
    assert conv.ok("list", "nobody") == {"items": [], "next": None}
    assert conv("list", "cust-1", "--status", "sleeping").code == 2


def test_delivery_never_moves_backwards(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    out = conv.step(event("out-1", direction="outbound"))
    cid = out["conversation"]["conversationId"]
    upd = {"conversationId": cid, "sequenceNumber": 1, "status": "delivered"}
    res = conv.ok("delivery", input=upd, now="2025-01-02T03:05:00Z")
    assert res["changed"] is True
    assert res["message"]["deliveryStatus"] == "delivered"
    assert res["message"]["updatedAt"] == "2025-01-02T03:05:00.000Z"
    assert res["events"][0]["detailType"] == "message.delivery_updated"
    assert res["events"][0]["detail"]["previousStatus"] == "pending"
    assert res["events"][0]["detail"]["newStatus"] == "delivered"

    back = conv.ok("delivery", input=dict(upd, status="sent"))
    assert back["changed"] is False and back["events"] == []
    assert back["message"]["deliveryStatus"] == "delivered"
    # A carrier status event finds the message by the carrier's id.
    # (while its reference is kept: the dedupe window, 7 days by default).
    status_event = {"carrier": "twilio", "carrierMessageId": "out-1", "status": "read"}
    read = conv.ok("delivery", input=status_event, now="2025-01-02T03:06:00Z")
    assert read["changed"] is True and read["message"]["deliveryStatus"] == "read"
    # Once the reference expired the carrier id names no message: the status is
    # parked (and applied should an outbound reference of that id appear).
    late = conv.ok("delivery", input=status_event, now="2025-01-10T00:00:00Z")
    assert late == {"changed": False, "parked": True, "message": None, "events": []}
    failed = conv.ok("delivery", input=dict(upd, status="failed"))
    assert failed["changed"] is False
    assert conv.ok("history", cid)["items"][0]["deliveryStatus"] == "read"

    r = conv("delivery", input=json.dumps(dict(upd, sequenceNumber=9)))
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    r = conv("delivery", input=json.dumps(dict(upd, status="lost")))
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"


def test_delivery_attach_and_parked_statuses(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    out = conv.step(event("idem-1", direction="outbound"))
    cid = out["conversation"]["conversationId"]
    # The carrier's callbacks arrive before the provider's id is attached.
    cb = {"kind": "status", "carrier": "twilio", "carrierMessageId": "SM77"}
    for status in ("delivered", "sent"):
        r = conv.ok("delivery", input=dict(cb, status=status), now="2025-01-02T03:04:07Z")
        assert r == {"changed": False, "parked": True, "message": None, "events": []}
    attach = {"conversationId": cid, "sequenceNumber": 1, "carrier": "twilio",
              "carrierMessageId": "SM77", "status": "queued"}
    r = conv.ok("delivery", input=attach, now="2025-01-02T03:04:08Z")
    assert r["changed"] is True and r["parked"] is False
    m = r["message"]
    assert m["carrierMessageId"] == "SM77" and m["steppedMessageId"] == "idem-1"
    assert m["deliveryStatus"] == "delivered"
    assert [(e["detail"]["previousStatus"], e["detail"]["newStatus"]) for e in r["events"]] == [
        ("pending", "queued"), ("queued", "delivered")]
    # Attaching again is a no-op; the carrier id finds the message now.
    again = conv.ok("delivery", input=attach)
    assert again["changed"] is False and again["events"] == []
    read = conv.ok("delivery", input=dict(cb, status="read"))
    assert read["changed"] is True and read["message"]["deliveryStatus"] == "read"
    # A failure parked for a message that is never attached stays parked.
    r = conv.ok("delivery", input={"carrier": "twilio", "carrierMessageId": "SM78",
                                   "status": "failed", "errorCode": "30007"})
    assert r["parked"] is True
    # Errors: an attach to a missing message, an id owned by another message.
    r = conv("delivery", input=json.dumps(dict(attach, sequenceNumber=5)))
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    second = conv.step(event("idem-2", direction="outbound"))
    r = conv("delivery", input=json.dumps(dict(
        attach, sequenceNumber=second["messageState"]["sequenceNumber"])))
    assert r.code == 1 and r.error()["code"] == "ALREADY_EXISTS"
    r = conv("delivery", input=json.dumps(dict(attach, carrier="Twilio")))
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"


def test_delete(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    cid = conv.step(event("SM1"))["conversation"]["conversationId"]
    conv.step(event("SM2"))
    res = conv.ok("delete", cid, now="2025-01-02T05:00:00Z")
    assert res == {"events": [{"source": "omni.workflow", "detailType": "conversation.deleted",
                               "detail": {"conversationId": cid,
                                          "deletedAt": "2025-01-02T05:00:00.000Z"}}]}
    for args in (["get", cid], ["delete", cid], ["history", cid], ["window", cid]):
        r = conv(*args)
        assert r.code == 1, args
        assert r.error()["code"] == "NOT_FOUND"
    assert conv.ok("list", "cust-1")["items"] == []
    # The next message starts a new conversation.
    again = conv.step(event("SM3"))
    assert again["conversation"]["conversationId"] != cid
    assert again["messageState"]["sequenceNumber"] == 1


def test_settings(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    r = conv("settings-get", "acc-1")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    st = conv.ok("settings-set", "acc-1", input='{"inactivityTimeoutMs": 60000}\n')
    assert st == {"inactivityTimeoutMs": 60000}
    f = tmp_path / "settings.json"
    f.write_text('{"inactivityTimeoutMs": 60000, "dedupeWindowMs": 0}')
    assert conv.ok("settings-set", "acc-1", str(f)) == {"inactivityTimeoutMs": 60000,
                                                        "dedupeWindowMs": 0}
    assert conv.ok("settings-get", "acc-1")["dedupeWindowMs"] == 0
    # The account's inactivity timeout: two minutes of silence reopen it.
    conv.step(event("SM1"), now="2025-01-02T03:00:00Z")
    late = conv.step(event("SM2"), now="2025-01-02T03:02:00Z")
    assert late["conversation"]["status"] == "reopened"
    # --options overrides the settings for one step.
    later = conv.step(event("SM3"), "--options", '{"inactivityTimeoutMs": 86400000}',
                      now="2025-01-02T03:10:00Z")
    assert later["conversation"]["status"] == "active"
    r = conv("settings-set", "acc-1", input='{"ttl": 5}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = conv("step", "--options", '{"maxAttempts": 0}', input=json.dumps(event("SM9")))
    assert r.code == 2
    r = conv("step", "--options", "{", input=json.dumps(event("SM9")))
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"


def test_apply_is_pure(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    cid = conv.step(event("SM1"))["conversation"]["conversationId"]
    doc = conv.ok("get", cid)
    f = tmp_path / "conv.json"
    f.write_text(json.dumps(doc))
    r = omni("conversation", "apply", f, "-", "--now", "2025-01-02T06:00:00Z",
             input='{"event": "escalate", "priority": "urgent"}')
    assert r.code == 0, r.err
    res = r.json()
    assert res["conversation"]["status"] == "escalated"
    assert res["conversation"]["metadata"]["priority"] == "urgent"
    assert res["conversation"]["updatedAt"] == "2025-01-02T06:00:00.000Z"
    assert res["events"][0]["detail"] == {"conversationId": cid, "previousStatus": "new",
                                          "newStatus": "escalated",
                                          "changedAt": "2025-01-02T06:00:00.000Z"}
    # The store is untouched.
    assert conv.ok("get", cid) == doc

    ev = tmp_path / "ev.json"
    ev.write_text('{"event": "agent_left"}')
    r = omni("conversation", "apply", "-", ev, input=json.dumps(doc))
    assert r.code == 1 and r.error()["code"] == "INVALID_TRANSITION"
    assert r.out == b""
    r = omni("conversation", "apply", f, ev, "--store", "memory:")
    assert r.code == 2  # apply uses no store
    assert omni("conversation", "apply", "-", "-", input="{}").code == 2
    assert omni("conversation", "apply", f).code == 2
    r = omni("conversation", "apply", f, tmp_path / "missing.json")
    assert r.code == 2


STREAM = {"Records": [
    {"eventID": "1", "eventName": "INSERT",
     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/x",
     "dynamodb": {"NewImage": {"conversationId": {"S": "conv-1"}, "customerId": {"S": "c-1"},
                               "accountId": {"S": "a-1"}, "channel": {"S": "sms"},
                               "status": {"S": "new"},
                               "createdAt": {"S": "2025-01-02T03:04:05.000Z"}}}},
    {"eventID": "2", "eventName": "MODIFY",
     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/messages/stream/x",
     "dynamodb": {"NewImage": {"messageId": {"S": "m-1"}, "conversationId": {"S": "conv-1"},
                               "deliveryStatus": {"S": "delivered"}},
                  "OldImage": {"messageId": {"S": "m-1"}, "conversationId": {"S": "conv-1"},
                               "deliveryStatus": {"S": "sent"}}}},
    {"eventID": "3", "eventName": "REMOVE",
     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/x",
     "dynamodb": {"ApproximateCreationDateTime": 1735787045,
                  "OldImage": {"id": {"S": "conv-1"}}}},
    {"eventID": "4", "eventName": "INSERT",
     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/audit/stream/x",
     "dynamodb": {"NewImage": {"id": {"S": "x"}}}},
    {"eventID": "5", "eventName": "INSERT",
     "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/messages/stream/x",
     "dynamodb": {"NewImage": {"messageId": {"N": "zz"}}}},
]}


def test_dynamo_stream(omni, tmp_path):
    r = omni("conversation", "dynamo-stream", "--now", "2025-06-01T00:00:00Z",
             input=json.dumps(STREAM))
    assert r.code == 0, r.err
    res = r.json()
    assert [e["detailType"] for e in res["events"]] == [
        "conversation.created", "message.delivery_updated", "conversation.deleted"]
    assert all(e["source"] == "omni.workflow" for e in res["events"])
    assert res["events"][0]["detail"] == {
        "conversationId": "conv-1", "customerId": "c-1", "accountId": "a-1", "channel": "sms",
        "status": "new", "createdAt": "2025-01-02T03:04:05.000Z"}
    upd = res["events"][1]["detail"]
    assert (upd["previousStatus"], upd["newStatus"]) == ("sent", "delivered")
    assert upd["updatedAt"] == "2025-06-01T00:00:00.000Z"  # --now: no record time
    assert res["events"][2]["detail"] == {"conversationId": "conv-1",
                                          "deletedAt": "2025-01-02T03:04:05.000Z"}
    assert [(x["eventID"], x["status"]) for x in res["records"]] == [
        ("1", "success"), ("2", "success"), ("3", "success"), ("4", "skipped"),
        ("5", "failed")]
    assert res["records"][4]["error"]
    f = tmp_path / "stream.json"
    f.write_text(json.dumps(STREAM))
    assert omni("conversation", "dynamo-stream", f, "--now", "2025-06-01T00:00:00Z").json() == res

    r = omni("conversation", "dynamo-stream", input='{"records": []}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("conversation", "dynamo-stream", input="[")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"


def test_dynamo_unmarshall(omni):
    item = {"s": {"S": "x"}, "n": {"N": "12345678901234567890123456789012345678"},
            "l": {"L": [{"BOOL": True}, {"NULL": True}]}, "m": {"M": {"b": {"B": "AAE="}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}}
    r = omni("conversation", "dynamo-unmarshall", input=json.dumps(item))
    assert r.code == 0, r.err
    assert b"12345678901234567890123456789012345678" in r.out  # digits kept
    assert r.json() == {"s": "x", "n": 12345678901234567890123456789012345678,
                        "l": [True, None], "m": {"b": "AAE="}, "ss": ["a", "b"],
                        "ns": [1, 2.5]}
    r = omni("conversation", "dynamo-unmarshall", input='{"a": {"S": "x", "N": "1"}}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("conversation", "dynamo-unmarshall", input='{"a": {"N": "1e"}}')
    assert r.code == 2


def test_now_pins_every_time(omni, tmp_path):
    conv = Conv(omni, tmp_path)
    now = "2024-02-29T23:59:59.123Z"
    res = conv.step(event("SM1"), now=now)
    cid = res["conversation"]["conversationId"]
    doc = conv.ok("get", cid)
    for t in (doc["createdAt"], doc["updatedAt"], doc["metadata"]["startedAt"],
              doc["metadata"]["lastActivityAt"], doc["participants"][0]["joinedAt"],
              res["events"][1]["detail"]["createdAt"]):
        assert t == now
    assert conv.ok("history", cid)["items"][0]["createdAt"] == now
    r = conv("get", cid, now="yesterday")
    assert r.code == 2 and r.error()["code"] == "INVALID_TIMESTAMP"


def test_usage_errors(omni, tmp_path):
    assert omni("conversation").code == 2
    r = omni("conversation", "bogus")
    assert r.code == 2 and "bogus" in r.error()["message"]
    assert omni("conversation", "get").code == 2
    assert omni("conversation", "get", "a", "b").code == 2
    assert omni("conversation", "transition").code == 2
    assert omni("conversation", "history", "c", "--status", "new").code == 2
    assert omni("conversation", "list", "c", "--direction", "inbound").code == 2
    assert omni("conversation", "get", "c", "--outbound").code == 2
    assert omni("conversation", "step", "--frobnicate", input="{}").code == 2
    assert omni("conversation", "step", "--options").code == 2
    assert omni("conversation", "dynamo-stream", "--store", "memory:", input="{}").code == 2
    assert omni("conversation", "step", tmp_path / "missing.json").code == 2
    r = omni("conversation", "step", "--store", "nosuch:", input=json.dumps(event()))
    assert r.code == 1
    r = omni("conversation", "step", input='{"identity": {}}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("conversation", "step", input="{not json")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("conversation", "step", "--outbound", input="{not json")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("conversation", "--help")
    assert r.code == 0 and "omni conversation step" in r.text
    r = omni("help", "conversation")
    assert r.code == 0 and "dynamo-stream" in r.text
    assert "conversation" in omni("--help").text


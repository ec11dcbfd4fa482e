"""omni preroute: one event and JSON lines through a configuration file, the
auto-response window and the opt-out ledger kept in an SQLite store across
runs, and usage / input errors."""
import json

OPEN = "2026-03-09T15:00:00Z"     # 11:00 in New York, a Monday
CLOSED = "2026-03-09T03:00:00Z"   # 23:00 the day before

CONFIG = {
    "defaults": {
        "timeZone": "America/New_York",
        "businessHours": {"weekly": {d: [["09:00", "17:00"]] for d in
                                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        "autoResponses": {"greeting": {"templateId": "greeting"},
                          "away": {"templateId": "away"}},
        "optOut": {"confirmations": {"stop": "stop_ok", "help": "help"}},
        "rules": [{"id": "vip", "priority": 100,
                   "conditions": [{"field": "identity.profile.tags", "operator": "contains",
                                   "value": "vip"}],
                   "actions": [{"type": "route_to_queue", "queueId": "vip-support"}]}],
    },
    "templates": {"greeting": {"en": "Hi {{identity.profile.firstName}}!"},
                  "away": {"en": "We are closed."},
                  "stop_ok": {"en": "Unsubscribed."},
                  "help": {"en": "Call 555-0100."}},
}


def event(msg_id, content="hello", conv="conv-1", status="new", tags=()):
    return {"correlationId": "corr-" + msg_id,
            "conversation": {"conversationId": conv, "status": status},
            "messageState": {"messageId": msg_id},
            "routing": {"accountId": "acc-1", "channel": "sms"},
            "identity": {"customerId": "cust-1",
                         "profile": {"firstName": "Ada", "tags": list(tags)}},
            "message": {"id": msg_id, "content": content, "contentType": "text"}}


def setup(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(CONFIG))
    return str(cfg), "sqlite:" + str(tmp_path / "store.db")


def test_one_event_greeting_then_routed(omni, tmp_path):
    cfg, store = setup(tmp_path)
    r = omni("preroute", "--config", cfg, "--store", store, "--now", OPEN,
             input=json.dumps(event("m1")))
    assert r.code == 0, r.err
    out = r.json()
    assert out["success"] is True
    assert out["routingDecision"]["action"] == "auto_respond"
    assert out["autoResponse"]["content"] == "Hi Ada!"
    assert out["nextStep"] == "publishOutbound"
    # the window is in the store: the next message of the conversation is routed
    r = omni("preroute", "--config", cfg, "--store", store, "--now", OPEN,
             input=json.dumps(event("m2", tags=["vip"])))
    out = r.json()
    assert "autoResponse" not in out
    assert out["routingDecision"]["destination"]["id"] == "vip-support"
    assert out["matchedRules"] == ["vip"]
    assert out["nextStep"] == "pushNotification"


def test_event_from_a_file_and_away(omni, tmp_path):
    cfg, store = setup(tmp_path)
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(event("m1", conv="conv-away")))
    r = omni("preroute", "--config", cfg, str(ev), "--now", CLOSED)
    assert r.code == 0, r.err
    assert r.json()["autoResponse"]["responseType"] == "away"


def test_lines(omni, tmp_path):
    cfg, _ = setup(tmp_path)
    lines = "\n".join([json.dumps(event("m1")), "", json.dumps(event("m2", content="STOP")),
                       "{not json", json.dumps(event("m3", content="help"))]) + "\n"
    r = omni("preroute", "--config", cfg, "--lines", "--now", OPEN, input=lines)
    assert r.code == 1
    outs = [json.loads(line) for line in r.text.splitlines()]
    assert len(outs) == 4
    assert outs[0]["autoResponse"]["responseType"] == "greeting"
    assert outs[1]["optOut"] == {"status": "opted_out", "changed": True}
    assert outs[1]["autoResponse"]["content"] == "Unsubscribed."
    assert outs[2]["success"] is False
    assert outs[2]["error"]["code"] == "INVALID_JSON"
    assert outs[3]["autoResponse"]["content"] == "Call 555-0100."


def test_optout_ledger_commands(omni, tmp_path):
    cfg, store = setup(tmp_path)
    r = omni("preroute", "optout-get", "acc-1", "cust-1", "--store", store)
    assert r.code == 0, r.err
    assert r.json() == {"accountId": "acc-1", "customerId": "cust-1", "status": "opted_in"}
    r = omni("preroute", "--config", cfg, "--store", store, "--now", OPEN,
             input=json.dumps(event("m1", content="Stop. Thank you")))
    assert r.json()["optOut"]["changed"] is True
    r = omni("preroute", "optout-get", "acc-1", "cust-1", "--store", store)
    rec = r.json()
    assert rec["status"] == "opted_out"
    assert rec["keyword"] == "Stop. Thank you"
    assert rec["updatedAt"] == "2026-03-09T15:00:00.000Z"
    r = omni("preroute", "optout-set", "acc-1", "cust-1", "in", "--keyword", "agent",
             "--store", store)
    assert r.code == 0, r.err
    out = r.json()
    assert out["changed"] is True and out["status"] == "opted_in"
    r = omni("preroute", "optout-set", "acc-1", "cust-1", "in", "--store", store)
    assert r.json()["changed"] is False


def test_errors(omni, tmp_path):
    cfg, _ = setup(tmp_path)
    r = omni("preroute", input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("preroute", "--config", cfg, input="{")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("preroute", "--config", cfg, input='{"message":{}}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"defaults": {"autoResponses": {"away": {"templateId": "x"}}}}))
    r = omni("preroute", "--config", str(bad), input="{}")
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_CONFIG"
    assert err["details"]["path"] == "defaults.autoResponses.away.templateId"
    r = omni("preroute", "--config", str(tmp_path / "missing.json"), input="{}")
    assert r.code != 0
    r = omni("preroute", "optout-set", "acc-1", "cust-1", "maybe")
    assert r.code == 2
    r = omni("preroute", "optout-get", "acc-1")
    assert r.code == 2
    r = omni("preroute", "optout-get", "a/b", "c")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("preroute", "--config", cfg, "--bogus", input="{}")
    assert r.code == 2


def test_help(omni):
    r = omni("preroute", "--help")
    assert r.code == 0
    assert "optout-set" in r.text

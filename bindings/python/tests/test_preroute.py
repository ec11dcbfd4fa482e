"""Pre-routing (omni/rules.h, omni/analyze.h, omni/preroute.h) from Python: rules in
both formats, evaluation from dicts, JSON text and parsed Data, compile errors with
rule ids and paths, the built-in analyzer, a host analyzer hook, a whole preroute run
with auto-responses and the opt-out ledger."""

import json
import threading
from typing import Any, Dict, List

import pytest

import omni

T0 = "2026-01-05T10:00:00Z"  # a Monday, 10:00 UTC

RULES: List[Dict[str, Any]] = [
    {"id": "vip-customer-rule", "name": "VIP", "priority": 100,
     "conditions": [{"field": "identity.profile.tags", "operator": "contains", "value": "vip"}],
     "actions": [{"type": "route_to_queue", "queueId": "vip-support", "priority": "high"}]},
    {"id": "billing-intent-rule", "priority": 80,
     "conditions": [{"field": "contentAnalysis.intent", "operator": "contains",
                     "value": "billing"}],
     "actions": [{"type": "route_to_queue", "queueId": "billing-team"},
                 {"type": "add_tag", "tag": "billing-inquiry"}]},
    {"id": "sms-rule", "priority": 80,
     "conditions": {"all": [{"field": "message.channel", "operator": "in",
                             "value": ["sms", "mms"]},
                            {"not": {"field": "message.content", "operator": "startsWith",
                                     "value": "#"}}]},
     "actions": [{"type": "add_tag", "tag": "sms"}]},
]

FACTS: Dict[str, Any] = {
    "identity": {"profile": {"tags": ["gold", "vip"]}},
    "contentAnalysis": {"intent": ["billing"]},
    "message": {"channel": "sms", "content": "my bill is wrong"},
}


def test_rules_eval_order_actions_destination() -> None:
    with omni.Rules(RULES) as rules:
        assert len(rules) == 3
        assert rules.ids == ["vip-customer-rule", "billing-intent-rule", "sms-rule"]
        r = rules.eval(FACTS)
        # priority descending, ties in document order
        assert r["matched"] == ["vip-customer-rule", "billing-intent-rule", "sms-rule"]
        assert r["destination"]["type"] == "queue"
        assert r["destination"]["id"] == "vip-support"
        assert r["tags"] == ["billing-inquiry", "sms"]
        assert r["priority"] == "high"
        assert r["block"] is False and r["escalate"] is False
        assert [a["ruleId"] for a in r["actions"]] == [
            "vip-customer-rule", "billing-intent-rule", "billing-intent-rule", "sms-rule"]
        assert rules.match(FACTS) == r["matched"]


def test_rules_default_destination_and_missing_facts() -> None:
    rules = omni.Rules(RULES)
    r = rules.eval({"message": {"channel": "whatsapp", "content": "hi"}})
    assert r["matched"] == []
    assert r["destination"] == {"type": "queue", "id": "default", "name": "Default Queue",
                                "metadata": {}}
    # a hash-prefixed SMS fails the not(startsWith) branch
    assert rules.match({"message": {"channel": "sms", "content": "#ad"}}) == []


def test_rules_text_data_and_dict_agree() -> None:
    rules = omni.Rules(RULES)
    text = json.dumps(FACTS)
    with omni.Data(FACTS) as data:
        assert rules.match(data) == rules.match(text) == rules.match(FACTS)
        assert rules.eval(data)["matched"] == rules.eval(text.encode())["matched"]


def test_rules_explain() -> None:
    r = omni.Rules(RULES).eval(FACTS, explain=True)
    first = r["explain"][0]
    assert first["ruleId"] == "vip-customer-rule"
    cond = first["conditions"][0]
    assert cond["field"] == "identity.profile.tags"
    assert cond["operator"] == "contains"
    assert cond["result"] is True
    assert cond["actual"] == ["gold", "vip"]


def test_rules_stop() -> None:
    rules = omni.Rules([
        {"id": "a", "priority": 10, "conditions": [], "actions": [{"type": "stop"}]},
        {"id": "b", "priority": 5, "conditions": [], "actions": [{"type": "add_tag", "tag": "x"}]},
    ])
    r = rules.eval({})
    assert r["matched"] == ["a"]
    assert r["stoppedBy"] == "a"
    assert r["tags"] == []


def test_rules_time_facts_in_zone() -> None:
    rules = omni.Rules([{"id": "office", "conditions": [
        {"field": "time.hour", "operator": "between", "value": [9, 17]},
        {"field": "time.weekday", "operator": "equals", "value": "monday"}],
        "actions": []}], time_zone="Europe/Berlin")
    assert rules.match({}, now=T0) == ["office"]           # 11:00 in Berlin
    assert rules.match({}, now="2026-01-05T17:30:00Z") == []  # 18:30 in Berlin


def test_rules_json_rules_engine_format() -> None:
    rules = omni.Rules([{
        "name": "fouled-out",
        "conditions": {"any": [
            {"all": [{"fact": "gameDuration", "operator": "equal", "value": 40},
                     {"fact": "personalFoulCount", "operator": "greaterThanInclusive",
                      "value": 5}]},
            {"all": [{"fact": "gameDuration", "operator": "equal", "value": 48},
                     {"fact": "personalFoulCount", "operator": "greaterThanInclusive",
                      "value": 6}]}]},
        "event": {"type": "fouledOut", "params": {"message": "Player has fouled out!"}},
    }])
    assert rules.ids == ["fouled-out"]
    r = rules.eval({"personalFoulCount": 6, "gameDuration": 40})
    assert r["matched"] == ["fouled-out"]
    assert r["actions"][0]["type"] == "event"
    assert r["actions"][0]["event"]["type"] == "fouledOut"
    assert rules.match({"personalFoulCount": 4, "gameDuration": 40}) == []


def test_rules_compile_errors_list_every_problem() -> None:
    bad = [
        {"id": "one", "conditions": [{"field": "a", "operator": "eq", "value": 1}],
         "actions": []},
        {"id": "two", "conditions": [{"field": "b", "operator": "matches", "value": "(?=x)"}],
         "actions": [{"type": "teleport"}]},
    ]
    with pytest.raises(omni.OmniError) as ei:
        omni.Rules(bad)
    err = ei.value
    assert err.code == "INVALID_CONFIG"
    errors = err.details["errors"]
    assert len(errors) >= 3
    ids = {e["ruleId"] for e in errors}
    assert ids == {"one", "two"}
    paths = [e["path"] for e in errors]
    assert "[0].conditions[0].operator" in paths
    assert any(p.startswith("[1].actions[0]") for p in paths)


def test_rules_bad_facts() -> None:
    rules = omni.Rules(RULES)
    with pytest.raises(omni.OmniError) as ei:
        rules.eval("{not json")
    assert ei.value.code == "INVALID_JSON"
    with pytest.raises(omni.OmniError) as ei:
        rules.match("[1, 2]")
    assert ei.value.code == "INVALID_JSON"


def test_rules_threads_share_one_rule_set() -> None:
    rules = omni.Rules(RULES)
    expected = rules.match(FACTS)
    seen: List[List[str]] = []

    def work() -> None:
        for _ in range(200):
            seen.append(rules.match(FACTS))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 800 and all(s == expected for s in seen)


def test_analyze_builtin() -> None:
    r = omni.analyze("I was charged twice, I want a refund! Mail me at ada@example.com")
    assert "billing" in r["intent"]
    assert r["language"] == "en"
    emails = [e for e in r["entities"] if e["type"] == "email"]
    assert emails and emails[0]["value"] == "ada@example.com"
    assert r["sentiment"] in ("negative", "neutral", "positive")
    assert -1.0 <= r["sentimentScore"] <= 1.0


def test_analyze_spam_language_and_request_form() -> None:
    spam = omni.analyze("WIN A FREE PRIZE NOW!!!! CLICK bit.ly/xyz")
    assert spam["spam"] is True
    assert "shortened_link" in spam["spamReasons"]
    assert omni.analyze("मुझे मदद चाहिए")["language"] == "hi"
    assert omni.analyze("ನನಗೆ ಸಹಾಯ ಬೇಕು")["language"] == "kn"
    r = omni.analyze(request={"content": "Call me on +1 415 555 0100", "contentType": "text"})
    phones = [e for e in r["entities"] if e["type"] == "phone"]
    assert phones and phones[0]["normalized"] == "+14155550100"


def test_analyzer_config() -> None:
    a = omni.Analyzer({"intents": {"shipping": ["where is my parcel"]},
                       "spam": {"phrases": ["crypto giveaway"]}})
    r = a.analyze("Hi, where is my parcel?")
    assert "shipping" in r["intent"]
    assert a.analyze("join the crypto giveaway")["spamReasons"].count("blocked_phrase") == 1
    with pytest.raises(omni.OmniError) as ei:
        omni.Analyzer({"entities": {"order": "(?=x)"}})
    assert ei.value.code == "INVALID_CONFIG"


CONFIG: Dict[str, Any] = {
    "defaults": {
        "timeZone": "America/New_York",
        "businessHours": {"weekly": {d: [["09:00", "17:00"]]
                                     for d in ("mon", "tue", "wed", "thu", "fri")}},
        "autoResponses": {"greeting": {"enabled": True, "templateId": "greeting"},
                          "away": {"enabled": True, "templateId": "away"},
                          "windowSeconds": 3600},
        "rules": RULES,
        "optOut": {"confirmations": {"stop": "stopped", "start": "started", "help": "help"}},
    },
    "templates": {
        "greeting": {"en": "Hi {{identity.profile.firstName}}!"},
        "away": {"en": "We are closed now."},
        "stopped": {"en": "You are unsubscribed."},
        "started": {"en": "Welcome back."},
        "help": {"en": "Reply STOP to stop."},
    },
}


def event(content: str, *, status: str = "active", conv: str = "conv-1",
          tags: Any = None) -> Dict[str, Any]:
    return {
        "correlationId": "corr-1",
        "conversation": {"conversationId": conv, "status": status},
        "messageState": {"messageId": "m-1", "sequenceNumber": 1},
        "routing": {"accountId": "acc-1"},
        "identity": {"customerId": "cust-1",
                     "profile": {"firstName": "Ada", "tags": tags or []}},
        "message": {"id": "m-1", "content": content, "contentType": "text",
                    "channel": "sms", "direction": "inbound"},
    }


def engine(now: str = "2026-01-05T15:00:00Z") -> omni.Engine:  # 10:00 in New York
    return omni.Engine({"clock": {"fixed": now}, "random": {"seed": 1}})


def test_preroute_routes_with_rules() -> None:
    p = omni.PreRoute(CONFIG)
    r = p.run(engine(), event("There is a problem with my bill", tags=["vip"]))
    assert r["success"] is True and r["correlationId"] == "corr-1"
    assert r["matchedRules"][0] == "vip-customer-rule"
    assert r["routingDecision"]["destination"]["id"] == "vip-support"
    assert r["routingDecision"]["action"] == "queue"
    assert r["routingDecision"]["priority"] >= 75
    assert "pushNotification" in r["nextSteps"]
    assert "autoResponse" not in r


def test_preroute_greeting_once_per_window() -> None:
    p = omni.PreRoute(CONFIG)
    e = engine()
    first = p.run(e, event("hello", status="new", conv="conv-g"))
    assert first["autoResponse"]["responseType"] == "greeting"
    assert first["autoResponse"]["content"] == "Hi Ada!"
    assert first["nextStep"] == "publishOutbound"
    again = p.run(e, event("hello again", status="new", conv="conv-g"))
    assert "autoResponse" not in again


def test_preroute_away_outside_hours() -> None:
    r = omni.PreRoute(CONFIG).run(engine("2026-01-05T23:30:00Z"), event("anyone?"))
    assert r["autoResponse"]["responseType"] == "away"
    assert r["autoResponse"]["content"] == "We are closed now."


def test_preroute_stop_and_ledger() -> None:
    p = omni.PreRoute(CONFIG)
    e = engine()
    r = p.run(e, event("Stop. Thank you"))
    assert r["autoResponse"]["responseType"] == "opt_out"
    assert r["optOut"] == {"status": "opted_out", "changed": True}
    assert e.optout_get("acc-1", "cust-1")["status"] == "opted_out"
    again = p.run(e, event("STOP"))
    assert again["optOut"]["changed"] is False
    assert "autoResponse" not in again or again["autoResponse"]["responseType"] != "opt_out"
    back = p.run(e, event("START"))
    assert back["optOut"] == {"status": "opted_in", "changed": True}
    assert e.optout_set("acc-1", "cust-1", True, keyword="manual") is True
    assert e.optout_get("acc-1", "cust-1")["status"] == "opted_out"
    helped = p.run(e, event("HELP"))
    assert helped["autoResponse"]["responseType"] == "help"
    assert helped["autoResponse"]["content"] == "Reply STOP to stop."


def test_preroute_analyzer_hook() -> None:
    calls: List[Dict[str, Any]] = []

    def hook(request: Dict[str, Any], builtin: Dict[str, Any]) -> Dict[str, Any]:
        calls.append(request)
        assert "sentiment" in builtin
        return {"sentiment": "negative", "sentimentScore": -0.9}

    e = omni.Engine({"clock": {"fixed": "2026-01-05T15:00:00Z"}}, analyzer=hook)
    r = omni.PreRoute(CONFIG).run(e, event("what a lovely day"))
    assert calls and calls[0]["content"] == "what a lovely day"
    assert r["contentAnalysis"]["sentiment"] == "negative"

    def broken(request: Dict[str, Any], builtin: Dict[str, Any]) -> Dict[str, Any]:
        raise RuntimeError("model offline")

    e2 = omni.Engine({"clock": {"fixed": "2026-01-05T15:00:00Z"}}, analyzer=broken)
    with pytest.raises(omni.OmniError) as ei:
        omni.PreRoute(CONFIG).run(e2, event("hi"))
    assert ei.value.code == "HOOK_FAILED"
    assert "model offline" in ei.value.message


def test_preroute_config_errors() -> None:
    bad = json.loads(json.dumps(CONFIG))
    bad["defaults"]["rules"][0]["conditions"][0]["operator"] = "eq"
    with pytest.raises(omni.OmniError) as ei:
        omni.PreRoute(bad)
    assert ei.value.code == "INVALID_CONFIG"
    assert "rules" in ei.value.message
    with pytest.raises(omni.OmniError):
        omni.PreRoute({"defaults": {"timeZone": "Mars/Olympus"}})

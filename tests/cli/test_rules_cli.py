"""omni rules check / omni rules eval."""
import json

RULES = [
    {"id": "vip-customer-rule", "name": "VIP", "priority": 100,
     "conditions": [{"field": "identity.profile.tags", "operator": "contains", "value": "vip"}],
     "actions": [{"type": "route_to_queue", "queueId": "vip-support", "priority": "high"}]},
    {"id": "billing-intent-rule", "priority": 80,
     "conditions": [{"field": "contentAnalysis.intent", "operator": "contains",
                     "value": "billing"}],
     "actions": [{"type": "route_to_queue", "queueId": "billing-team"},
                 {"type": "add_tag", "tag": "billing-inquiry"}]},
]


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def test_check_valid(omni, tmp_path):
    r = omni("rules", "check", write(tmp_path, "r.json", RULES))
    assert r.code == 0, r.err
    assert r.json() == {"valid": True, "rules": 2}


def test_check_lists_every_error(omni, tmp_path):
    bad = [{"id": "a", "conditions": [{"field": "x", "operator": "eq", "value": 1}],
            "actions": [{"type": "nope"}]},
           {"id": "a", "conditions": [], "actions": []}]
    r = omni("rules", "check", write(tmp_path, "r.json", bad))
    assert r.code == 1
    doc = r.json()
    assert doc["valid"] is False
    assert doc["errors"] == [
        {"ruleId": "a", "path": "[0].conditions[0].operator",
         "message": 'unknown operator "eq"'},
        {"ruleId": "a", "path": "[0].actions[0].type", "message": 'unknown action type "nope"'},
        {"ruleId": "a", "path": "[1]", "message": 'duplicate rule id "a" (first at [0])'},
    ]


def test_check_not_json_and_options(omni, tmp_path):
    r = omni("rules", "check", write(tmp_path, "r.json", "[{"))
    assert r.code == 1
    doc = r.json()
    assert doc["valid"] is False and doc["errors"][0]["code"] == "INVALID_JSON"
    jre = [{"conditions": {"all": []}, "event": {"type": "x"}}]
    p = write(tmp_path, "j.json", jre)
    assert omni("rules", "check", p).json() == {"valid": True, "rules": 1}
    r = omni("rules", "check", p, "--format", "routing")
    assert r.code == 1 and r.json()["valid"] is False
    r = omni("rules", "check", p, "--time-zone", "Nowhere/Land")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    r = omni("rules", "check", p, "--format", "xml")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"


def test_eval_one_document(omni, tmp_path):
    rules = write(tmp_path, "r.json", RULES)
    facts = {"identity": {"profile": {"tags": ["vip"]}},
             "contentAnalysis": {"intent": "billing"}}
    r = omni("rules", "eval", "--rules", rules, input=json.dumps(facts))
    assert r.code == 0, r.err
    out = r.json()
    assert out["matched"] == ["vip-customer-rule", "billing-intent-rule"]
    assert out["destination"] == {"type": "queue", "id": "vip-support", "metadata": {}}
    assert out["tags"] == ["billing-inquiry"] and out["priority"] == "high"
    assert "explain" not in out
    f = write(tmp_path, "f.json", facts)
    r = omni("rules", "eval", "--rules", rules, "--explain", f)
    assert r.code == 0
    ex = r.json()["explain"]
    assert ex[0] == {"ruleId": "vip-customer-rule", "conditions": [
        {"path": "[0].conditions[0]", "field": "identity.profile.tags", "operator": "contains",
         "value": "vip", "actual": ["vip"], "result": True}]}


def test_eval_lines_with_a_bad_line(omni, tmp_path):
    rules = write(tmp_path, "r.json", RULES)
    lines = ('{"contentAnalysis":{"intent":"billing"}}\n\n'
             'not json\n'
             '{}\n'
             '[1]\n')
    r = omni("rules", "eval", "--rules", rules, "--lines", input=lines)
    assert r.code == 1
    out = [json.loads(l) for l in r.out.decode().splitlines()]
    assert len(out) == 4
    assert out[0]["matched"] == ["billing-intent-rule"]
    assert out[1]["line"] == 3 and out[1]["error"]["code"] == "INVALID_JSON"
    assert out[2]["matched"] == [] and out[2]["destination"]["id"] == "default"
    assert out[3]["line"] == 5 and out[3]["error"]["code"] == "INVALID_JSON"
    r = omni("rules", "eval", "--rules", rules, "--lines", input='{}\n{"a":1}\n')
    assert r.code == 0 and len(r.out.decode().splitlines()) == 2


def test_eval_time_facts_follow_now(omni, tmp_path):
    rules = write(tmp_path, "r.json", [
        {"id": "open", "conditions": [{"field": "time.hour", "operator": "between",
                                       "value": [9, 17]}], "actions": []}])
    # 2024-07-01T08:00:00Z is 10:00 in Berlin (CEST), 08:00 in UTC
    r = omni("--now", "2024-07-01T08:00:00Z", "rules", "eval", "--rules", rules,
             "--time-zone", "Europe/Berlin", input="{}")
    assert r.code == 0, r.err
    assert r.json()["matched"] == ["open"]
    r = omni("--now", "2024-07-01T08:00:00Z", "rules", "eval", "--rules", rules, input="{}")
    assert r.json()["matched"] == []


def test_eval_errors(omni, tmp_path):
    rules = write(tmp_path, "r.json", RULES)
    r = omni("rules", "eval", "--rules", rules, input="[]")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    bad = write(tmp_path, "bad.json", [{"id": "x"}])
    r = omni("rules", "eval", "--rules", bad, input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"
    assert omni("rules", "eval", input="{}").code == 2
    assert omni("rules", "eval", "--rules", rules, "--bogus", input="{}").code == 2
    assert omni("rules", "frobnicate").code == 2
    assert omni("rules", "check").code == 2
    assert omni("rules", "eval", "--rules", "-", input="{}").code == 2
    r = omni("rules", "--help")
    assert r.code == 0 and b"omni rules check" in r.out

"""omni outbound build | parse: the carrier adapters through the CLI, on the golden
files of tests/data/outbound (the exact request a provider's API takes) and a
rate-limited response; secrets from the environment never printed."""
import json
import os

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "outbound")


def golden(provider, case):
    with open(os.path.join(DATA, provider, case + ".json"), encoding="utf-8") as f:
        return json.load(f)


def headers(req):
    h = req["headers"]
    return dict(h) if isinstance(h, list) else h


def test_build_twilio_sms_matches_golden(omni, tmp_path):
    g = golden("twilio", "sms_text")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(g["config"]))
    r = omni("--now", g["now"], "outbound", "build", "--config", str(cfg),
             input=json.dumps(g["event"]))
    assert r.code == 0, r.err
    req = r.json()
    assert req["method"] == g["request"]["method"]
    assert req["url"] == g["request"]["url"]
    assert headers(req) == g["request"]["headers"]
    assert req["body"] == g["request"]["body"]


def test_build_whatsapp_with_secret_from_environment(omni, tmp_path):
    g = golden("whatsapp", "text")
    cfg = dict(g["config"])
    token = cfg["whatsapp"]["accessToken"]
    cfg["whatsapp"] = dict(cfg["whatsapp"], accessToken={"env": "OMNI_TEST_WA_TOKEN"})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    r = omni("outbound", "build", "--config", str(path), "--carrier", "whatsapp",
             input=json.dumps(g["event"]), env={"OMNI_TEST_WA_TOKEN": token})
    assert r.code == 0, r.err
    assert headers(r.json())["Authorization"] == "Bearer " + token
    r = omni("outbound", "build", "--config", str(path), "--carrier", "whatsapp",
             input=json.dumps(g["event"]), env={"OMNI_TEST_WA_TOKEN": ""})
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_CONFIG" and "OMNI_TEST_WA_TOKEN" in err["message"]


def test_parse_rate_limited(omni, tmp_path):
    g = golden("twilio", "sms_text")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(g["config"]))
    resp = {"status": 429, "headers": {"Retry-After": "30", "Content-Type": "application/json"},
            "body": json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429})}
    r = omni("outbound", "parse", "--config", str(cfg), "--carrier", "twilio",
             input=json.dumps(resp))
    assert r.code == 0, r.err
    res = r.json()
    assert res["success"] is False
    assert res["error"]["retryable"] is True
    assert res["retryAfterMs"] == 30000
    assert g["config"]["twilio"]["authToken"] not in r.text


def test_errors(omni, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"pigeon": {}}')
    r = omni("outbound", "build", "--config", str(cfg), input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"
    cfg.write_text("{}")
    r = omni("outbound", "build", "--config", str(cfg), "--carrier", "pigeon",
             input='{"recipient":{"channelIdentifier":"+1"},"message":{}}')
    assert r.code != 0 and r.error()["code"] == "UNKNOWN_CARRIER"
    r = omni("outbound", "build", input="{}")
    assert r.code == 2
    r = omni("outbound", "parse", "--config", str(cfg), input="{}")
    assert r.code == 2
    r = omni("outbound", "frobnicate")
    assert r.code == 2

"""omni config: check (exit 0 valid / 2 invalid with every error as JSON on
stdout), apply to a memory and an SQLite store (idempotent across runs), show,
account lookups, secrets from the environment never printed, and usage errors."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "tests" / "data" / "config" / "full.json"
NOW = "2026-03-02T06:00:00Z"


def write(tmp_path, doc, name="config.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(p)


def test_check_valid_full_document(omni):
    r = omni("config", "check", FULL)
    assert r.code == 0, r.err
    out = r.json()
    assert out["valid"] is True
    assert out["errors"] == [] and out["errorCount"] == 0
    assert out["accounts"] == 2
    assert out["carriers"] == ["bandwidth", "twilio", "whatsapp"]
    assert out["steps"][0] == "workFlowIdentityLookup"
    assert len(out["steps"]) == 5


def test_check_from_stdin(omni):
    r = omni("config", "check", input=FULL.read_bytes())
    assert r.code == 0
    assert r.json()["valid"] is True
    r = omni("config", "check", "-", input='{"version":1}')
    assert r.code == 0
    assert r.json()["accounts"] == 0


def test_check_invalid_lists_every_error(omni, tmp_path):
    doc = {"version": 1, "storage": 5,
           "accounts": [{"accountId": "a0", "addresses": {"shortCodes": ["12"]}},
                        {"accountId": "a1", "outbound": {"twilio": {
                            "accountSid": "AC00000000000000000000000000000001"}}}],
           "templates": [{"templateId": "t", "name": "T", "category": "system",
                          "channels": ["sms"], "content": {"body": "{{#if x}}open"}}],
           "workflow": {"steps": [{"stepId": "workFlowIdentityLookup",
                                   "nextSteps": [{"stepId": "nowhere"}]}]}}
    r = omni("config", "check", write(tmp_path, doc))
    assert r.code == 2
    assert r.err == b""
    out = r.json()
    assert out["valid"] is False
    assert out["errorCount"] == 5
    assert {e["path"] for e in out["errors"]} == {
        "storage", "accounts[0].addresses.shortCodes[0]",
        "accounts[1].outbound.twilio.authToken", "templates[0].content.body",
        "workflow.steps[0].nextSteps[0].stepId"}
    assert all(e["message"] and e["code"] for e in out["errors"])


def test_check_not_json(omni, tmp_path):
    r = omni("config", "check", write(tmp_path, '{"version":1,\n "storage": }'))
    assert r.code == 2
    out = r.json()
    assert out["valid"] is False
    assert out["errors"][0]["code"] == "INVALID_JSON"
    assert out["errors"][0]["line"] == 2


def test_apply_memory_and_sqlite_idempotent(omni, tmp_path):
    r = omni("--now", NOW, "config", "apply", FULL)
    assert r.code == 0, r.err
    assert r.json() == {"routing": {"written": 7, "unchanged": 0},
                        "conversationSettings": {"written": 2, "unchanged": 0},
                        "templates": {"written": 6, "unchanged": 0}}
    store = "sqlite:" + str(tmp_path / "store.db")
    first = omni("--now", NOW, "config", "apply", "--store", store, FULL)
    assert first.code == 0, first.err
    assert first.json()["routing"] == {"written": 7, "unchanged": 0}
    second = omni("config", "apply", "--store=" + store, FULL)
    assert second.code == 0, second.err
    assert second.json() == {"routing": {"written": 0, "unchanged": 7},
                             "conversationSettings": {"written": 0, "unchanged": 2},
                             "templates": {"written": 0, "unchanged": 6}}
    # the records are there for the other commands
    r = omni("identity", "routing-get", "+14155550100", "--store", store)
    assert r.code == 0, r.err
    assert r.json()["accountId"] == "acc-retail"


def test_apply_uses_the_documents_storage(omni, tmp_path):
    doc = json.loads(FULL.read_text())
    doc["storage"] = "sqlite:" + str(tmp_path / "doc.db")
    path = write(tmp_path, doc)
    assert omni("config", "apply", path).json()["templates"]["written"] == 6
    assert omni("config", "apply", path).json()["templates"] == {"written": 0, "unchanged": 6}
    assert (tmp_path / "doc.db").exists()


def test_apply_invalid_document_fails(omni, tmp_path):
    r = omni("config", "apply", write(tmp_path, {"version": 1, "accounts": [{}]}))
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_CONFIG"
    assert err["details"]["errors"][0]["path"] == "accounts[0].accountId"


def test_show_and_account(omni):
    r = omni("config", "show", FULL)
    assert r.code == 0, r.err
    out = r.json()
    assert out["summary"]["valid"] is True
    assert out["engine"]["storage"] == "memory:"
    assert [s["stepId"] for s in out["workflow"]["steps"]][2] == "workFlowPreRoute"
    assert [a["accountId"] for a in out["accounts"]] == ["acc-retail", "acc-india"]
    r = omni("config", "account", FULL, "+91 80 4567 8901")
    assert r.code == 0, r.err
    acc = r.json()
    assert acc["accountId"] == "acc-india"
    assert acc["timeZone"] == "Asia/Kolkata" and acc["locale"] == "hi"
    r = omni("config", "account", FULL, "shortcode:12345")
    assert r.json()["accountId"] == "acc-retail"
    r = omni("config", "account", FULL, "+14155550199")
    assert r.code == 1
    assert r.error()["code"] == "NOT_FOUND"
    r = omni("config", "account", FULL, "shortcode:1")
    assert r.code == 2


def test_secrets_from_env_never_printed(omni, tmp_path):
    doc = {"version": 1,
           "inbound": {"carriers": {"twilio": {"authToken": {"env": "OMNI_CLI_TW"}}}},
           "accounts": [{"accountId": "a", "addresses": {"phoneNumbers": ["+14155550100"]},
                         "outbound": {"twilio": {
                             "accountSid": "AC00000000000000000000000000000001",
                             "authToken": "S3CR3T-INLINE", "messagingServiceSid": "MG1"}}}]}
    path = write(tmp_path, doc)
    r = omni("config", "check", path, env={"OMNI_CLI_TW": ""})
    assert r.code == 2
    errs = r.json()["errors"]
    assert errs[0]["path"] == "inbound.carriers.twilio.authToken"
    assert "OMNI_CLI_TW" in errs[0]["message"]
    env = {"OMNI_CLI_TW": "S3CR3T-FROM-ENV"}
    for args in (("check", path), ("show", path), ("account", path, "+14155550100"),
                 ("apply", path)):
        r = omni("config", *args, env=env)
        assert r.code == 0, (args, r.err)
        assert b"S3CR3T" not in r.out and b"S3CR3T" not in r.err
    # an error in the section that holds the secret does not show it
    doc["accounts"][0]["outbound"]["twilio"]["accountSid"] = "S3CR3T-SID"
    r = omni("config", "check", write(tmp_path, doc), env=env)
    assert r.code == 2
    assert b"S3CR3T" not in r.out and b"S3CR3T" not in r.err
    r = omni("config", "apply", write(tmp_path, doc), env=env)
    assert r.code == 2
    assert b"S3CR3T" not in r.out and b"S3CR3T" not in r.err


def test_usage_errors(omni, tmp_path):
    assert omni("config").code == 2
    assert omni("config", "frobnicate").code == 2
    assert omni("config", "check", "--bogus").code == 2
    assert omni("config", "check", FULL, FULL).code == 2
    assert omni("config", "account", FULL).code == 2
    assert omni("config", "apply", "--store").code == 2
    r = omni("config", "check", str(tmp_path / "missing.json"))
    assert r.code == 2
    r = omni("config", "--help")
    assert r.code == 0
    assert b"omni config check" in r.out

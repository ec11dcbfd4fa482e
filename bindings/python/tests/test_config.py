"""omni.Config (omni/config.h) from Python: the full document of
tests/data/config/full.json with its accessors, every error reported by path through
OmniError.details, check() without raising, apply() idempotent on a memory engine and
an SQLite file, accounts by address, secrets from the environment never echoed, and
a configuration shared between threads."""

import json
import os
import threading
from pathlib import Path
from typing import Any, Dict

import pytest

import omni

ROOT = Path(__file__).resolve().parents[3]
FULL = ROOT / "tests" / "data" / "config" / "full.json"
NOW = "2026-03-02T06:00:00Z"


def full() -> Dict[str, Any]:
    doc: Dict[str, Any] = json.loads(FULL.read_text())
    return doc


def test_full_document() -> None:
    cfg = omni.Config(FULL)
    assert cfg.account_ids == ["acc-retail", "acc-india"]
    assert cfg.storage == "memory:"
    assert cfg.transport == {"type": "curl", "timeoutMs": 10000, "connectTimeoutMs": 5000}
    assert cfg.engine_config == {"storage": "memory:", "transport": cfg.transport}
    assert cfg.delivery["retryPolicy"]["maxRetries"] == 3
    assert [s["stepId"] for s in cfg.steps] == [
        "workFlowIdentityLookup", "workFlowBiDirectional", "workFlowPreRoute",
        "publishOutbound", "pushNotification"]
    pre = cfg.step("workFlowPreRoute")
    assert pre is not None
    assert pre["timeout"] == 45000
    assert pre["retryPolicy"] == {"maxRetries": 3, "backoffMultiplier": 2,
                                  "maxBackoff": 15000, "initialBackoff": 1000}
    assert [n["condition"] for n in pre["nextSteps"]] == [
        "auto_response_enabled", "route_to_agent", "blocked"]
    assert cfg.step("terminate") is None
    assert cfg.summary["valid"] is True
    assert cfg.summary["carriers"] == ["bandwidth", "twilio", "whatsapp"]
    # the same from a dict and from JSON text
    assert omni.Config(full()).account_ids == cfg.account_ids
    assert omni.Config(FULL.read_text()).summary == cfg.summary
    cfg.close()
    assert cfg.closed
    with pytest.raises(omni.OmniError):
        cfg.account_ids


def test_accounts_by_address() -> None:
    with omni.Config(FULL) as cfg:
        acc = cfg.account("+1 (415) 555-0100")
        assert acc is not None
        assert acc["accountId"] == "acc-retail"
        assert acc["businessUnitId"] == "bu-retail"
        assert acc["timeZone"] == "America/New_York"
        assert acc["outbound"] == ["twilio", "whatsapp"]
        assert cfg.account_id("waba:109876543210987") == "acc-india"
        india = cfg.account_settings("acc-india")
        assert india["locale"] == "hi"
        assert india["addresses"]["phoneNumbers"] == ["+918045678901"]
        assert cfg.account("+14155550199") is None
        with pytest.raises(omni.OmniError) as ei:
            cfg.account("shortcode:1")
        assert ei.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as ei:
            cfg.account_settings("nobody")
        assert ei.value.code == "NOT_FOUND"


def test_every_error_with_its_path() -> None:
    doc = {"version": 1, "storage": 5,
           "accounts": [{"accountId": "a0", "addresses": {"shortCodes": ["12"]}},
                        {"accountId": "a1", "outbound": {"twilio": {
                            "accountSid": "AC00000000000000000000000000000001"}}}],
           "templates": [{"templateId": "t", "name": "T", "category": "system",
                          "channels": ["sms"], "content": {"body": "{{#if x}}open"}}],
           "workflow": {"steps": [{"stepId": "workFlowIdentityLookup",
                                   "nextSteps": [{"stepId": "nowhere"}]}]}}
    with pytest.raises(omni.OmniError) as ei:
        omni.Config(doc)
    err = ei.value
    assert err.code == "INVALID_CONFIG"
    assert err.details["count"] == 5
    paths = [e["path"] for e in err.details["errors"]]
    assert set(paths) == {"storage", "accounts[0].addresses.shortCodes[0]",
                          "accounts[1].outbound.twilio.authToken",
                          "templates[0].content.body",
                          "workflow.steps[0].nextSteps[0].stepId"}
    assert err.details["path"] == paths[0]
    report = omni.Config.check(doc)
    assert report["valid"] is False
    assert [e["path"] for e in report["errors"]] == paths
    assert report["accounts"] == 2
    # not JSON: check reports, Config raises INVALID_JSON
    bad = '{"version":1,\n "storage": }'
    report = omni.Config.check(bad)
    assert report["valid"] is False
    assert report["errors"][0]["code"] == "INVALID_JSON"
    assert report["errors"][0]["line"] == 2
    with pytest.raises(omni.OmniError) as ei:
        omni.Config(bad)
    assert ei.value.code == "INVALID_JSON"
    with pytest.raises(TypeError):
        omni.Config(5)  # type: ignore[arg-type]


def test_check_valid() -> None:
    report = omni.Config.check(full())
    assert report["valid"] is True
    assert report["errorCount"] == 0
    assert report["steps"][0] == "workFlowIdentityLookup"
    assert omni.Config.check({"version": 1})["accounts"] == 0


def test_apply_memory_idempotent() -> None:
    cfg = omni.Config(FULL)
    engine = cfg.engine(clock={"fixed": NOW})
    first = cfg.apply(engine)
    assert first == {"routing": {"written": 7, "unchanged": 0},
                     "conversationSettings": {"written": 2, "unchanged": 0},
                     "templates": {"written": 6, "unchanged": 0}}
    second = cfg.apply(engine)
    assert second == {"routing": {"written": 0, "unchanged": 7},
                      "conversationSettings": {"written": 0, "unchanged": 2},
                      "templates": {"written": 0, "unchanged": 6}}
    assert engine.template_get("greeting")["version"] == 1
    engine.close()


def test_apply_sqlite_across_engines(tmp_path: Path) -> None:
    doc = full()
    doc["storage"] = "sqlite:" + str(tmp_path / "store.db")
    doc.pop("transport")
    cfg = omni.Config(doc)
    with cfg.engine() as e:
        assert cfg.apply(e)["templates"]["written"] == 6
    with cfg.engine() as e:
        out = cfg.apply(e)
        assert out["routing"] == {"written": 0, "unchanged": 7}
        assert out["templates"] == {"written": 0, "unchanged": 6}
    # a changed template is updated, nothing else
    doc["templates"][0]["content"]["body"] = "Hello {{identity.profile.firstName}}."
    cfg2 = omni.Config(doc)
    with cfg2.engine() as e:
        out = cfg2.apply(e)
        assert out["templates"] == {"written": 1, "unchanged": 5}
        assert out["routing"]["written"] == 0
        assert e.template_get("greeting")["version"] == 2


def test_secrets_from_env_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"version": 1,
           "inbound": {"carriers": {"twilio": {"authToken": {"env": "OMNI_PY_CFG_TW"}}}},
           "accounts": [{"accountId": "a", "addresses": {"phoneNumbers": ["+14155550100"]},
                         "outbound": {"whatsapp": {"accessToken": "S3CR3T-WA",
                                                   "phoneNumberId": "123"}}}]}
    monkeypatch.delenv("OMNI_PY_CFG_TW", raising=False)
    with pytest.raises(omni.OmniError) as ei:
        omni.Config(doc)
    (only,) = ei.value.details["errors"]
    assert only["path"] == "inbound.carriers.twilio.authToken"
    assert "OMNI_PY_CFG_TW" in only["message"]
    monkeypatch.setenv("OMNI_PY_CFG_TW", "S3CR3T-ENV")
    cfg = omni.Config(doc)
    texts = [json.dumps(cfg.summary), json.dumps(cfg.account_settings("a")),
             json.dumps(cfg.engine_config), json.dumps(cfg.workflow),
             json.dumps(omni.Config.check(doc))]
    assert all("S3CR3T" not in t for t in texts)
    doc["accounts"][0]["outbound"]["whatsapp"]["phoneNumberId"] = "S3CR3T-not-numeric"
    with pytest.raises(omni.OmniError) as ei:
        omni.Config(doc)
    assert "S3CR3T" not in str(ei.value) and "S3CR3T" not in json.dumps(ei.value.details)


def test_shared_between_threads() -> None:
    cfg = omni.Config(FULL)
    failures = []

    def work() -> None:
        for i in range(200):
            want = "acc-india" if i % 2 else "acc-retail"
            got = cfg.account_id("+918045678901" if i % 2 else "shortcode:12345")
            if got != want:
                failures.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

"""omni analyze: content analysis of a message (text argument, stdin, --json request)."""
import json

KEYS = ["spam", "spamScore", "spamReasons", "sentiment", "sentimentScore", "intent",
        "entities", "language", "languageConfidence"]


def test_message_argument(omni):
    r = omni("analyze", "I want a refund, call me at +1 (415) 555-0100")
    assert r.code == 0, r.err
    out = r.json()
    assert list(out) == KEYS
    assert out["intent"] == ["billing", "human_agent"]
    assert out["entities"] == [{"type": "phone", "value": "+1 (415) 555-0100",
                                "normalized": "+14155550100", "start": 28, "end": 45}]
    assert out["language"] == "en"
    assert out["spam"] is False


def test_stdin_text_and_hint_and_sender(omni, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"spam": {"senders": ["+14155550100"], "phrases": ["free money"]},
                               "entities": {"order": "\\b[A-Z]{2}-\\d{6}\\b"}}))
    r = omni("analyze", "--config", cfg, "--sender", "(415) 555-0100", "--language", "hi",
             input="FREE money!!!! order AB-123456 https://bit.ly/x")
    assert r.code == 0, r.err
    out = r.json()
    assert out["spamReasons"] == ["blocked_sender", "blocked_phrase", "shortened_link",
                                  "excessive_punctuation"]
    assert out["spamScore"] == 1 and out["spam"] is True
    assert [e["type"] for e in out["entities"]] == ["order", "url"]
    r = omni("analyze", "--language=kn", "zzz")
    assert r.json()["language"] == "kn"
    assert r.json()["languageConfidence"] == 0.5


def test_json_request_from_file_and_stdin(omni, tmp_path):
    req = {"content": "नमस्ते, मुझे मदद चाहिए", "contentType": "text"}
    f = tmp_path / "req.json"
    f.write_text(json.dumps(req, ensure_ascii=False))
    r = omni("analyze", "--json", f)
    assert r.code == 0, r.err
    out = r.json()
    assert out["language"] == "hi" and out["intent"] == ["support", "greeting"]
    r = omni("analyze", "--json", input=json.dumps({"content": "x", "contentType": "contact"}))
    assert r.code == 0, r.err
    assert r.json()["language"] == "und"


def test_errors(omni, tmp_path):
    r = omni("analyze", "--json", input="{\"content\": 5}")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("analyze", "--json", input="{")
    assert r.code == 2
    r = omni("analyze", input=b"ab\xff")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ENCODING"
    bad = tmp_path / "bad.json"
    bad.write_text('{"entities": {"order": "a(?=b)"}}')
    r = omni("analyze", "--config", bad, "x")
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_CONFIG"
    assert err["details"] == {"path": "entities.order"}
    r = omni("analyze", "--config", tmp_path / "missing.json", "x")
    assert r.code != 0
    r = omni("analyze", "--bogus")
    assert r.code == 2
    r = omni("analyze", "one", "two")
    assert r.code == 2
    r = omni("analyze", "--json", "--sender", "x")
    assert r.code == 2
    r = omni("analyze", "--help")
    assert r.code == 0 and "usage: omni analyze" in r.text


def test_dash_dash_message(omni):
    r = omni("analyze", "--", "--not an option")
    assert r.code == 0, r.err
    assert r.json()["language"] in ("en", "und")

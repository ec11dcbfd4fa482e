"""omni webhook parse | verify (carrier webhooks)."""
import base64
import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import pytest

from conftest import OMNI

DATA = Path(__file__).resolve().parents[1] / "data" / "webhooks"
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
WA_SECRET = "test-app-secret-0123456789"
WA_VERIFY = "test-verify-token"
NOW = "2026-11-22T09:30:00Z"


def _has_webhook_command():
    if not OMNI.exists():
        return False
    proc = subprocess.run([str(OMNI), "--help"], capture_output=True, timeout=30)
    return b"webhook" in proc.stdout


pytestmark = pytest.mark.skipif(not _has_webhook_command(),
                                reason="this omni binary has no webhook command")


def fixture(carrier, name):
    return DATA / carrier / f"{name}.json"


def test_parse_twilio_sms(omni):
    r = omni("--now", NOW, "webhook", "parse", "--carrier", "twilio", "--secret", TWILIO_TOKEN,
             fixture("twilio", "sms"))
    assert r.code == 0, r.err
    events = r.json()
    assert isinstance(events, list) and len(events) == 1
    ev = events[0]
    assert ev["kind"] == "message"
    assert ev["carrier"] == "twilio"
    assert ev["channelType"] == "sms"
    assert ev["senderIdentifier"] == {"phoneNumber": "+14155550199"}
    assert ev["recipientIdentifier"] == {"phoneNumber": "+14155550100"}
    assert ev["message"]["id"] == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert ev["message"]["content"] == "Hello there! \U0001F44B Is the store open?"
    assert ev["message"]["timestamp"] == "2026-11-22T09:30:00.000Z"
    assert ev["rawPayload"]["AccountSid"] == "AC0123456789abcdef0123456789abcdef"
    # correlationId = UUIDv5(namespace, "twilio:" + MessageSid), as `omni uuid5` computes it
    ns = omni("uuid5", "url", "urn:libomni:carrier-message").text.strip()
    want = omni("uuid5", ns, "twilio:SM1f0e8ae6ade43cb3c0ce4525424e404f").text.strip()
    assert ev["correlationId"] == want


def test_parse_full_result_and_stdin(omni):
    text = fixture("twilio", "status_undelivered").read_bytes()
    r = omni("webhook", "parse", "--full", "--carrier", "twilio", "--secret", TWILIO_TOKEN,
             input=text)
    assert r.code == 0, r.err
    res = r.json()
    assert res["carrier"] == "twilio"
    assert res["events"][0]["kind"] == "status"
    assert res["events"][0]["status"] == "undelivered"
    assert res["events"][0]["errorCode"] == "30003"
    assert res["response"]["status"] == 200


def test_parse_without_secret_only_parses(omni):
    r = omni("webhook", "parse", "--carrier", "whatsapp", fixture("whatsapp", "batch"))
    assert r.code == 0, r.err
    assert [e["message"]["content"] for e in r.json()] == ["First", "Segunda mensagem"]


def test_parse_refuses_a_wrong_secret(omni):
    r = omni("webhook", "parse", "--carrier", "twilio", "--secret", "wrong",
             fixture("twilio", "sms"))
    assert r.code == 1
    assert r.error()["code"] == "SIGNATURE_INVALID"
    assert r.out == b""
    assert "wrong" not in r.err.decode()


def test_verify_valid_and_invalid(omni, tmp_path):
    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", TWILIO_TOKEN,
             fixture("twilio", "mms"))
    assert r.code == 0, r.err
    assert r.json() == {"valid": True, "code": "OK"}

    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", "not-the-token",
             fixture("twilio", "mms"))
    assert r.code == 1
    res = r.json()
    assert res["valid"] is False and res["code"] == "SIGNATURE_INVALID"
    assert "not-the-token" not in r.text

    # a tampered body
    req = json.loads(fixture("twilio", "sms").read_text())
    req["body"] = req["body"].replace("Body=Hello", "Body=Jello")
    p = tmp_path / "tampered.json"
    p.write_text(json.dumps(req))
    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", TWILIO_TOKEN, p)
    assert r.code == 1
    assert r.json()["valid"] is False


def test_verify_secret_from_environment(omni):
    r = omni("webhook", "verify", "--carrier", "whatsapp", "--secret-env", "WA_SECRET",
             fixture("whatsapp", "image"), env={"WA_SECRET": WA_SECRET})
    assert r.code == 0, r.err
    assert r.json()["valid"] is True
    r = omni("webhook", "verify", "--carrier", "whatsapp", "--secret-env", "UNSET_VAR_X",
             fixture("whatsapp", "image"))
    assert r.code == 2


def test_whatsapp_signature_is_real(omni, tmp_path):
    """Re-sign a changed body with the test secret: still valid; unsigned: not."""
    req = json.loads(fixture("whatsapp", "text").read_text())
    req["body"] = req["body"].replace("another color", "blue")
    sig = hmac.new(WA_SECRET.encode(), req["body"].encode(), hashlib.sha256).hexdigest()
    p = tmp_path / "resigned.json"
    req["headers"]["X-Hub-Signature-256"] = "sha256=" + sig
    p.write_text(json.dumps(req))
    r = omni("webhook", "parse", "--carrier", "whatsapp", "--secret", WA_SECRET, p)
    assert r.code == 0, r.err
    assert r.json()[0]["message"]["content"] == "Does it come in blue?"
    del req["headers"]["X-Hub-Signature-256"]
    p.write_text(json.dumps(req))
    r = omni("webhook", "verify", "--carrier", "whatsapp", "--secret", WA_SECRET, p)
    assert r.code == 1
    assert r.json()["code"] == "SIGNATURE_INVALID"


def test_whatsapp_handshake_with_config(omni, tmp_path):
    cfg = tmp_path / "inbound.json"
    cfg.write_text(json.dumps({"carriers": {"whatsapp": {"appSecret": WA_SECRET,
                                                         "verifyToken": WA_VERIFY}}}))
    r = omni("webhook", "parse", "--full", "--carrier", "whatsapp", "--config", cfg,
             fixture("whatsapp", "verify_get"))
    assert r.code == 0, r.err
    res = r.json()
    assert res["events"] == []
    assert res["response"] == {"status": 200, "headers": {"Content-Type": "text/plain"},
                               "body": "1158201444"}
    r = omni("webhook", "verify", "--carrier", "whatsapp", "--config", cfg,
             fixture("whatsapp", "verify_get"))
    assert r.json() == {"valid": True, "code": "OK"}


def test_twilio_behind_a_proxy(omni, tmp_path):
    f = fixture("twilio", "proxied")
    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", TWILIO_TOKEN, f)
    assert r.code == 1  # Host: 10.0.0.5:8080 is not the URL Twilio signed
    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", TWILIO_TOKEN,
             "--public-url", "https://hooks.example.com", f)
    assert r.code == 0, r.out
    cfg = tmp_path / "inbound.json"
    cfg.write_text(json.dumps({"trustForwardedHeaders": True}))
    r = omni("webhook", "verify", "--carrier", "twilio", "--secret", TWILIO_TOKEN,
             "--config", cfg, f)
    assert r.code == 0, r.out


def test_secret_maps_to_each_carriers_setting(omni):
    """--secret is the main secret of every built-in carrier."""
    cases = []
    bw = fixture("bandwidth", "message_received_sms")
    if bw.exists():
        auth = json.loads(bw.read_text())["headers"]["Authorization"]
        cases.append(("bandwidth", bw, base64.b64decode(auth[6:]).decode(), None))
    lc = fixture("livechat", "incoming_event_message")
    if lc.exists():
        secret = json.loads(json.loads(lc.read_text())["body"])["secret_key"]
        cases.append(("livechat", lc, secret, None))
    iq = fixture("inteliquent", "sms")
    if iq.exists():
        cases.append(("inteliquent", iq,
                      json.loads(iq.read_text())["headers"]["X-Inteliquent-Secret"], None))
    mb = fixture("messagebird", "message_created_text_sms")
    if mb.exists():
        token = json.loads(mb.read_text())["headers"]["MessageBird-Signature-JWT"]
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        import datetime
        now = datetime.datetime.fromtimestamp(claims["nbf"] + 1, datetime.timezone.utc)
        cases.append(("messagebird", mb, "mb-test-signing-key-4d1f0b8e2c7a9d3f",
                      now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    if not cases:
        pytest.skip("no fixtures of the other carriers")
    for carrier, f, secret, now in cases:
        args = ["--now", now] if now else []
        r = omni(*args, "webhook", "verify", "--carrier", carrier, "--secret", secret, f)
        assert r.json() == {"valid": True, "code": "OK"}, (carrier, r.out, r.err)
        r = omni(*args, "webhook", "verify", "--carrier", carrier, "--secret",
                 "x:" + secret + "-wrong", f)
        assert r.code == 1, carrier
        assert r.json()["valid"] is False
    r = omni("webhook", "verify", "--carrier", "bandwidth", "--secret", "no-colon",
             fixture("twilio", "sms"))
    assert r.code == 2


def test_unknown_carrier(omni):
    r = omni("webhook", "parse", "--carrier", "sinch", fixture("twilio", "sms"))
    assert r.code == 1
    assert r.error()["code"] == "UNKNOWN_CARRIER"
    r = omni("webhook", "verify", "--carrier", "sinch", "--config", "/dev/null",
             fixture("twilio", "sms"))
    # an empty --config file is not a configuration
    assert r.code == 2
    r = omni("webhook", "verify", "--carrier", "sinch", "--secret", "x",
             fixture("twilio", "sms"))
    assert r.code == 2  # --secret has no meaning for an unknown carrier


def test_usage_and_input_errors(omni, tmp_path):
    assert omni("webhook").code == 2
    assert omni("webhook", "frobnicate").code == 2
    r = omni("webhook", "parse", fixture("twilio", "sms"))
    assert r.code == 2 and "--carrier" in r.error()["message"]
    r = omni("webhook", "verify", "--carrier", "twilio", fixture("twilio", "sms"))
    assert r.code == 2
    r = omni("webhook", "parse", "--carrier", "twilio", "--bogus", fixture("twilio", "sms"))
    assert r.code == 2
    r = omni("webhook", "parse", "--carrier", "twilio", "a.json", "b.json")
    assert r.code == 2
    r = omni("webhook", "parse", "--carrier", "twilio", tmp_path / "missing.json")
    assert r.code == 2
    r = omni("webhook", "parse", "--carrier", "twilio", input="{not json")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_JSON"
    r = omni("webhook", "parse", "--carrier", "twilio", input='{"method":"POST"}')
    assert r.code == 1
    assert r.error()["code"] == "MALFORMED_WEBHOOK"
    cfg = tmp_path / "bad.json"
    cfg.write_text('{"carriers": {"twilio": {"authToken": 5}}}')
    r = omni("webhook", "parse", "--carrier", "twilio", "--config", cfg,
             fixture("twilio", "sms"))
    assert r.code == 2
    assert r.error()["code"] == "INVALID_CONFIG"


def test_help(omni):
    r = omni("webhook", "--help")
    assert r.code == 0
    assert b"omni webhook parse" in r.out

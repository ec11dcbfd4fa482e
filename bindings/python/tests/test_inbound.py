"""Inbound webhooks (omni/carrier.h): signed Twilio and WhatsApp requests, Meta's
GET handshake, signature failures and the request forms the binding accepts."""

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any, Dict, List, Tuple

import pytest

import omni

TWILIO_TOKEN = "twilio-test-auth-token"
META_SECRET = "meta-app-secret"
VERIFY_TOKEN = "verify-me"
BASE = "https://hooks.example.com"
CONFIG = {
    "publicBaseUrl": BASE,
    "defaultRegion": "US",
    "carriers": {
        "twilio": {"authToken": TWILIO_TOKEN},
        "whatsapp": {"appSecret": META_SECRET, "verifyToken": VERIFY_TOKEN},
    },
}
FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}


def twilio_signature(url: str, params: Dict[str, str], token: str = TWILIO_TOKEN) -> str:
    # Twilio's documented scheme: HMAC-SHA1 over the full URL followed by each POST
    # parameter's name and value, sorted by name; Base64.
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


TWILIO_PARAMS = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+14155550100",
    "To": "+14155550199",
    "Body": "Hello from the test",
    "NumMedia": "0",
}


def twilio_request(params: Dict[str, str], signature: str) -> Dict[str, Any]:
    return {
        "method": "POST",
        "url": "/webhooks/twilio",
        "headers": {
            "Host": "internal.local",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        "body": urllib.parse.urlencode(params),
    }


WHATSAPP_BODY = json.dumps(
    {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "919876543210"}],
                            "messages": [
                                {
                                    "from": "919876543210",
                                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAz",
                                    "timestamp": "1767225600",
                                    "type": "text",
                                    "text": {"body": "Namaste"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
).encode()


def meta_signature(body: bytes, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def inbound():
    with omni.Inbound(CONFIG) as inb:
        yield inb


def test_twilio_signed_form_gives_one_message_event(inbound: omni.Inbound) -> None:
    sig = twilio_signature(BASE + "/webhooks/twilio", TWILIO_PARAMS)
    with omni.Engine(FIXED) as engine:
        result = inbound.handle("twilio", twilio_request(TWILIO_PARAMS, sig), engine=engine)
    assert result["carrier"] == "twilio"
    assert result["response"]["status"] == 200
    assert "<Response/>" in result["response"]["body"]
    [event] = result["events"]
    assert event["kind"] == "message"
    assert event["carrier"] == "twilio"
    assert event["senderIdentifier"] == {"phoneNumber": "+14155550100"}
    assert event["recipientIdentifier"] == {"phoneNumber": "+14155550199"}
    assert event["message"]["id"] == TWILIO_PARAMS["MessageSid"]
    assert event["message"]["content"] == "Hello from the test"
    # No carrier timestamp: the engine's clock.
    assert event["message"]["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert event["rawPayload"]["Body"] == "Hello from the test"
    # correlationId = UUIDv5(namespace, "twilio:" + MessageSid): redeliveries match.
    assert event["correlationId"] == omni.uuid5(
        omni.CARRIER_MESSAGE_NAMESPACE, "twilio:" + TWILIO_PARAMS["MessageSid"]
    )
    # verify() alone accepts it too.
    inbound.verify("twilio", twilio_request(TWILIO_PARAMS, sig))


def test_twilio_wrong_signature_is_rejected(inbound: omni.Inbound) -> None:
    bad = twilio_signature(BASE + "/webhooks/twilio", TWILIO_PARAMS, token="wrong-token")
    for call in (inbound.handle, inbound.verify):
        with pytest.raises(omni.OmniError) as info:
            call("twilio", twilio_request(TWILIO_PARAMS, bad))
        err = info.value
        assert err.status == omni.Status.ESIGNATURE
        assert err.code == "SIGNATURE_INVALID"
        assert TWILIO_TOKEN not in err.message
    # A tampered body with the original signature fails as well.
    sig = twilio_signature(BASE + "/webhooks/twilio", TWILIO_PARAMS)
    tampered = dict(TWILIO_PARAMS, Body="Send money")
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", twilio_request(tampered, sig))
    assert info.value.code == "SIGNATURE_INVALID"
    # No signature header at all.
    req = twilio_request(TWILIO_PARAMS, sig)
    del req["headers"]["X-Twilio-Signature"]
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", req)
    assert info.value.code == "SIGNATURE_INVALID"


def test_whatsapp_text_with_bytes_body_and_header_pairs(inbound: omni.Inbound) -> None:
    headers: List[Tuple[str, str]] = [
        ("Host", "hooks.example.com"),
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", meta_signature(WHATSAPP_BODY)),
    ]
    req = {"method": "POST", "url": "/webhooks/whatsapp", "headers": headers,
           "body": WHATSAPP_BODY}
    result = inbound.handle("whatsapp", req)
    [event] = result["events"]
    assert event["kind"] == "message"
    assert event["carrier"] == "whatsapp"
    assert event["senderIdentifier"]["phoneNumber"] == "+919876543210"
    assert event["message"]["content"] == "Namaste"
    assert event["message"]["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert event["senderName"] == "Kerry"
    # A body changed by one byte: SIGNATURE_INVALID.
    req["body"] = WHATSAPP_BODY.replace(b"Namaste", b"Namaskar")
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("whatsapp", req)
    assert info.value.code == "SIGNATURE_INVALID"


def test_meta_get_handshake_answers_the_challenge(inbound: omni.Inbound) -> None:
    query = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    req = {"method": "GET", "url": "/webhooks/whatsapp?" + query,
           "headers": {"Host": "hooks.example.com"}}
    inbound.verify("whatsapp", req)
    result = inbound.handle("whatsapp", req)
    assert result["events"] == []
    assert result["response"]["status"] == 200
    assert result["response"]["body"] == "1158201444"
    wrong = dict(req, url=req["url"].replace(VERIFY_TOKEN, "not-it"))
    with pytest.raises(omni.OmniError) as info:
        inbound.verify("whatsapp", wrong)
    assert info.value.code == "SIGNATURE_INVALID"


def test_request_as_json_text(inbound: omni.Inbound) -> None:
    sig = twilio_signature(BASE + "/webhooks/twilio", TWILIO_PARAMS)
    req = twilio_request(TWILIO_PARAMS, sig)
    result = inbound.handle("twilio", json.dumps(req))
    assert len(result["events"]) == 1
    b64 = {"method": "POST", "url": "/webhooks/whatsapp",
           "headers": [["X-Hub-Signature-256", meta_signature(WHATSAPP_BODY)]],
           "bodyBase64": base64.b64encode(WHATSAPP_BODY).decode()}
    assert len(inbound.handle("whatsapp", json.dumps(b64).encode())["events"]) == 1
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", '{"method": "POST"')
    assert info.value.code == "INVALID_JSON"
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", '{"method": "POST", "url": "/x", "bogus": 1}')
    assert info.value.code == "MALFORMED_WEBHOOK"


def test_unknown_carrier_and_bad_requests(inbound: omni.Inbound) -> None:
    req = {"method": "POST", "url": "/webhooks/nope", "body": "x=1"}
    for call in (inbound.handle, inbound.verify):
        with pytest.raises(omni.OmniError) as info:
            call("carrier-pigeon", req)
        assert info.value.code == "UNKNOWN_CARRIER"
        assert info.value.status == omni.Status.ECARRIER
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", {"method": "post", "url": "/x"})  # lower-case method
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", {"method": "POST", "url": "/x",
                                  "headers": {"Bad Name": "v"}})
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", {"url": "/x"})
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        inbound.handle("twilio", {"method": "POST", "url": "/x", "extra": 1})
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(TypeError):
        inbound.handle("twilio", {"method": "POST", "url": "/x", "headers": ["oops"]})
    with pytest.raises(TypeError):
        inbound.handle("twilio", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        inbound.handle("twilio", {"method": "POST", "url": "/x"}, engine="e")  # type: ignore
    small = omni.Inbound({"maxBodyBytes": 16, "carriers": {"twilio": {"authToken": "t"}}})
    with pytest.raises(omni.OmniError) as info:
        small.handle("twilio", {"method": "POST", "url": "/x", "body": b"a" * 17})
    assert info.value.code == "PAYLOAD_TOO_LARGE"
    small.close()


def test_config_errors_and_close() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Inbound({"carriers": {"twilio": {"authToken": "s3cret", "bogus": 1}}})
    err = info.value
    assert err.code == "INVALID_CONFIG"
    assert err.details == {"path": "carriers.twilio.bogus"}
    assert "s3cret" not in err.message
    with pytest.raises(omni.OmniError) as info:
        omni.Inbound("{")
    assert info.value.code == "INVALID_JSON"
    with pytest.raises(TypeError):
        omni.Inbound(None)  # type: ignore[arg-type]
    inb = omni.Inbound('{"carriers": {}}')
    inb.close()
    inb.close()
    assert inb.closed
    with pytest.raises(omni.OmniError) as info:
        inb.handle("twilio", {"method": "GET", "url": "/"})
    assert info.value.code == "INVALID_ARGUMENT"


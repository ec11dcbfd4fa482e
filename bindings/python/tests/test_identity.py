"""Phone numbers, identifier normalization, routing, customers, identity links and
identity lookup (omni/identity.h)."""

import pytest

import omni

FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}

# Expected values agree with Google libphonenumber's E.164 format.
PHONE_VECTORS = [
    ("(415) 555-0100", "US", "+14155550100"),
    ("030 12345678", "DE", "+493012345678"),  # German trunk 0 removed
    ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps its leading 0
    ("whatsapp:+919876543210", None, "+919876543210"),
    ("tel:+44 20 7946 0958", None, "+442079460958"),
    ("011 44 20 7946 0958", "US", "+442079460958"),  # US international prefix
    ("919876543210", None, "+919876543210"),  # a WhatsApp wa_id
    ("+1 415 555 0100 ext. 7", None, "+14155550100"),
]


@pytest.mark.parametrize("raw,region,expected", PHONE_VECTORS)
def test_phone_to_e164_vectors(raw: str, region: str, expected: str) -> None:
    assert omni.phone_to_e164(raw, region) == expected


def test_phone_parse_reports_the_extension() -> None:
    parsed = omni.phone_parse("+1 (415) 555-0100 ext. 123")
    assert parsed["e164"] == "+14155550100"
    assert parsed["countryCode"] == 1
    assert parsed["region"] == "US"
    assert parsed["nationalNumber"] == "4155550100"
    assert parsed["extension"] == "123"
    it = omni.phone_parse("06 1234 5678", "IT")
    assert (it["region"], it["nationalNumber"]) == ("IT", "0612345678")
    assert "extension" not in it


def test_phone_errors() -> None:
    for raw, region in [("not a number", "US"), ("1-800-FLOWERS", "US"), ("12", "US"),
                        ("+991 123456", None), ("555-0100", "US")]:
        with pytest.raises(omni.OmniError) as info:
            omni.phone_to_e164(raw, region)
        assert info.value.code == "INVALID_IDENTIFIER", raw
        assert info.value.status == omni.Status.EIDENTIFIER
        assert raw not in info.value.message  # messages never contain the number
    with pytest.raises(omni.OmniError) as info:
        omni.phone_parse("garbage")
    assert info.value.code == "INVALID_IDENTIFIER"
    with pytest.raises(omni.OmniError) as info:
        omni.phone_to_e164("415 555 0100", "XX")
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        omni.phone_to_e164("1" * 300, "US")
    assert info.value.code == "PAYLOAD_TOO_LARGE"


def test_phone_identity_key_brazil_ninth_digit() -> None:
    assert omni.phone_identity_key("+551187654321") == "+551187654321"
    assert omni.phone_identity_key("+551187654321", brazil_ninth_digit=True) == "+5511987654321"
    # A fixed line (subscriber digits begin with 2-5) is left alone.
    assert omni.phone_identity_key("+551123456789", brazil_ninth_digit=True) == "+551123456789"
    assert omni.phone_identity_key("+14155550100", True) == "+14155550100"
    with pytest.raises(omni.OmniError) as info:
        omni.phone_identity_key("4155550100")
    assert info.value.code == "INVALID_IDENTIFIER"


def test_identity_normalize() -> None:
    assert omni.identity_normalize("twilio", {"phoneNumber": "(415) 555-0100"}, "US") == (
        "+14155550100"
    )
    assert omni.identity_normalize("twilio", {"phoneNumber": "whatsapp:+919876543210"}) == (
        "+919876543210"
    )
    assert omni.identity_normalize("whatsapp", {"phoneNumber": "919876543210"}) == (
        "wa:+919876543210"
    )
    assert omni.identity_normalize("whatsapp", {"userId": "kerry.b"}) == "wa:id:kerry.b"
    assert omni.identity_normalize("livechat", '{"sessionId": "S123"}') == "lc:S123"
    with pytest.raises(omni.OmniError) as info:
        omni.identity_normalize("pigeon", {"phoneNumber": "+14155550100"})
    assert info.value.code == "UNKNOWN_CARRIER"
    with pytest.raises(omni.OmniError) as info:
        omni.identity_normalize("twilio", {})
    assert info.value.code == "INVALID_IDENTIFIER"
    with pytest.raises(omni.OmniError) as info:
        omni.identity_normalize("twilio", "{")
    assert info.value.code == "INVALID_JSON"


def test_routing_crud() -> None:
    with omni.Engine(FIXED) as engine:
        engine.routing_set("+1 (415) 555-0199", {"accountId": "acc-1", "tenantId": "t-1"})
        doc = engine.routing_get("+14155550199")  # stored under its E.164 form
        assert doc["accountId"] == "acc-1" and doc["tenantId"] == "t-1"
        engine.routing_set("shortcode:12345", '{"accountId": "acc-2"}')
        assert engine.routing_get("shortcode:12345")["accountId"] == "acc-2"
        engine.routing_delete("shortcode:12345")
        for call in (engine.routing_get, engine.routing_delete):
            with pytest.raises(omni.OmniError) as info:
                call("shortcode:12345")
            assert info.value.code == "NOT_FOUND"
        with pytest.raises(omni.OmniError) as info:
            engine.routing_set("+14155550199", {"tenantId": "no account"})
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            engine.routing_set("nonsense key", {"accountId": "a"})
        assert info.value.code == "INVALID_ARGUMENT"


def test_customers_and_links() -> None:
    with omni.Engine(FIXED) as engine:
        made = engine.customer_put({"profile": {"firstName": "Asha"}})
        cid = made["customerId"]
        assert made["profile"]["firstName"] == "Asha"
        assert engine.customer_get(cid)["profile"] == {"firstName": "Asha"}
        engine.customer_put({"customerId": "cust-7", "preferences": {"language": "kn"}})
        assert engine.customer_get("cust-7")["preferences"]["language"] == "kn"
        with pytest.raises(omni.OmniError) as info:
            engine.customer_get("nobody")
        assert info.value.code == "IDENTITY_NOT_FOUND"
        with pytest.raises(omni.OmniError) as info:
            engine.customer_put({"profile": "not an object"})
        assert info.value.code == "INVALID_ARGUMENT"

        engine.identity_link(cid, "+14155550100")
        engine.identity_link(cid, "+14155550100")  # again, same customer: OK
        with pytest.raises(omni.OmniError) as info:
            engine.identity_link("cust-7", "+14155550100")
        assert info.value.code == "ALREADY_EXISTS"
        with pytest.raises(omni.OmniError) as info:
            engine.identity_link("nobody", "+14155550101")
        assert info.value.code == "IDENTITY_NOT_FOUND"
        engine.identity_unlink("+14155550100")
        with pytest.raises(omni.OmniError) as info:
            engine.identity_unlink("+14155550100")
        assert info.value.code == "NOT_FOUND"


def _event(sender: str = "+14155550100", recipient: str = "+14155550199") -> dict:
    return {
        "correlationId": "6f3de2ad-1be9-5c8a-bc3b-ff2de50adf87",
        "carrier": "twilio",
        "channelType": "sms",
        "senderIdentifier": {"phoneNumber": sender},
        "recipientIdentifier": {"phoneNumber": recipient},
        "message": {"id": "SM1", "content": "hi", "contentType": "text",
                    "timestamp": "2026-01-01T00:00:00.000Z"},
    }


def test_identity_lookup_anonymous_then_known() -> None:
    with omni.Engine(FIXED) as engine:
        engine.routing_set("+14155550199", {"accountId": "acc-1", "businessUnitId": "bu-1"})
        first = engine.identity_lookup(_event())
        assert first["success"] is True
        assert first["correlationId"] == _event()["correlationId"]
        assert first["identity"]["customerType"] == "anonymous"
        assert first["routing"] == {"accountId": "acc-1", "businessUnitId": "bu-1",
                                    "tenantId": ""}
        assert first["enrichedMessage"]["normalizedSender"] == "+14155550100"
        assert first["enrichedMessage"]["receivedAt"] == "2026-01-01T00:00:00.000Z"
        assert first["nextStep"] == "workFlowBiDirectional"
        # The anonymous id is deterministic: UUIDv5(identity namespace, identity key).
        anon = first["identity"]["customerId"]
        assert engine.identity_lookup(_event())["identity"]["customerId"] == anon
        assert anon == omni.uuid5(omni.IDENTITY_NAMESPACE, "+14155550100")

        cust = engine.customer_put({"customerId": "cust-1",
                                    "profile": {"firstName": "Asha"},
                                    "preferences": {"language": "hi"}})
        engine.identity_link(cust["customerId"], "+14155550100")
        known = engine.identity_lookup(_event(), {"defaultRegion": "US"})
        assert known["identity"]["customerType"] == "known"
        assert known["identity"]["customerId"] == "cust-1"
        assert known["identity"]["profile"]["firstName"] == "Asha"
        assert known["enrichedMessage"]["language"] == "hi"


def test_identity_lookup_creates_customers_when_routing_says_so() -> None:
    with omni.Engine(FIXED) as engine:
        engine.routing_set("+14155550199", {"accountId": "acc-1", "createCustomers": True})
        first = engine.identity_lookup(_event(sender="+14155550123"))
        assert first["identity"]["customerType"] == "new"
        again = engine.identity_lookup(_event(sender="+14155550123"))
        assert again["identity"]["customerType"] == "known"
        assert again["identity"]["customerId"] == first["identity"]["customerId"]


def test_identity_lookup_errors() -> None:
    with omni.Engine(FIXED) as engine:
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup(_event())
        err = info.value
        assert err.code == "ROUTING_RESOLUTION_FAILED"
        assert err.status == omni.Status.EROUTING
        assert err.retryable is True
        engine.routing_set("+14155550199", {"accountId": "acc-1"})
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup(_event(sender="garbage"))
        assert info.value.code == "INVALID_IDENTIFIER"
        assert info.value.retryable is False
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup(_event(), {"bogus": True})
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup("[1]")
        assert info.value.code in ("INVALID_ARGUMENT", "INVALID_JSON")
        bad = _event()
        del bad["message"]
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup(bad)
        assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        engine.identity_lookup(_event())  # closed engine
    assert info.value.code == "INVALID_ARGUMENT"


def test_inbound_event_feeds_identity_lookup() -> None:
    # The message event of Inbound.handle is an IdentityLookupEvent as it is.
    inbound = omni.Inbound({"carriers": {"twilio": {"verify": False}}})
    body = ("MessageSid=SM9&AccountSid=AC1&From=%2B14155550100&To=%2B14155550199"
            "&Body=hi&MessagingServiceSid=MG1")
    with omni.Engine(FIXED) as engine:
        result = inbound.handle("twilio", {"method": "POST", "url": "/t",
                                           "headers": {"Host": "h.example"}, "body": body},
                                engine)
        [event] = result["events"]
        with pytest.raises(omni.OmniError) as info:
            engine.identity_lookup(event)
        assert info.value.code == "ROUTING_RESOLUTION_FAILED"
        engine.routing_set("mss:MG1", {"accountId": "acc-mss"})  # rawPayload's service sid
        looked = engine.identity_lookup(event)
        assert looked["identity"]["customerType"] == "anonymous"
        assert looked["routing"]["accountId"] == "acc-mss"
        assert looked["correlationId"] == event["correlationId"]
    inbound.close()

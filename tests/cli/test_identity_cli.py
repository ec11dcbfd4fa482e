"""omni identity: lookup, link, unlink, customers and routing over a store,
with --setup to prepare the in-memory store in the same run."""
import json

SETUP = {
    "routing": {
        "+14155550100": {"accountId": "acc-1", "businessUnitId": "bu-1", "tenantId": "t-1",
                         "defaultRegion": "US"},
        "+14155550199": {"accountId": "acc-2", "createCustomers": True},
        "waba:106540352242922": {"accountId": "acc-wa"},
    },
    "customers": [{"customerId": "cust-1",
                   "profile": {"firstName": "Ada", "phoneNumbers": ["+14155550123"], "tags": []},
                   "preferences": {"language": "fr"}}],
    "links": {"+14155550123": "cust-1", "wa:+5511987654321": "cust-1"},
}

NOW = "2025-01-02T03:04:05Z"


def event(sender, recipient, carrier="twilio"):
    return json.dumps({
        "correlationId": "c-1", "carrier": carrier, "channelType": "sms",
        "senderIdentifier": sender, "recipientIdentifier": recipient,
        "message": {"id": "SM1", "content": "Hi", "contentType": "text",
                    "timestamp": "2025-01-02T03:04:00Z"},
        "rawPayload": {}})


def setup_file(tmp_path):
    p = tmp_path / "setup.json"
    p.write_text(json.dumps(SETUP))
    return p


def test_lookup_known_customer(omni, tmp_path):
    r = omni("identity", "lookup", "--setup", setup_file(tmp_path), "--now", NOW,
             input=event({"phoneNumber": "(415) 555-0123"}, {"phoneNumber": "+14155550100"}))
    assert r.code == 0, r.err
    res = r.json()
    assert res["success"] is True
    assert res["identity"]["customerId"] == "cust-1"
    assert res["identity"]["customerType"] == "known"
    assert res["identity"]["profile"]["firstName"] == "Ada"
    assert res["routing"] == {"accountId": "acc-1", "businessUnitId": "bu-1", "tenantId": "t-1"}
    assert res["enrichedMessage"]["normalizedSender"] == "+14155550123"
    assert res["enrichedMessage"]["language"] == "fr"
    assert res["enrichedMessage"]["receivedAt"] == "2025-01-02T03:04:05.000Z"
    assert res["nextStep"] == "workFlowBiDirectional"


def test_lookup_from_a_file_whatsapp_brazil_8_digit(omni, tmp_path):
    ev = tmp_path / "ev.json"
    ev.write_text(event({"phoneNumber": "551187654321"},
                        {"businessId": "106540352242922"}, carrier="whatsapp"))
    r = omni("identity", "lookup", ev, "--setup", setup_file(tmp_path))
    assert r.code == 0, r.err
    assert r.json()["identity"]["customerId"] == "cust-1"
    assert r.json()["routing"]["accountId"] == "acc-wa"
    r = omni("identity", "lookup", ev, "--setup", setup_file(tmp_path),
             "--no-brazil-ninth-digit")
    assert r.json()["identity"]["customerType"] == "anonymous"


def test_anonymous_and_new_customers_are_deterministic(omni, tmp_path):
    ev = event({"phoneNumber": "+14155550777"}, {"phoneNumber": "+14155550100"})
    a = omni("identity", "lookup", "--setup", setup_file(tmp_path), input=ev).json()
    b = omni("identity", "lookup", "--setup", setup_file(tmp_path), input=ev).json()
    assert a["identity"]["customerType"] == "anonymous"
    assert a["identity"]["customerId"] == b["identity"]["customerId"]
    ns = omni("uuid5", "ca92a1e2-b2fd-54d1-bf49-15373b45d00d", "+14155550777").text.strip()
    assert a["identity"]["customerId"] == ns
    ev = event({"phoneNumber": "+14155550777"}, {"phoneNumber": "+14155550199"})
    n = omni("identity", "lookup", "--setup", setup_file(tmp_path), "--now", NOW, input=ev).json()
    assert n["identity"]["customerType"] == "new"
    want = omni("uuid5", "ca92a1e2-b2fd-54d1-bf49-15373b45d00d",
                "customer:+14155550777").text.strip()
    assert n["identity"]["customerId"] == want
    assert n["identity"]["profile"]["createdAt"] == "2025-01-02T03:04:05.000Z"


def test_lookup_errors(omni, tmp_path):
    r = omni("identity", "lookup", "--setup", setup_file(tmp_path),
             input=event({"phoneNumber": "+14155550123"}, {"phoneNumber": "+14155550111"}))
    assert r.code == 1
    err = r.error()
    assert err["code"] == "ROUTING_RESOLUTION_FAILED"
    assert err["retryable"] is True
    r = omni("identity", "lookup", "--setup", setup_file(tmp_path),
             input=event({"phoneNumber": "+1415"}, {"phoneNumber": "+14155550100"}))
    assert r.code == 1
    assert r.error() == {"code": "INVALID_IDENTIFIER", "retryable": False,
                         "message": r.error()["message"]}
    r = omni("identity", "lookup", input="{not json")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_JSON"


def test_link_unlink_customers_and_routing(omni, tmp_path):
    s = setup_file(tmp_path)
    r = omni("identity", "link", "cust-1", "+1 415 555 0999", "--setup", s)
    assert r.code == 0, r.err
    assert r.json() == {"customerId": "cust-1", "identifier": "+1 415 555 0999", "linked": True}
    r = omni("identity", "link", "cust-404", "+14155550999", "--setup", s)
    assert r.code == 1
    assert r.error()["code"] == "IDENTITY_NOT_FOUND"
    r = omni("identity", "unlink", "+14155550123", "--setup", s)
    assert r.json() == {"identifier": "+14155550123", "unlinked": True}
    r = omni("identity", "unlink", "+14155550123")
    assert r.code == 1
    assert r.error()["code"] == "NOT_FOUND"
    r = omni("identity", "customer-get", "cust-1", "--setup", s)
    assert r.json()["profile"]["firstName"] == "Ada"
    r = omni("identity", "customer-put", "--now", NOW, "--seed", "3", input='{"profile":{}}')
    assert r.code == 0, r.err
    assert r.json()["customerId"][14] == "7"  # a UUIDv7
    r = omni("identity", "routing-set", "shortcode:88088", input='{"accountId":"acc-sc"}\n')
    assert r.json() == {"accountId": "acc-sc"}
    r = omni("identity", "routing-get", "+1 (415) 555-0100", "--setup", s)
    assert r.json()["accountId"] == "acc-1"


def test_usage_errors(omni, tmp_path):
    assert omni("identity").code == 2
    assert omni("identity", "bogus").code == 2
    assert omni("identity", "link", "only-one").code == 2
    assert omni("identity", "link", "a", "b", "--region", "US").code == 2
    assert omni("identity", "lookup", "--store", "nosuch:").code == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"routes": {}}')
    r = omni("identity", "lookup", "--setup", bad, input="{}")
    assert r.code == 2
    assert "routes" in r.error()["message"]
    r = omni("identity", "--help")
    assert r.code == 0
    assert "omni identity lookup" in r.text

"""omni.Push: the push platform adapters (omni/push.h) against the golden files in
tests/data/push/ (APNs, FCM HTTP v1, Web Push), FCM's token flow and the errors."""
import base64
import json
import os
from pathlib import Path

import pytest

import omni
from omni import OmniError, Push, Status

DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "push"
APNS_KEY = (DATA / "apns" / "AuthKey_TEST123456.p8").read_text()
FCM_SA = (DATA / "fcm" / "service_account.json").read_text()
TOKEN = "ya29.test-access-token"


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("OMNI_TEST_APNS_KEY", APNS_KEY)
    monkeypatch.setenv("OMNI_TEST_FCM_SA", FCM_SA)


def load(platform, name):
    return json.loads((DATA / platform / name).read_text())


def goldens(platform):
    return sorted(p.name for p in (DATA / platform).glob("*.json")
                  if p.name not in ("responses.json", "service_account.json"))


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def token_answer(token=TOKEN, expires_in=3600, status=200):
    return {"status": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"access_token": token, "expires_in": expires_in,
                                "token_type": "Bearer"})}


def headers(h):
    return dict(h) if isinstance(h, list) else h


@pytest.mark.parametrize("name", goldens("apns"))
def test_apns_goldens(name):
    g = load("apns", name)
    with Push(g["config"]) as push:
        req = push.build(g["message"], now_ms=g["now"])
    want = g["request"]
    assert req["method"] == want["method"] and req["url"] == want["url"]
    got_h, want_h = headers(req["headers"]), headers(want["headers"])
    assert set(got_h) == set(want_h)
    assert {k: v for k, v in got_h.items() if k != "authorization"} == \
        {k: v for k, v in want_h.items() if k != "authorization"}
    h, c, s = got_h["authorization"][len("bearer "):].split(".")
    assert json.loads(b64d(h)) == g["jwt"]["header"]
    assert json.loads(b64d(c)) == g["jwt"]["claims"]
    assert len(b64d(s)) == 64
    assert req["body"] == want["body"]


def test_apns_provider_token_is_reused():
    g = load("apns", "alert_basic.json")
    push = Push(g["config"])
    t0 = omni.time_parse(g["now"])
    a = headers(push.build(g["message"], now_ms=t0)["headers"])["authorization"]
    b = headers(push.build(g["message"], now_ms=t0 + 60_000)["headers"])["authorization"]
    assert a == b  # reused for 20 minutes
    c = headers(push.build(g["message"], now_ms=t0 + 21 * 60_000)["headers"])["authorization"]
    assert c != a
    push.close()


@pytest.mark.parametrize("name", goldens("fcm"))
def test_fcm_goldens_with_token_flow(name):
    g = load("fcm", name)
    push = Push(json.dumps(g["config"]))
    with pytest.raises(OmniError) as e:
        push.build(g["message"], now_ms=g["now"])
    assert e.value.status == Status.EEXPIRED
    treq = push.token_request(now_ms=g["now"])
    assert treq is not None and treq["method"] == "POST"
    assert treq["url"] == g["config"]["fcm"].get("tokenUrl", json.loads(FCM_SA)["token_uri"])
    assert "assertion=" in treq["body"]
    push.token_response(token_answer(), now_ms=g["now"])
    assert push.token_request(now_ms=g["now"]) is None
    req = push.build(g["message"], now_ms=g["now"])
    want = g["request"]
    assert req["method"] == want["method"] and req["url"] == want["url"]
    assert headers(req["headers"]) == headers(want["headers"])
    assert req["body"] == want["body"]
    push.close()


def test_fcm_token_request_claims():
    sa = json.loads(FCM_SA)
    push = Push({"fcm": {"serviceAccount": {"env": "OMNI_TEST_FCM_SA"}}})
    req = push.token_request(now_ms="2024-05-01T12:00:00Z")
    form = dict(kv.split("=", 1) for kv in req["body"].split("&"))
    assert form["grant_type"] == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    h, c, _ = form["assertion"].split(".")
    assert json.loads(b64d(h))["alg"] == "RS256"
    assert json.loads(b64d(c)) == {
        "iss": sa["client_email"], "scope": "https://www.googleapis.com/auth/firebase.messaging",
        "aud": sa["token_uri"], "iat": 1714564800, "exp": 1714568400}
    assert sa["private_key"][40:80] not in json.dumps(req)
    # a token near its expiry: a fresh exchange is asked for (5 minutes before)
    push.token_response(token_answer(expires_in=600), now_ms=1714564800000)
    assert push.token_request(now_ms=1714564800000) is None
    assert push.token_request(now_ms=1714564800000 + 301_000) is not None


def test_fcm_token_response_errors_leave_cache():
    g = load("fcm", "token_notification.json")
    push = Push(g["config"])
    with pytest.raises(OmniError) as e:
        push.token_response({"status": 400, "body": '{"error": "invalid_grant", '
                                                    '"error_description": "Invalid JWT"}'},
                            now_ms=g["now"])
    assert e.value.status == Status.EKEY and not e.value.retryable
    assert "invalid_grant" in e.value.message
    with pytest.raises(OmniError) as e:
        push.token_response({"status": 503, "body": ""}, now_ms=g["now"])
    assert e.value.status == Status.ETRANSPORT
    with pytest.raises(OmniError) as e:
        push.token_response({"status": 200, "body": '{"access_token": 5}'}, now_ms=g["now"])
    assert e.value.status == Status.EJSON
    with pytest.raises(OmniError) as e:
        push.build(g["message"], now_ms=g["now"])  # still no token
    assert e.value.status == Status.EEXPIRED
    with pytest.raises(OmniError) as e:
        push.token_response("not a dict", now_ms=g["now"])
    assert e.value.status == Status.EINVAL


@pytest.mark.parametrize("name", goldens("web"))
def test_web_goldens(name):
    g = load("web", name)
    push = Push(g["config"])
    req = push.build(g["message"], now_ms=g["now"])
    want = g["request"]
    assert req["method"] == want["method"] and req["url"] == want["url"]
    got_h, want_h = headers(req["headers"]), headers(want["headers"])
    assert {k: v for k, v in got_h.items() if k != "Authorization"} == \
        {k: v for k, v in want_h.items() if k != "Authorization"}
    t, k = got_h["Authorization"][len("vapid "):].split(", ")
    assert k == want_h["Authorization"].split(", ")[1]
    assert json.loads(b64d(t[2:].split(".")[1])) == g["vapidClaims"]
    assert isinstance(req["body"], bytes)
    keys = g["message"]["subscription"]["keys"]
    plain = omni.webpush_decrypt(req["body"], b64d(g["uaPrivateKey"]), b64d(keys["auth"]))
    want_body = want["body"]
    assert (plain.decode() if isinstance(want_body, str) else json.loads(plain)) == want_body
    push.close()


def parse_cases():
    out = []
    for platform, name in (("ios", "apns"), ("android", "fcm"), ("web", "web")):
        for i, case in enumerate(load(name, "responses.json")):
            out.append(pytest.param(platform, case, id=f"{name}-{case.get('name', i)}"))
    return out


@pytest.fixture(scope="module")
def all_config():
    return {"apns": load("apns", "alert_basic.json")["config"]["apns"],
            "fcm": {"serviceAccount": {"env": "OMNI_TEST_FCM_SA"}},
            "webpush": load("web", "basic.json")["config"]["webpush"]}


@pytest.mark.parametrize("platform,case", parse_cases())
def test_parse_responses(all_config, platform, case):
    resp = case.get("response") or {k: case[k] for k in ("status", "headers", "body")
                                    if k in case}
    now = case.get("now", "2024-05-01T12:00:00Z")
    with Push(all_config) as push:
        got = push.parse(platform, resp, now_ms=now)
    want = case["result"]
    if "retryAfterMs" in want and "now" not in case:
        got.pop("retryAfterMs", None)
        want = {k: v for k, v in want.items() if k != "retryAfterMs"}
    assert got == want


def test_parse_bytes_body(all_config):
    with Push(all_config) as push:
        got = push.parse("android", {"status": 200, "body": b'{"name": "projects/p/messages/1"}'},
                         now_ms=0)
    assert got["messageId"] == "projects/p/messages/1"


def test_errors(all_config):
    with pytest.raises(OmniError) as e:
        Push({"sms": {}})
    assert e.value.status == Status.ECONFIG
    with pytest.raises(OmniError) as e:
        Push("{not json")
    assert e.value.status == Status.EJSON
    with pytest.raises(OmniError) as e:
        Push(42)
    assert e.value.status == Status.EINVAL
    push = Push(load("web", "basic.json")["config"])
    with pytest.raises(OmniError) as e:
        push.build({"platform": "ios", "token": "00", "payload": {"title": "a", "body": "b"}})
    assert e.value.status == Status.ECONFIG
    with pytest.raises(OmniError) as e:
        push.token_request()
    assert e.value.status == Status.ECONFIG
    msg = load("web", "basic.json")["message"]
    with pytest.raises(OmniError) as e:
        push.build(dict(msg, payload={"title": "t", "body": "x" * 5000}))
    assert e.value.status == Status.ETOOLARGE
    assert "yfWPiYE" not in e.value.message
    with pytest.raises(OmniError) as e:
        push.build(dict(msg, subscription={"endpoint": msg["subscription"]["endpoint"]}))
    assert e.value.status == Status.EINVAL
    with pytest.raises(OmniError) as e:
        push.build("[1]")
    assert e.value.status in (Status.EINVAL, Status.EJSON)
    with pytest.raises(OmniError) as e:
        push.parse("bb", {"status": 200})
    assert e.value.status == Status.EINVAL
    with pytest.raises(OmniError) as e:
        push.parse("web", {"status": 42})
    assert e.value.status == Status.EINVAL
    with pytest.raises(OmniError) as e:
        push.parse("web\0", {"status": 200})
    assert e.value.status == Status.EINVAL
    push.close()
    push.close()  # idempotent
    assert push.closed
    for call in (lambda: push.build(msg), lambda: push.parse("web", {"status": 201}),
                 lambda: push.token_request(), lambda: push.token_response(token_answer())):
        with pytest.raises(OmniError) as e:
            call()
        assert e.value.status == Status.EINVAL and "closed" in e.value.message


def test_missing_env_secret(monkeypatch):
    monkeypatch.delenv("OMNI_TEST_APNS_KEY")
    with pytest.raises(OmniError) as e:
        Push(load("apns", "alert_basic.json")["config"])
    assert "BEGIN" not in e.value.message
    assert os.environ.get("OMNI_TEST_APNS_KEY") is None

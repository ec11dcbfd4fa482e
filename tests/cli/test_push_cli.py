"""omni push build | token | parse: the push platform adapters (omni/push.h) against
the golden files in tests/data/push/ (APNs, FCM HTTP v1, Web Push), usage errors
(exit 2) and library errors (exit 1)."""
import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

DATA = Path(__file__).resolve().parents[1] / "data" / "push"
APNS_KEY = (DATA / "apns" / "AuthKey_TEST123456.p8").read_text()
FCM_SA = (DATA / "fcm" / "service_account.json").read_text()
ENV = {"OMNI_TEST_APNS_KEY": APNS_KEY, "OMNI_TEST_FCM_SA": FCM_SA}
TOKEN = "ya29.test-access-token"


def goldens(platform):
    return sorted(p for p in (DATA / platform).glob("*.json") if p.name != "responses.json"
                  and p.name != "service_account.json")


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def write(tmp_path, name, doc) -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def build(omni, tmp_path, golden, *extra):
    cfg = write(tmp_path, "config.json", golden["config"])
    msg = write(tmp_path, "message.json", golden["message"])
    return omni("--now", golden["now"], "push", "build", "--config", cfg, *extra, msg, env=ENV)


def headers_dict(h):
    return dict(h) if isinstance(h, list) else h


def es256_verify(jwt: str, public_key) -> tuple:
    """Checks an ES256 JWT's signature (RFC 7518 section 3.4: r || s); returns
    (header, claims)."""
    h, c, s = jwt.split(".")
    sig = b64d(s)
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public_key.verify(der, f"{h}.{c}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(b64d(h)), json.loads(b64d(c))


# ---- build: APNs --------------------------------------------------------------------------

@pytest.mark.parametrize("path", goldens("apns"), ids=lambda p: p.stem)
def test_build_apns_goldens(omni, tmp_path, path):
    g = json.loads(path.read_text())
    r = build(omni, tmp_path, g)
    assert r.code == 0, r.err
    req = r.json()
    want = g["request"]
    assert req["method"] == want["method"]
    assert req["url"] == want["url"]
    got_h = headers_dict(req["headers"])
    want_h = headers_dict(want["headers"])
    assert set(got_h) == set(want_h)
    for name, value in want_h.items():
        if name.lower() != "authorization":
            assert got_h[name] == value, name
    auth = got_h["authorization"]
    assert auth.startswith("bearer ")
    key = serialization.load_pem_private_key(APNS_KEY.encode(), None).public_key()
    header, claims = es256_verify(auth[len("bearer "):], key)
    assert header == g["jwt"]["header"]
    assert claims == g["jwt"]["claims"]
    assert req["body"] == want["body"]
    assert APNS_KEY.splitlines()[1] not in r.text


def test_build_apns_platform_option_sets_platform(omni, tmp_path):
    g = json.loads((DATA / "apns" / "alert_basic.json").read_text())
    del g["message"]["platform"]
    r = build(omni, tmp_path, g)
    assert r.code == 2  # the message has no platform
    r = build(omni, tmp_path, g, "--platform", "ios")
    assert r.code == 0, r.err
    assert r.json()["url"] == g["request"]["url"]
    g["message"]["platform"] = "web"  # --platform overrides the message's
    r = build(omni, tmp_path, g, "--platform", "ios")
    assert r.code == 0, r.err


def test_build_from_stdin(omni, tmp_path):
    g = json.loads((DATA / "apns" / "alert_basic.json").read_text())
    cfg = write(tmp_path, "config.json", g["config"])
    r = omni("--now", g["now"], "push", "build", "--config", cfg, input=json.dumps(g["message"]),
             env=ENV)
    assert r.code == 0, r.err
    assert r.json()["body"] == g["request"]["body"]


# ---- build: FCM ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", goldens("fcm"), ids=lambda p: p.stem)
def test_build_fcm_goldens(omni, tmp_path, path):
    g = json.loads(path.read_text())
    r = build(omni, tmp_path, g, "--access-token", TOKEN)
    assert r.code == 0, r.err
    req = r.json()
    want = g["request"]
    assert req["method"] == want["method"]
    assert req["url"] == want["url"]
    assert headers_dict(req["headers"]) == headers_dict(want["headers"])
    assert json.loads(req["body"]) == json.loads(want["body"])
    assert req["body"] == want["body"]


def test_build_fcm_token_expires_in(omni, tmp_path):
    g = json.loads((DATA / "fcm" / "token_notification.json").read_text())
    r = build(omni, tmp_path, g, "--access-token", TOKEN, "--token-expires-in", "600")
    assert r.code == 0, r.err
    assert headers_dict(r.json()["headers"])["Authorization"] == "Bearer " + TOKEN
    # a token about to expire is still used by build (omni_push_token_request would ask
    # for a fresh one within 5 minutes of its expiry)
    r = build(omni, tmp_path, g, "--access-token", TOKEN, "--token-expires-in", "1")
    assert r.code == 0, r.err


def test_build_fcm_without_access_token_prints_token_request(omni, tmp_path):
    g = json.loads((DATA / "fcm" / "token_notification.json").read_text())
    r = build(omni, tmp_path, g)
    assert r.code == 1
    err = r.error()
    assert err["code"] == "TOKEN_EXPIRED"
    assert "--access-token" in err["message"]
    req = r.json()
    assert req["method"] == "POST"
    assert req["url"] == json.loads(FCM_SA)["token_uri"]
    assert FCM_SA not in r.text and json.loads(FCM_SA)["private_key"][40:80] not in r.text


def test_token_request(omni, tmp_path):
    sa = json.loads(FCM_SA)
    cfg = write(tmp_path, "config.json", {"fcm": {"serviceAccount": {"env": "OMNI_TEST_FCM_SA"}}})
    r = omni("--now", "2024-05-01T12:00:00Z", "push", "token", "--config", cfg, env=ENV)
    assert r.code == 0, r.err
    req = r.json()
    assert req["method"] == "POST" and req["url"] == sa["token_uri"]
    h = {k.lower(): v for k, v in headers_dict(req["headers"]).items()}
    assert h["content-type"] == "application/x-www-form-urlencoded"
    form = dict(kv.split("=", 1) for kv in req["body"].split("&"))
    assert form["grant_type"] == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    # RFC 7523 assertion, RS256 with the service account's key
    hd, cl, sig = form["assertion"].split(".")
    pub = serialization.load_pem_public_key((DATA / "fcm" / "public_key.pem").read_bytes())
    pub.verify(b64d(sig), f"{hd}.{cl}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert json.loads(b64d(hd))["alg"] == "RS256"
    claims = json.loads(b64d(cl))
    assert claims == {"iss": sa["client_email"],
                      "scope": "https://www.googleapis.com/auth/firebase.messaging",
                      "aud": sa["token_uri"], "iat": 1714564800, "exp": 1714568400}
    assert sa["private_key"][40:80] not in r.text


def test_token_without_fcm(omni, tmp_path):
    cfg = write(tmp_path, "config.json", json.loads((DATA / "web" / "basic.json").read_text())
                ["config"])
    r = omni("push", "token", "--config", cfg)
    assert r.code == 2
    assert r.error()["code"] == "INVALID_CONFIG"


# ---- build: Web Push ----------------------------------------------------------------------

@pytest.mark.parametrize("path", goldens("web"), ids=lambda p: p.stem)
def test_build_web_goldens(omni, tmp_path, path):
    g = json.loads(path.read_text())
    r = build(omni, tmp_path, g)
    assert r.code == 0, r.err
    req = r.json()
    want = g["request"]
    assert req["method"] == want["method"]
    assert req["url"] == want["url"]
    got_h = headers_dict(req["headers"])
    want_h = headers_dict(want["headers"])
    assert set(got_h) == set(want_h)
    for name, value in want_h.items():
        if name != "Authorization":
            assert got_h[name] == value, name
    # VAPID (RFC 8292 section 3): "vapid t=JWT, k=public key"; the JWT verifies with k
    auth = got_h["Authorization"]
    t_part, k_part = auth[len("vapid "):].split(", ")
    assert auth.startswith("vapid t=") and k_part == want_h["Authorization"].split(", ")[1]
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(k_part[2:]))
    header, claims = es256_verify(t_part[2:], pub)
    assert header["alg"] == "ES256"
    assert claims == g["vapidClaims"]
    # the body is binary (aes128gcm): bodyBase64; decrypt it as the user agent would
    assert "body" not in req
    body = base64.b64decode(req["bodyBase64"])
    keys = g["message"]["subscription"]["keys"]
    d = omni("webpush", "decrypt", "--ua-private", g["uaPrivateKey"], "--auth-secret",
             keys["auth"], input=b64url(body))
    assert d.code == 0, d.err
    want_body = want["body"]
    if isinstance(want_body, str):
        assert d.out.decode() == want_body
    else:
        assert json.loads(d.out) == want_body
    assert g["config"]["webpush"]["vapidPrivateKey"] not in r.text


# ---- parse --------------------------------------------------------------------------------

def response_cases():
    for platform, name in (("ios", "apns"), ("android", "fcm"), ("web", "web")):
        cases = json.loads((DATA / name / "responses.json").read_text())
        for i, case in enumerate(cases[:8] + cases[-3:]):
            yield pytest.param(platform, name, case, id=f"{name}-{case.get('name', i)}")


@pytest.mark.parametrize("platform,name,case", list(response_cases()))
def test_parse_responses(omni, tmp_path, platform, name, case):
    if "response" in case:
        resp = case["response"]
    else:
        resp = {k: case[k] for k in ("status", "headers", "body") if k in case}
    cfg = {"apns": json.loads((DATA / "apns" / "alert_basic.json").read_text())["config"]["apns"],
           "fcm": {"serviceAccount": {"env": "OMNI_TEST_FCM_SA"}},
           "webpush": json.loads((DATA / "web" / "basic.json").read_text())["config"]["webpush"]}
    c = write(tmp_path, "config.json", cfg)
    f = write(tmp_path, "response.json", resp)
    r = omni("--now", case.get("now", "2024-05-01T12:00:00Z"), "push", "parse", "--config", c,
             "--platform", platform, f, env=ENV)
    assert r.code == 0, r.err
    got = r.json()
    want = case["result"]
    if "retryAfterMs" in want and "now" not in case:
        # a Retry-After date depends on the clock; only a delay in seconds is fixed
        got.pop("retryAfterMs", None)
        want = {k: v for k, v in want.items() if k != "retryAfterMs"}
    assert got == want


def test_parse_from_stdin(omni, tmp_path):
    cfg = write(tmp_path, "config.json", json.loads((DATA / "web" / "basic.json").read_text())
                ["config"])
    r = omni("push", "parse", "--config", cfg, "--platform", "web",
             input='{"status": 404, "body": ""}')
    assert r.code == 0, r.err
    out = r.json()
    assert out["success"] is False and out["invalidToken"] is True
    assert out["error"]["code"] == "INVALID_TOKEN"


# ---- errors -------------------------------------------------------------------------------

@pytest.fixture
def web_cfg(tmp_path):
    return write(tmp_path, "config.json",
                 json.loads((DATA / "web" / "basic.json").read_text())["config"])


@pytest.mark.parametrize("args", [
    [],
    ["send"],
    ["build"],                                                  # no --config
    ["build", "--config"],                                      # missing value
    ["build", "--config", "{cfg}", "--platform", "windows"],
    ["build", "--config", "{cfg}", "--bogus"],
    ["build", "--config", "{cfg}", "a.json", "b.json"],
    ["build", "--config", "{cfg}", "--token-expires-in", "60"],  # without --access-token
    ["build", "--config", "{cfg}", "--access-token", "t", "--token-expires-in", "0"],
    ["build", "--config", "{cfg}", "--access-token", "t", "--token-expires-in", "ten"],
    ["build", "--config", "{cfg}", "--access-token", "t", "--token-expires-in", "31622401"],
    ["token", "--config", "{cfg}", "--platform", "android"],
    ["token", "--config", "{cfg}", "--access-token", "t"],
    ["token", "--config", "{cfg}", "extra.json"],
    ["parse", "--config", "{cfg}"],                             # no --platform
    ["parse", "--config", "{cfg}", "--platform", "ios", "--access-token", "t"],
    ["parse", "--config", "{cfg}", "--platform", "bb"],
])
def test_usage_errors(omni, web_cfg, args):
    r = omni("push", *[a.replace("{cfg}", str(web_cfg)) for a in args], input="{}")
    assert r.code == 2, (args, r.err)
    assert r.error()["code"] == "INVALID_ARGUMENT"
    assert r.out == b""


def test_help(omni):
    r = omni("push", "--help")
    assert r.code == 0
    assert b"omni push build" in r.out + r.err


def test_config_errors(omni, tmp_path):
    r = omni("push", "build", "--config", tmp_path / "missing.json", input="{}")
    assert r.code != 0
    bad = write(tmp_path, "bad.json", "{not json")
    r = omni("push", "build", "--config", bad, input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    unknown = write(tmp_path, "unknown.json", {"sms": {}})
    r = omni("push", "build", "--config", unknown, input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"
    # a secret from an unset environment variable
    envcfg = write(tmp_path, "env.json", {"webpush": {"vapidPrivateKey": {"env": "OMNI_NO_SUCH"},
                                                      "subject": "mailto:a@example.com"}})
    r = omni("push", "build", "--config", envcfg, input="{}")
    assert r.code == 2
    assert r.error()["code"] in ("INVALID_CONFIG", "INVALID_KEY")


def test_message_errors(omni, tmp_path, web_cfg):
    g = json.loads((DATA / "web" / "basic.json").read_text())
    r = omni("push", "build", "--config", web_cfg, input="{nope")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("push", "build", "--config", web_cfg, "--platform", "web", input="{nope")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("push", "build", "--config", web_cfg, "--platform", "web", input="[1]")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    # ios is not configured
    r = omni("push", "build", "--config", web_cfg, "--platform", "ios",
             input=json.dumps(g["message"]))
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"
    # a subscription without keys
    msg = dict(g["message"], subscription={"endpoint": g["message"]["subscription"]["endpoint"]})
    r = omni("push", "build", "--config", web_cfg, input=json.dumps(msg))
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    # plaintext over OMNI_WEBPUSH_MAX_PLAINTEXT
    msg = dict(g["message"], payload={"title": "t", "body": "x" * 5000})
    r = omni("push", "build", "--config", web_cfg, input=json.dumps(msg))
    assert r.code == 2 and r.error()["code"] == "PAYLOAD_TOO_LARGE"
    assert g["config"]["webpush"]["vapidPrivateKey"] not in r.err.decode()
    # the input file does not exist
    r = omni("push", "build", "--config", web_cfg, tmp_path / "nope.json")
    assert r.code != 0 and r.out == b""


def test_access_token_errors(omni, tmp_path):
    g = json.loads((DATA / "fcm" / "token_notification.json").read_text())
    # not printable ASCII: the token endpoint's answer is refused (INVALID_JSON)
    r = build(omni, tmp_path, g, "--access-token", "bad token\u00e9")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_JSON"
    # --access-token with a config without FCM
    a = json.loads((DATA / "apns" / "alert_basic.json").read_text())
    r = build(omni, tmp_path, a, "--access-token", TOKEN)
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"


def test_parse_errors(omni, tmp_path, web_cfg):
    r = omni("push", "parse", "--config", web_cfg, "--platform", "web", input="{nope")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("push", "parse", "--config", web_cfg, "--platform", "web",
             input='{"status": 42, "body": ""}')
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("push", "parse", "--config", web_cfg, "--platform", "web",
             input='{"body": ""}')
    assert r.code == 2

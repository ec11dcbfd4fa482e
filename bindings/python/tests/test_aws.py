"""AWS Signature Version 4 (omni/aws.h) from Python: AWS's published test suite
cases (tests/data/sigv4), S3's presigned-URL example, errors without secrets."""

import os

import pytest

import omni

SUITE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "data", "sigv4")
CRED = {"access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def read(case: str, ext: str) -> str:
    with open(os.path.join(SUITE, case, case + ext), encoding="utf-8") as f:
        return f.read()


def request(case: str) -> dict:
    """The suite's .req file as the request dict of omni/http.h."""
    head, _, body = read(case, ".req").partition("\n\n")
    lines = head.split("\n")
    method, target, _ = lines[0].split(" ")
    headers = [line.split(":", 1) for line in lines[1:] if line]
    host = next(v for k, v in headers if k.lower() == "host")
    req = {"method": method, "url": "https://" + host + target, "headers": headers}
    if body:
        req["body"] = body
    return req


@pytest.mark.parametrize("case", ["get-vanilla", "get-vanilla-query-order-key-case",
                                  "get-header-value-trim", "post-x-www-form-urlencoded",
                                  "post-header-key-sort"])
def test_suite_cases(case: str) -> None:
    req = request(case)
    args = dict(CRED, region="us-east-1", service="service")
    texts = omni.aws_sigv4_canonical(req, **args)
    assert texts["canonicalRequest"] == read(case, ".creq")
    assert texts["stringToSign"] == read(case, ".sts")
    signed = omni.aws_sigv4_sign(req, **args)
    headers = signed["headers"]
    pairs = headers.items() if isinstance(headers, dict) else headers
    auth = [v for k, v in pairs if k.lower() == "authorization"]
    assert auth == [read(case, ".authz")]


def test_session_token_and_time() -> None:
    req = {"method": "POST", "url": "https://sns.us-east-1.amazonaws.com/",
           "headers": {"Content-Type": "application/x-www-form-urlencoded"},
           "body": b"Action=Publish&Message=hi"}
    signed = omni.aws_sigv4_sign(req, **CRED, region="us-east-1", service="sns",
                                 session_token="token-1", now="2026-01-02T03:04:05Z")
    h = {k.lower(): v for k, v in signed["headers"].items()}
    assert h["x-amz-date"] == "20260102T030405Z"
    assert h["x-amz-security-token"] == "token-1"
    assert h["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/sns/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=")


def test_presign_s3_example() -> None:
    # Amazon S3's documented example ("Authenticating Requests: Using Query Parameters")
    url = omni.aws_sigv4_presign(
        "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1", service="s3", expires=86400, now="2013-05-24T00:00:00Z")
    assert url.endswith("X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")


def test_errors_never_show_the_secret() -> None:
    secret = "very-secret-key-value"
    with pytest.raises(omni.OmniError) as ei:
        omni.aws_sigv4_sign({"method": "GET", "url": "https://x.amazonaws.com/"},
                            access_key_id="AKID", secret_access_key=secret,
                            region="US EAST", service="s3")
    assert ei.value.code == "INVALID_ARGUMENT"
    assert secret not in ei.value.message
    with pytest.raises(omni.OmniError):
        omni.aws_sigv4_presign("GET", "https://x.amazonaws.com/", access_key_id="AKID",
                               secret_access_key=secret, region="us-east-1", service="s3",
                               expires=0)


DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "data", "outbound")


def golden(provider: str, case: str) -> dict:
    import json

    with open(os.path.join(DATA, provider, case + ".json"), encoding="utf-8") as f:
        return json.load(f)


def test_outbound_build_matches_golden_and_parse() -> None:
    g = golden("twilio", "sms_text")
    with omni.Outbound(g["config"]) as ob:
        req = ob.build(g["event"], now=g["now"])
        assert req["url"] == g["request"]["url"]
        assert req["headers"] == g["request"]["headers"]
        assert req["body"] == g["request"]["body"]
        res = ob.parse("twilio", {"status": 503, "headers": {"Retry-After": "5"},
                                  "body": "upstream down"})
        assert res["success"] is False and res["error"]["retryable"] is True
        assert res["retryAfterMs"] == 5000
        with pytest.raises(omni.OmniError) as ei:
            ob.build(g["event"], carrier="pigeon")
        assert ei.value.code == "UNKNOWN_CARRIER"
    with pytest.raises(omni.OmniError) as ei:
        omni.Outbound({"twilio": {"accountSid": "AC0123456789abcdef0123456789abcdef"}})
    assert ei.value.code == "INVALID_CONFIG"


def test_outbound_whatsapp_window_closed() -> None:
    g = golden("whatsapp", "text")
    event = dict(g["event"], serviceWindow={"open": False})
    with pytest.raises(omni.OmniError) as ei:
        omni.Outbound(g["config"]).build(event)
    assert ei.value.code == "SERVICE_WINDOW_CLOSED"


def test_outbound_smtp_golden_and_reply() -> None:
    g = golden("smtp", "attachments")
    with omni.Outbound(g["config"]) as ob:
        req = ob.build(g["event"], now=g["now"])
        assert req["method"] == "SEND" and req["url"] == g["request"]["url"]
        assert req["headers"] == g["request"]["headers"]
        assert req["body"] == g["request"]["body"]
        ok = ob.parse("smtp", {"status": 250, "body": "250 2.0.0 Ok: queued as 4VT1Hk0J\r\n"})
        assert ok == {"success": True, "carrier": "smtp", "carrierMessageId": "4VT1Hk0J",
                      "status": "accepted"}
        res = ob.parse("smtp", {"status": 550, "body": "550 5.1.1 No such user\r\n"})
        assert res["error"]["code"] == "INVALID_RECIPIENT"
        assert res["error"]["providerCode"] == "550 5.1.1"
        assert res["error"]["retryable"] is False
        with pytest.raises(omni.OmniError) as ei:
            ob.build(dict(g["event"], message=dict(g["event"]["message"],
                                                   subject="a\r\nBcc: x@example.com")))
        assert ei.value.code == "INVALID_ARGUMENT" and "message.subject" in ei.value.message

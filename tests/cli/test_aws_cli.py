"""omni aws sign | presign (AWS Signature Version 4), against AWS's published
examples: the SigV4 test suite's get-vanilla / post-x-www-form-urlencoded /
post-sts-header-before and S3's presigned-URL example."""
import json

SUITE_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
             "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             "AWS_SESSION_TOKEN": ""}
S3_ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
          "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "AWS_SESSION_TOKEN": ""}
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
TOKEN = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXm"
         "xfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburED"
         "y0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL6"
         "4lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")


def headers(req):
    h = req["headers"]
    return dict(h) if isinstance(h, list) else h


def test_sign_get_vanilla_from_stdin(omni):
    req = {"method": "GET", "url": "https://example.amazonaws.com/",
           "headers": {"X-Amz-Date": "20150830T123600Z"}}
    r = omni("aws", "sign", "--region", "us-east-1", "--service", "service",
             input=json.dumps(req), env=SUITE_ENV)
    assert r.code == 0, r.err
    out = r.json()
    h = headers(out)
    assert h["Host"] == "example.amazonaws.com"
    assert h["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=" + SCOPE + ", SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    assert out["method"] == "GET" and out["url"] == req["url"]


def test_sign_form_body_from_file_with_now(omni, tmp_path):
    req = {"method": "POST", "url": "https://example.amazonaws.com/",
           "headers": [["Content-Type", "application/x-www-form-urlencoded"]],
           "body": "Param1=value1"}
    f = tmp_path / "req.json"
    f.write_text(json.dumps(req))
    r = omni("--now", "2015-08-30T12:36:00Z", "aws", "sign", "--region", "us-east-1",
             "--service", "service", f, env=SUITE_ENV)
    assert r.code == 0, r.err
    h = headers(r.json())
    assert h["X-Amz-Date"] == "20150830T123600Z"
    assert h["Authorization"].endswith(
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    assert r.json()["body"] == "Param1=value1"


def test_sign_session_token_from_environment(omni):
    req = {"method": "POST", "url": "https://example.amazonaws.com/",
           "headers": {"X-Amz-Date": "20150830T123600Z"}}
    env = dict(SUITE_ENV, AWS_SESSION_TOKEN=TOKEN)
    r = omni("aws", "sign", "--region", "us-east-1", "--service", "service",
             input=json.dumps(req), env=env)
    assert r.code == 0, r.err
    h = headers(r.json())
    assert h["X-Amz-Security-Token"] == TOKEN
    assert h["Authorization"].endswith(
        "SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")


def test_sign_s3_and_unsigned_payload(omni):
    req = {"method": "PUT", "url": "https://examplebucket.s3.amazonaws.com/k", "body": "x"}
    r = omni("--now", "2013-05-24T00:00:00Z", "aws", "sign", "--region", "us-east-1",
             "--service", "s3", "--s3", "--unsigned-payload", input=json.dumps(req),
             env=S3_ENV)
    assert r.code == 0, r.err
    h = headers(r.json())
    assert h["X-Amz-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-amz-content-sha256" in h["Authorization"]


def test_presign_s3_example(omni):
    r = omni("--now", "2013-05-24T00:00:00Z", "aws", "presign", "--region", "us-east-1",
             "--service", "s3", "--expires", "86400", "GET",
             "https://examplebucket.s3.amazonaws.com/test.txt", env=S3_ENV)
    assert r.code == 0, r.err
    assert r.text.strip() == (
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")


def test_missing_credentials(omni):
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    r = omni("aws", "sign", "--region", "r", "--service", "s",
             input='{"method":"GET","url":"https://h/"}', env=env)
    assert r.code == 2
    assert "AWS_ACCESS_KEY_ID" in r.error()["message"]
    env["AWS_ACCESS_KEY_ID"] = "AKID"
    r = omni("aws", "presign", "--region", "r", "--service", "s", "--expires", "60", "GET",
             "https://h/", env=env)
    assert r.code == 2
    assert "AWS_SECRET_ACCESS_KEY" in r.error()["message"]


def test_errors_never_show_the_secret(omni):
    env = dict(SUITE_ENV, AWS_SECRET_ACCESS_KEY="SeCrEtMaRk", AWS_SESSION_TOKEN="ToKeNmArK")
    cases = [
        # bad region, already signed, malformed X-Amz-Date, bad expiry / URL
        (["aws", "sign", "--region", "US", "--service", "s"],
         '{"method":"GET","url":"https://h/"}'),
        (["aws", "sign", "--region", "r", "--service", "s"],
         '{"method":"GET","url":"https://h/","headers":{"Authorization":"x"}}'),
        (["aws", "sign", "--region", "r", "--service", "s"],
         '{"method":"GET","url":"https://h/","headers":{"X-Amz-Date":"yesterday"}}'),
        (["aws", "sign", "--region", "r", "--service", "s"], '{"method":"GET"}'),
        (["aws", "presign", "--region", "r", "--service", "s", "--expires", "604801", "GET",
          "https://h/"], None),
        (["aws", "presign", "--region", "r", "--service", "s", "--expires", "5", "GET",
          "ftp://h/"], None),
    ]
    for args, stdin in cases:
        r = omni(*args, input=stdin, env=env)
        assert r.code == 2, (args, r.err)
        assert b"SeCrEtMaRk" not in r.err and b"ToKeNmArK" not in r.err
        assert b"SeCrEtMaRk" not in r.out and r.out == b""


def test_usage_errors(omni):
    env = SUITE_ENV
    for args in (["aws"], ["aws", "frob"], ["aws", "sign", "--service", "s"],
                 ["aws", "sign", "--region", "r"],
                 ["aws", "sign", "--region", "r", "--service", "s", "--bogus"],
                 ["aws", "sign", "--region", "r", "--service", "s", "a.json", "b.json"],
                 ["aws", "presign", "--region", "r", "--service", "s", "GET", "https://h/"],
                 ["aws", "presign", "--region", "r", "--service", "s", "--expires", "x", "GET",
                  "https://h/"],
                 ["aws", "presign", "--region", "r", "--service", "s", "--expires", "5",
                  "GET"],
                 ["aws", "presign", "--region", "r", "--service", "s", "--expires", "5", "--s3",
                  "GET", "https://h/"]):
        r = omni(*args, env=env)
        assert r.code == 2, args
        assert r.error()["code"] == "INVALID_ARGUMENT"


def test_help(omni):
    r = omni("aws", "--help")
    assert r.code == 0
    assert "presign" in r.text and "AWS_SECRET_ACCESS_KEY" in r.text


def test_credentials_from_options(omni):
    """--access-key / --secret-key (as the issue's surface names them) override the
    environment; one without the other is a usage error."""
    req = {"method": "GET", "url": "https://example.amazonaws.com/",
           "headers": {"X-Amz-Date": "20150830T123600Z"}}
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    r = omni("aws", "sign", "--region", "us-east-1", "--service", "service",
             "--access-key", SUITE_ENV["AWS_ACCESS_KEY_ID"],
             "--secret-key", SUITE_ENV["AWS_SECRET_ACCESS_KEY"],
             input=json.dumps(req), env=env)
    assert r.code == 0, r.err
    assert headers(r.json())["Authorization"].endswith(
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    assert SUITE_ENV["AWS_SECRET_ACCESS_KEY"] not in r.text
    r = omni("aws", "sign", "--region", "us-east-1", "--service", "service",
             "--access-key", "AKID", input=json.dumps(req), env=env)
    assert r.code == 2
    assert "--secret-key" in r.error()["message"]

"""The omni CLI: conventions (help, errors, exit codes, --now/--seed) and the
foundation subcommands (version, uuid5, uuid7, base64url, jwt)."""
import base64
import json
import re
import subprocess

import pytest


def test_version(omni):
    r = omni("--version")
    assert r.code == 0
    assert re.fullmatch(r"omni \d+\.\d+\.\d+\n", r.text)
    r = omni("version")
    assert r.code == 0
    doc = r.json()
    major, minor, patch = map(int, doc["version"].split("."))
    assert doc["versionNumber"] == major * 10000 + minor * 100 + patch


def test_help_lists_commands(omni):
    r = omni("--help")
    assert r.code == 0
    for cmd in ("version", "uuid5", "uuid7", "base64url", "jwt"):
        assert cmd in r.text
    r = omni()
    assert r.code == 2, "no command is a usage error"


@pytest.mark.parametrize("cmd", ["version", "uuid5", "uuid7", "base64url", "jwt"])
def test_command_help(omni, cmd):
    r = omni(cmd, "--help")
    assert r.code == 0
    assert r.text.startswith("usage: omni " + cmd)


def test_unknown_command_is_a_json_usage_error(omni):
    r = omni("frobnicate")
    assert r.code == 2
    err = r.error()
    assert err == {"code": "INVALID_ARGUMENT", "retryable": False,
                   "message": 'unknown command "frobnicate"; see omni --help'}


def test_uuid5_rfc9562_vector(omni):
    # RFC 9562 Appendix A.4
    r = omni("uuid5", "dns", "www.example.com")
    assert r.code == 0
    assert r.text == "2ed6657d-e927-568b-95e1-2665a8aea6a2\n"
    r = omni("uuid5", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", "other")
    lines = r.text.splitlines()
    assert lines[0] == "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    assert len(lines) == 2 and lines[1] != lines[0]


def test_uuid5_bad_namespace(omni):
    r = omni("uuid5", "not-a-uuid", "x")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"


def test_uuid7_is_reproducible_with_now_and_seed(omni):
    a = omni("--now", "2026-01-01T00:00:00Z", "--seed", "7", "uuid7", "--count", "3")
    b = omni("uuid7", "--count=3", "--seed", "7", "--now", "2026-01-01T00:00:00Z")
    assert a.code == 0 and b.code == 0
    assert a.text == b.text
    ids = a.text.splitlines()
    assert len(ids) == 3
    assert ids == sorted(ids) and len(set(ids)) == 3, "strictly increasing"
    for u in ids:
        assert re.fullmatch(r"019b76da-a800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u), u
    c = omni("--now", "2026-01-01T00:00:00Z", "--seed", "8", "uuid7")
    assert c.text.splitlines()[0] != ids[0], "another seed, other random bits"


def test_uuid7_without_pins_uses_the_clock(omni):
    r = omni("uuid7")
    assert r.code == 0
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n",
                        r.text)


@pytest.mark.parametrize("args", [["--now", "yesterday"], ["--seed", "-1"], ["--seed", "x"],
                                  ["--count", "0"], ["--count", "lots"], ["extra"]])
def test_uuid7_bad_options(omni, args):
    r = omni("uuid7", *args)
    assert r.code == 2
    assert r.error()["code"] in ("INVALID_ARGUMENT", "INVALID_TIMESTAMP")


def test_base64url_round_trip(omni, tmp_path):
    data = bytes(range(256)) * 3
    f = tmp_path / "data.bin"
    f.write_bytes(data)
    enc = omni("base64url", "encode", f)
    assert enc.code == 0
    assert enc.text == base64.urlsafe_b64encode(data).decode().rstrip("=") + "\n"
    dec = omni("base64url", "decode", input=enc.out)
    assert dec.code == 0
    assert dec.out == data


def test_base64url_stdin_and_vectors(omni):
    # RFC 4648 section 10, unpadded in the url alphabet
    for plain, coded in [(b"", ""), (b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"),
                         (b"foobar", "Zm9vYmFy"), (b"\xfb\xff", "-_8")]:
        r = omni("base64url", "encode", input=plain)
        assert r.text == coded + "\n"
        assert omni("base64url", "decode", input=coded).out == plain


def test_base64url_decode_rejects_standard_alphabet(omni):
    r = omni("base64url", "decode", input="+/8=")
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_ENCODING"
    assert err["retryable"] is False


def test_base64url_usage(omni):
    assert omni("base64url").code == 2
    assert omni("base64url", "rot13").code == 2
    r = omni("base64url", "encode", "/no/such/file")
    assert r.code == 2
    assert "/no/such/file" in r.error()["message"]


SECRET = "s3cr3t-value-never-printed"


def test_jwt_hs256_sign_and_verify(omni, tmp_path):
    claims = tmp_path / "claims.json"
    claims.write_text('{"sub":"agent-7","iss":"libomni"}')
    s = omni("--now", "2026-01-01T00:00:00Z", "jwt", "sign", "--alg", "HS256",
             "--secret", SECRET, "--iat", "--expires-in", "60", claims)
    assert s.code == 0, s.err
    token = s.text.strip()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    v = omni("--now", "2026-01-01T00:00:30Z", "jwt", "verify", "--alg", "HS256",
             "--secret", SECRET, input=token + "\n")
    assert v.code == 0, v.err
    assert v.json() == {"sub": "agent-7", "iss": "libomni", "iat": 1767225600,
                        "exp": 1767225660}
    # expired a minute later
    late = omni("--now", "2026-01-01T00:02:00Z", "jwt", "verify", "--alg", "HS256",
                "--secret", SECRET, input=token)
    assert late.code == 1
    assert late.error()["code"] == "TOKEN_EXPIRED"
    ok = omni("--now", "2026-01-01T00:02:00Z", "jwt", "verify", "--alg", "HS256",
              "--secret", SECRET, "--leeway", "120", input=token)
    assert ok.code == 0
    # wrong secret: invalid signature, and the secret is never echoed
    bad = omni("--now", "2026-01-01T00:00:30Z", "jwt", "verify", "--alg", "HS256",
               "--secret", "other", input=token)
    assert bad.code == 1
    assert bad.error()["code"] == "SIGNATURE_INVALID"
    assert SECRET.encode() not in bad.err and b"other" not in bad.err


def test_jwt_secret_from_env_and_file(omni, tmp_path):
    f = tmp_path / "secret"
    f.write_bytes(SECRET.encode())
    s = omni("jwt", "sign", "--alg", "HS256", "--secret-env", "OMNI_TEST_SECRET",
             input='{"a":1}', env={"OMNI_TEST_SECRET": SECRET})
    assert s.code == 0
    v = omni("jwt", "verify", "--alg", "HS256", "--secret-file", f, input=s.out)
    assert v.code == 0 and v.json() == {"a": 1}
    missing = omni("jwt", "sign", "--alg", "HS256", "--secret-env", "OMNI_NO_SUCH_VAR",
                   input="{}")
    assert missing.code == 2


def have_openssl():
    try:
        subprocess.run(["openssl", "version"], capture_output=True, check=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


@pytest.mark.skipif(not have_openssl(), reason="openssl command not installed")
@pytest.mark.parametrize("alg,genargs", [
    ("ES256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
    ("RS256", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
])
def test_jwt_asymmetric(omni, tmp_path, alg, genargs):
    key = tmp_path / "key.pem"
    pub = tmp_path / "pub.pem"
    subprocess.run(["openssl", "genpkey", *genargs, "-out", str(key)], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)],
                   check=True, capture_output=True)
    s = omni("jwt", "sign", "--alg", alg, "--key", key, "--header", '{"kid":"K1"}',
             input='{"iss":"TEAMID"}')
    assert s.code == 0, s.err
    token = s.text.strip()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == alg and header["kid"] == "K1"
    if alg == "ES256":
        sig = base64.urlsafe_b64decode(token.split(".")[2] + "==")
        assert len(sig) == 64, "raw R||S, not DER"
    v = omni("jwt", "verify", "--alg", alg, "--key", pub, input=token)
    assert v.code == 0 and v.json() == {"iss": "TEAMID"}
    # algorithm confusion is refused
    confused = omni("jwt", "verify", "--alg", "HS256", "--secret-file", pub, input=token)
    assert confused.code == 1
    assert confused.error()["code"] == "SIGNATURE_INVALID"


def test_jwt_usage_errors(omni):
    assert omni("jwt").code == 2
    assert omni("jwt", "sign", "--secret", "x", input="{}").code == 2, "--alg required"
    assert omni("jwt", "sign", "--alg", "HS256", input="{}").code == 2, "key required"
    r = omni("jwt", "sign", "--alg", "HS256", "--secret", "x", "--key", "k", input="{}")
    assert r.code == 2
    r = omni("jwt", "sign", "--alg", "none", "--secret", "x", input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("jwt", "sign", "--alg", "HS256", "--secret", "x", input="[1]")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("jwt", "verify", "--alg", "HS256", "--secret", "x", input="a.b")
    assert r.code == 2

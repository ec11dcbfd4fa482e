"""omni webpush: RFC 8291 encryption (Appendix A byte for byte), decryption,
key pairs and VAPID headers (RFC 8292)."""
import base64
import json

# RFC 8291 Appendix A
PLAINTEXT = b"When I grow up, I want to be a watermelon"
UA_PUBLIC = ("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNto"
             "IAiw4")
UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
AS_PUBLIC = ("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBr"
             "u3jl7A8")
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
BODY = ("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocIn"
        "mYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNW"
        "QexSgSxsj_Qulcy4a-fN")


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_encrypt_reproduces_rfc8291_appendix_a(omni):
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             "--salt", SALT, "--sender-private", AS_PRIVATE, input=PLAINTEXT)
    assert r.code == 0, r.err
    assert r.text.strip() == BODY


def test_encrypt_from_file_and_decrypt(omni, tmp_path):
    src = tmp_path / "msg.txt"
    src.write_bytes(b"\x00binary\xffpayload")
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH, src)
    assert r.code == 0, r.err
    body = r.text.strip()
    assert len(b64d(body)) == 86 + 15 + 17
    assert b64d(body)[16:20] == (4096).to_bytes(4, "big")
    d = omni("webpush", "decrypt", "--ua-private", UA_PRIVATE, "--auth-secret", AUTH,
             input=body + "\n")
    assert d.code == 0, d.err
    assert d.out == b"\x00binary\xffpayload"


def test_decrypt_rfc_body(omni):
    r = omni("webpush", "decrypt", "--ua-private", UA_PRIVATE, "--auth-secret", AUTH, input=BODY)
    assert r.code == 0, r.err
    assert r.out == PLAINTEXT


def test_decrypt_wrong_auth_secret(omni):
    r = omni("webpush", "decrypt", "--ua-private", UA_PRIVATE,
             "--auth-secret", "AAAAAAAAAAAAAAAAAAAAAA", input=BODY)
    assert r.code == 1
    assert r.error()["code"] == "SIGNATURE_INVALID"
    assert UA_PRIVATE not in r.err.decode()


def test_record_size(omni):
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             "--record-size", "100", input=b"x" * 83)
    assert r.code == 0, r.err
    assert b64d(r.text.strip())[16:20] == (100).to_bytes(4, "big")
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             "--record-size", "100", input=b"x" * 84)
    assert r.code == 2
    assert r.error()["code"] == "PAYLOAD_TOO_LARGE"
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             input=b"x" * 3994)
    assert r.error()["code"] == "PAYLOAD_TOO_LARGE"
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             "--record-size", "17", input=b"")
    assert r.code == 2
    r = omni("webpush", "encrypt", "--ua-public", UA_PUBLIC, "--auth-secret", AUTH,
             "--record-size", "ten", input=b"")
    assert r.code == 2


def test_bad_keys(omni):
    r = omni("webpush", "encrypt", "--ua-public", AS_PRIVATE, "--auth-secret", AUTH, input=b"x")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    bad = bytearray(b64d(UA_PUBLIC))
    bad[64] ^= 1
    r = omni("webpush", "encrypt", "--ua-public",
             base64.urlsafe_b64encode(bytes(bad)).rstrip(b"=").decode(),
             "--auth-secret", AUTH, input=b"x")
    assert r.code == 2 and r.error()["code"] == "INVALID_KEY"
    r = omni("webpush", "encrypt", "--auth-secret", AUTH, input=b"x")
    assert r.code == 2
    r = omni("webpush", "decrypt", "--ua-private", "!!", "--auth-secret", AUTH, input=BODY)
    assert r.code == 2
    r = omni("webpush", "decrypt", "--ua-private", UA_PRIVATE, "--auth-secret", AUTH,
             input="not base64!")
    assert r.code == 2


def test_keypair(omni):
    r = omni("webpush", "keypair")
    assert r.code == 0, r.err
    k = r.json()
    assert len(b64d(k["publicKey"])) == 65 and b64d(k["publicKey"])[0] == 4
    assert len(b64d(k["privateKey"])) == 32
    a = omni("--seed", "5", "webpush", "keypair").json()
    b = omni("--seed", "5", "webpush", "keypair").json()
    assert a == b
    # the pair works: encrypt to it, decrypt with it
    e = omni("webpush", "encrypt", "--ua-public", k["publicKey"], "--auth-secret", AUTH,
             input=b"hello")
    d = omni("webpush", "decrypt", "--ua-private", k["privateKey"], "--auth-secret", AUTH,
             input=e.out)
    assert d.out == b"hello"


def test_vapid(omni):
    r = omni("--now", "2024-01-01T00:00:00Z", "webpush", "vapid",
             "--endpoint", "https://Updates.Push.Services.Mozilla.com/wpush/v2/abc",
             "--subject", "mailto:ops@example.com", "--private-key", AS_PRIVATE,
             "--expires", "3600")
    assert r.code == 0, r.err
    line = r.text.strip()
    assert line.startswith("vapid t=")
    jwt, k = line[len("vapid t="):].split(", k=")
    assert k == AS_PUBLIC
    header, claims, sig = jwt.split(".")
    assert json.loads(b64d(header)) == {"alg": "ES256", "typ": "JWT"}
    assert json.loads(b64d(claims)) == {"aud": "https://updates.push.services.mozilla.com",
                                        "exp": 1704067200 + 3600,
                                        "sub": "mailto:ops@example.com"}
    assert len(b64d(sig)) == 64
    # verify the signature with the jwt command when the key converts
    r = omni("--now", "2024-01-01T00:00:00Z", "webpush", "vapid", "--endpoint",
             "https://push.example.com/x", "--subject", "mailto:a@b.c",
             "--private-key", AS_PRIVATE)
    claims = json.loads(b64d(r.text.strip().split(".")[1]))
    assert claims["exp"] == 1704067200 + 43200


def test_vapid_errors(omni):
    base = ["webpush", "vapid", "--subject", "mailto:a@b.c", "--private-key", AS_PRIVATE]
    r = omni(*base, "--endpoint", "http://push.example.com/x")
    assert r.code == 2 and r.error()["code"] == "INVALID_ARGUMENT"
    r = omni(*base, "--endpoint", "https://push.example.com/x", "--expires", "86401")
    assert r.code == 2
    r = omni("webpush", "vapid", "--endpoint", "https://p.example/x", "--subject", "ops",
             "--private-key", AS_PRIVATE)
    assert r.code == 2
    r = omni("webpush", "vapid", "--endpoint", "https://p.example/x", "--subject", "mailto:a@b.c",
             "--private-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert r.code == 2 and r.error()["code"] == "INVALID_KEY"
    r = omni("webpush", "vapid", "--subject", "mailto:a@b.c", "--private-key", AS_PRIVATE)
    assert r.code == 2


def test_usage(omni):
    assert omni("webpush").code == 2
    assert omni("webpush", "frobnicate").code == 2
    assert omni("webpush", "encrypt", "--bogus").code == 2
    r = omni("webpush", "--help")
    assert r.code == 0 and b"webpush encrypt" in r.out

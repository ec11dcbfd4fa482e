"""Web Push encryption (RFC 8291 Appendix A byte for byte), decryption, key pairs
and VAPID headers (RFC 8292) from Python."""

import base64
import json

import pytest

import omni


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# RFC 8291 Appendix A
PLAINTEXT = b"When I grow up, I want to be a watermelon"
UA_PUBLIC = b64d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpk"
                 "NtoIAiw4")
UA_PRIVATE = b64d("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")
AS_PUBLIC = b64d("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PB"
                 "ru3jl7A8")
AS_PRIVATE = b64d("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
SALT = b64d("DGv6ra1nlYgDCS1FRnbzlw")
AUTH = b64d("BTBZMqHH6r4Tts7J_aSIgg")
BODY = b64d("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocIn"
            "mYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNW"
            "QexSgSxsj_Qulcy4a-fN")


def test_rfc8291_appendix_a():
    assert omni.webpush_encrypt(PLAINTEXT, UA_PUBLIC, AUTH, salt=SALT,
                                sender_private=AS_PRIVATE) == BODY
    assert omni.webpush_decrypt(BODY, UA_PRIVATE, AUTH) == PLAINTEXT


def test_round_trip_with_a_fresh_pair():
    pub, priv = omni.webpush_keypair()
    assert len(pub) == 65 and pub[0] == 4 and len(priv) == 32
    for size in (0, 1, 200, omni.WEBPUSH_MAX_PLAINTEXT):
        msg = bytes(range(256)) * (size // 256) + bytes(size % 256)
        body = omni.webpush_encrypt(msg, pub, AUTH)
        assert len(body) == 86 + size + 17
        assert omni.webpush_decrypt(body, priv, AUTH) == msg
    body = omni.webpush_encrypt(b"x" * 83, pub, AUTH, record_size=100)
    assert omni.webpush_decrypt(body, priv, AUTH) == b"x" * 83


def test_keypair_from_a_seeded_engine():
    with omni.Engine({"random": {"seed": 3}}) as a, omni.Engine({"random": {"seed": 3}}) as b:
        assert omni.webpush_keypair(a) == omni.webpush_keypair(b)


def test_errors():
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_decrypt(BODY, UA_PRIVATE, bytes(16))
    assert e.value.code == "SIGNATURE_INVALID"
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_encrypt(b"x" * 3994, UA_PUBLIC, AUTH)
    assert e.value.code == "PAYLOAD_TOO_LARGE"
    bad = bytearray(UA_PUBLIC)
    bad[64] ^= 1
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_encrypt(b"x", bytes(bad), AUTH)
    assert e.value.code == "INVALID_KEY"
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_encrypt(b"x", UA_PUBLIC[:64], AUTH)
    assert e.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_decrypt(BODY[:50], UA_PRIVATE, AUTH)
    assert e.value.code in ("INVALID_ENCODING", "SIGNATURE_INVALID")
    with pytest.raises(omni.OmniError):
        omni.webpush_encrypt("text", UA_PUBLIC, AUTH)  # type: ignore[arg-type]


def test_vapid():
    header = omni.webpush_vapid("https://fcm.googleapis.com/fcm/send/abc", "mailto:ops@example.com",
                                AS_PRIVATE, now_ms=1_700_000_000_000, expires_s=3600)
    assert header.startswith("vapid t=")
    jwt, k = header[len("vapid t="):].split(", k=")
    assert b64d(k) == AS_PUBLIC
    h, c, s = jwt.split(".")
    assert json.loads(b64d(h)) == {"alg": "ES256", "typ": "JWT"}
    assert json.loads(b64d(c)) == {"aud": "https://fcm.googleapis.com", "exp": 1_700_003_600,
                                   "sub": "mailto:ops@example.com"}
    assert len(b64d(s)) == 64
    with pytest.raises(omni.OmniError) as e:
        omni.webpush_vapid("http://example.com/x", "mailto:a@b.c", AS_PRIVATE)
    assert e.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError):
        omni.webpush_vapid("https://example.com/x", "mailto:a@b.c", AS_PRIVATE, expires_s=86401)

"""Hashes, HMAC, constant-time comparison and JWT through libomni."""

import base64
import hashlib
import hmac as std_hmac
import json
import subprocess
from typing import Tuple

import pytest

import omni

try:  # optional: used for cross-checks when installed
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover
    HAVE_CRYPTOGRAPHY = False

FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}
NOW_S = 1767225600  # 2026-01-01T00:00:00Z


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_dec(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- hashes ------------------------------------------------------------------


def test_hash_vectors() -> None:
    # FIPS 180-2 appendix examples, message "abc".
    assert omni.hash_digest("sha1", b"abc").hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert (
        omni.hash_digest("sha256", "abc").hex()
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert omni.hash_digest("SHA-512", b"abc").hex() == (
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    )
    assert omni.hash_digest("sha256", b"") == hashlib.sha256(b"").digest()
    assert [omni.hash_size(n) for n in ("sha1", "sha256", "sha512", "md5")] == [20, 32, 64, 0]


def test_hash_unknown_name() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.hash_digest("md5", b"abc")
    assert info.value.code == "INVALID_ARGUMENT"


def test_hmac_rfc4231_case2() -> None:
    # RFC 4231 section 4.3 (test case 2): key "Jefe".
    key, data = b"Jefe", b"what do ya want for nothing?"
    assert (
        omni.hmac("sha256", key, data).hex()
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert omni.hmac("sha512", key, data).hex() == (
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    )
    # RFC 2202 section 3 (test case 2) for HMAC-SHA-1.
    assert omni.hmac("sha1", "Jefe", data).hex() == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"


def test_hmac_rfc4231_case1() -> None:
    # RFC 4231 section 4.2: key = 0x0b * 20, data "Hi There".
    assert (
        omni.hmac("sha256", b"\x0b" * 20, b"Hi There").hex()
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )


def test_ct_equal() -> None:
    assert omni.ct_equal(b"abc", b"abc")
    assert omni.ct_equal("", b"")
    assert not omni.ct_equal(b"abc", b"abd")
    assert not omni.ct_equal(b"abc", b"abcd")


# ---- JWT ---------------------------------------------------------------------


def _openssl_keys(kind: str, tmp_path) -> Tuple[bytes, bytes]:
    key_file = tmp_path / f"{kind}.pem"
    if kind == "rsa":
        args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    else:
        args = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "genpkey", *args, "-out", str(key_file)], check=True,
                   capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", str(key_file), "-pubout"], check=True,
                            capture_output=True).stdout
    return key_file.read_bytes(), public


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory) -> Tuple[bytes, bytes]:
    if HAVE_CRYPTOGRAPHY:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return (
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo),
        )
    return _openssl_keys("rsa", tmp_path_factory.mktemp("rsa"))


@pytest.fixture(scope="module")
def ec_keys(tmp_path_factory) -> Tuple[bytes, bytes]:
    if HAVE_CRYPTOGRAPHY:
        key = ec.generate_private_key(ec.SECP256R1())
        return (
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo),
        )
    return _openssl_keys("ec", tmp_path_factory.mktemp("ec"))


def test_jwt_hs256_round_trip_and_known_signature() -> None:
    secret = b"a secret of some length"
    claims = {"sub": "user-1", "iat": NOW_S, "name": "Zoë"}
    token = omni.jwt_sign("HS256", secret, claims, header={"kid": "k1"})
    head, payload, sig = token.split(".")
    header = json.loads(b64url_dec(head))
    assert header["alg"] == "HS256" and header["typ"] == "JWT" and header["kid"] == "k1"
    assert json.loads(b64url_dec(payload)) == claims
    # Cross-check the signature with Python's hmac module (RFC 7515 section 5.1).
    expected = std_hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert b64url_dec(sig) == expected
    assert omni.jwt_verify(token, "HS256", secret) == claims
    assert omni.jwt_verify(token, "HS256", secret.decode()) == claims


def test_jwt_verify_foreign_hs256() -> None:
    # A token built by hand with the standard library verifies with libomni.
    secret = b"k" * 32
    head = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(json.dumps({"sub": "x", "exp": NOW_S + 60}).encode())
    sig = b64url(std_hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    engine = omni.Engine(FIXED)
    assert omni.jwt_verify(f"{head}.{body}.{sig}", "HS256", secret, engine=engine)["sub"] == "x"
    engine.close()


def test_jwt_wrong_key_and_alg() -> None:
    token = omni.jwt_sign("HS256", b"right", {"a": 1})
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_verify(token, "HS256", b"wrong")
    assert info.value.code == "SIGNATURE_INVALID"
    assert info.value.retryable is False
    assert "wrong" not in info.value.message and "right" not in info.value.message
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_verify(token, "RS256", b"right")
    assert info.value.code in ("SIGNATURE_INVALID", "INVALID_KEY")
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_sign("none", b"k", {"a": 1})
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_verify("not-a-token", "HS256", b"k")
    assert info.value.code in ("INVALID_ENCODING", "INVALID_JSON")


def test_jwt_expiry_against_engine_clock() -> None:
    engine = omni.Engine(FIXED)
    try:
        expired = omni.jwt_sign("HS256", b"s", {"exp": NOW_S - 30})
        with pytest.raises(omni.OmniError) as info:
            omni.jwt_verify(expired, "HS256", b"s", engine=engine)
        assert info.value.code == "TOKEN_EXPIRED"
        assert info.value.status == omni.Status.EEXPIRED
        assert info.value.retryable is False
        # 60 seconds of leeway accept it.
        assert omni.jwt_verify(expired, "HS256", b"s", leeway=60, engine=engine)["exp"] == (
            NOW_S - 30
        )
        early = omni.jwt_sign("HS256", b"s", {"nbf": NOW_S + 300})
        with pytest.raises(omni.OmniError) as info:
            omni.jwt_verify(early, "HS256", b"s", engine=engine)
        assert info.value.code == "TOKEN_NOT_YET_VALID"
        valid = omni.jwt_sign("HS256", b"s", {"exp": NOW_S + 30, "nbf": NOW_S - 30})
        assert omni.jwt_verify(valid, "HS256", b"s", engine=engine)["exp"] == NOW_S + 30
    finally:
        engine.close()


def test_jwt_rs256_round_trip(rsa_keys: Tuple[bytes, bytes]) -> None:
    private, public = rsa_keys
    claims = {"iss": "omni", "iat": NOW_S}
    token = omni.jwt_sign("RS256", private, claims)
    assert omni.jwt_verify(token, "RS256", public) == claims
    assert omni.jwt_verify(token, "RS256", private) == claims  # a private key verifies too
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_verify(token, "ES256", public)
    assert info.value.code in ("SIGNATURE_INVALID", "INVALID_KEY")
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_sign("RS256", b"not a pem key", claims)
    assert info.value.code == "INVALID_KEY"


def test_jwt_es256_round_trip(ec_keys: Tuple[bytes, bytes]) -> None:
    private, public = ec_keys
    claims = {"iss": "TEAMID1234", "iat": NOW_S}
    token = omni.jwt_sign("ES256", private, claims, header={"kid": "ABC123DEFG"})
    assert len(b64url_dec(token.split(".")[2])) == 64  # raw R||S, not DER
    assert omni.jwt_verify(token, "ES256", public) == claims
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(omni.OmniError) as info:
        omni.jwt_verify(tampered, "ES256", public)
    assert info.value.code == "SIGNATURE_INVALID"


@pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason="cryptography module not installed")
def test_jwt_cross_check_with_cryptography(
    rsa_keys: Tuple[bytes, bytes], ec_keys: Tuple[bytes, bytes]
) -> None:
    rsa_private = serialization.load_pem_private_key(rsa_keys[0], password=None)
    ec_private = serialization.load_pem_private_key(ec_keys[0], password=None)

    # libomni signs, cryptography verifies (RFC 7518 sections 3.3 and 3.4).
    token = omni.jwt_sign("RS256", rsa_keys[0], {"n": 1})
    head, body, sig = token.split(".")
    rsa_private.public_key().verify(  # type: ignore[union-attr]
        b64url_dec(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    token = omni.jwt_sign("ES256", ec_keys[0], {"n": 2})
    head, body, sig = token.split(".")
    raw = b64url_dec(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    ec_private.public_key().verify(  # type: ignore[union-attr]
        der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())
    )

    # cryptography signs, libomni verifies.
    head = b64url(b'{"alg":"RS256","typ":"JWT"}')
    body = b64url(b'{"sub":"from-python"}')
    sig = rsa_private.sign(  # type: ignore[union-attr]
        f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert omni.jwt_verify(f"{head}.{body}.{b64url(sig)}", "RS256", rsa_keys[1]) == {
        "sub": "from-python"
    }
    head = b64url(b'{"alg":"ES256","typ":"JWT"}')
    der = ec_private.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))  # type: ignore
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert omni.jwt_verify(f"{head}.{body}.{b64url(raw)}", "ES256", ec_keys[1]) == {
        "sub": "from-python"
    }

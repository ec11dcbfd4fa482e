"""Web Push message encryption (RFC 8291 over RFC 8188's aes128gcm) and VAPID
headers (RFC 8292) (omni/push.h). Keys and secrets are raw bytes (decode a
subscription's base64url "p256dh" / "auth" first); they never appear in errors."""

from __future__ import annotations

import ctypes
import time
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint32, c_void_p
from typing import Any, Optional, Tuple

from ._errors import call_out, check, invalid
from ._lib import PROTOTYPES, lib

__all__ = ["webpush_encrypt", "webpush_decrypt", "webpush_keypair", "webpush_vapid",
           "WEBPUSH_MAX_PLAINTEXT"]

WEBPUSH_MAX_PLAINTEXT = 3993

_P_CHARP = POINTER(c_char_p)
_P_SIZE = POINTER(c_size_t)

PROTOTYPES.update({
    "omni_webpush_encrypt": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_char_p, c_char_p, c_char_p, c_char_p, c_uint32],
    ),
    "omni_webpush_decrypt": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_char_p, c_char_p]),
    "omni_webpush_keypair": (c_int, [c_char_p, c_char_p, c_void_p]),
    "omni_webpush_vapid": (
        c_int, [_P_CHARP, _P_SIZE, c_char_p, c_char_p, c_char_p, c_int64, c_uint32]),
})


def _key(value: Any, size: int, name: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise invalid(f"{name} must be bytes")
    raw = bytes(value)
    if len(raw) != size:
        raise invalid(f"{name} must be {size} bytes, not {len(raw)}")
    return raw


def webpush_encrypt(plaintext: bytes, ua_public: bytes, auth_secret: bytes,
                    salt: Optional[bytes] = None, sender_private: Optional[bytes] = None,
                    record_size: int = 0) -> bytes:
    """The aes128gcm body of a push message for a subscription (p256dh = ua_public,
    auth = auth_secret). salt / sender_private only for reproducible output (RFC 8291
    Appendix A); by default both are fresh, as every real message needs."""
    if not isinstance(plaintext, (bytes, bytearray, memoryview)):
        raise invalid("plaintext must be bytes")
    data = bytes(plaintext)
    if not isinstance(record_size, int) or not 0 <= record_size <= 0xFFFFFFFF:
        raise invalid("record_size must be 0 or 18..2147483647")
    return call_out(lib().omni_webpush_encrypt, data, len(data),
                    _key(ua_public, 65, "ua_public"), _key(auth_secret, 16, "auth_secret"),
                    _key(salt, 16, "salt") if salt is not None else None,
                    _key(sender_private, 32, "sender_private")
                    if sender_private is not None else None,
                    record_size)


def webpush_decrypt(body: bytes, ua_private: bytes, auth_secret: bytes) -> bytes:
    """The user agent's side: the plaintext of an aes128gcm push body."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise invalid("body must be bytes")
    data = bytes(body)
    return call_out(lib().omni_webpush_decrypt, data, len(data),
                    _key(ua_private, 32, "ua_private"), _key(auth_secret, 16, "auth_secret"))


def webpush_keypair(engine: Any = None) -> Tuple[bytes, bytes]:
    """A new P-256 key pair (public 65 bytes uncompressed, private 32 bytes) from the
    engine's random hook (None: OS random)."""
    pub = ctypes.create_string_buffer(65)
    priv = ctypes.create_string_buffer(32)
    handle = engine._handle_or_raise() if engine is not None else None
    check(lib().omni_webpush_keypair(pub, priv, handle))
    result = (pub.raw, priv.raw)
    ctypes.memset(priv, 0, 32)
    return result


def webpush_vapid(endpoint: str, subject: str, private_key: bytes,
                  now_ms: Optional[int] = None, expires_s: int = 43200) -> str:
    """The VAPID Authorization header value "vapid t=<JWT>, k=<public key>" for a push
    endpoint (aud = its origin, exp = now + expires_s (<= 24 h), sub = subject)."""
    if not isinstance(endpoint, str) or not isinstance(subject, str):
        raise invalid("endpoint and subject must be str")
    if "\x00" in endpoint or "\x00" in subject:
        raise invalid("endpoint and subject must not contain NUL")
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    if not isinstance(expires_s, int) or not 0 <= expires_s <= 0xFFFFFFFF:
        raise invalid("expires_s must be 1..86400")
    out = call_out(lib().omni_webpush_vapid, endpoint.encode(), subject.encode(),
                   _key(private_key, 32, "private_key"), int(now_ms), expires_s)
    return out.decode()

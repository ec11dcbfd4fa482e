"""The stateless functions: version, limits, encodings, hashes, JWT, time, UUIDs."""

from __future__ import annotations

import ctypes
import enum
import json
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._errors import OmniError, call_out, check, invalid
from ._lib import lib

if TYPE_CHECKING:  # pragma: no cover
    from ._objects import Engine

BytesLike = Union[bytes, bytearray, memoryview, str]
"""Bytes, or a str that is encoded as UTF-8."""

FormPairs = Union[Sequence[Tuple[str, str]], Mapping[str, str]]


class Limit(enum.IntEnum):
    """Ids of omni_limit() (omni/omni.h)."""

    JSON_BYTES = 1
    JSON_DEPTH = 2
    CONFIG_BYTES = 3
    STORE_NS = 4
    STORE_KEY = 5
    STORE_VALUE = 6
    HTTP_BODY = 7
    HTTP_HEADERS = 8
    JWT_BYTES = 9
    CODEC_BYTES = 10


NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8"
NAMESPACE_X500 = "6ba7b814-9dad-11d1-80b4-00c04fd430c8"

_HASHES = {"sha1": 1, "sha256": 2, "sha512": 3}
_HASH_MAX_SIZE = 64
_TIME_STRLEN = 25
_UUID_STRLEN = 37


# ---- helpers ---------------------------------------------------------------


def to_bytes(data: BytesLike, what: str = "data") -> bytes:
    """Bytes as they are; str as UTF-8."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes or str, not {type(data).__name__}")


def to_cstr(text: Union[str, bytes], what: str) -> bytes:
    """A NUL-terminated string argument: no NUL bytes inside."""
    raw = to_bytes(text, what)
    if b"\0" in raw:
        raise invalid(f"{what} must not contain NUL characters")
    return raw


def to_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (NaN and Infinity are refused: they are not JSON)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def from_json(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def _hash_id(name: Union[str, int]) -> int:
    if isinstance(name, int):
        return name
    # Unknown names become 0, which the library rejects with OMNI_EINVAL.
    return _HASHES.get(name.lower().replace("-", ""), 0)


def _engine_handle(engine: Optional["Engine"]) -> Optional[int]:
    return None if engine is None else engine._handle_or_raise()


# ---- version, limits, statuses ------------------------------------------------


def version() -> str:
    """The library's version string, e.g. "0.1.0"."""
    raw: bytes = lib().omni_version()
    return raw.decode("ascii")


def version_number() -> int:
    """The library's version as major * 10000 + minor * 100 + patch."""
    return int(lib().omni_version_number())


def limit(id: Union[int, str]) -> int:
    """The value of an input limit (see :class:`Limit`), or 0 for an unknown id."""
    if isinstance(id, str):
        try:
            id = int(Limit[id.upper()])
        except KeyError:
            return 0
    return int(lib().omni_limit(int(id)))


def limits() -> Dict[str, int]:
    """All input limits by name."""
    return {item.name: limit(item) for item in Limit}


def strerror(status: int) -> str:
    """The static description of a status ("invalid argument")."""
    raw: bytes = lib().omni_strerror(int(status))
    return raw.decode("utf-8")


def status_code(status: int) -> str:
    """The upper-case code of a status ("INVALID_ARGUMENT")."""
    raw: bytes = lib().omni_status_code(int(status))
    return raw.decode("utf-8")


# ---- encodings ---------------------------------------------------------------


def base64_encode(data: BytesLike) -> str:
    """Standard base64 with padding (RFC 4648 section 4)."""
    raw = to_bytes(data)
    return call_out(lib().omni_base64_encode, raw, len(raw)).decode("ascii")


def base64_decode(text: Union[str, bytes]) -> bytes:
    """Strict standard base64 (padding required, no whitespace)."""
    raw = to_bytes(text, "text")
    return call_out(lib().omni_base64_decode, raw, len(raw))


def base64url_encode(data: BytesLike) -> str:
    """URL-safe base64 without padding (RFC 4648 section 5)."""
    raw = to_bytes(data)
    return call_out(lib().omni_base64url_encode, raw, len(raw)).decode("ascii")


def base64url_decode(text: Union[str, bytes]) -> bytes:
    """URL-safe base64; padding optional."""
    raw = to_bytes(text, "text")
    return call_out(lib().omni_base64url_decode, raw, len(raw))


def url_encode(text: BytesLike) -> str:
    """RFC 3986 percent-encoding (unreserved characters stay, upper-case hex)."""
    raw = to_bytes(text, "text")
    return call_out(lib().omni_url_encode, raw, len(raw)).decode("ascii")


def url_decode_bytes(text: Union[str, bytes]) -> bytes:
    """Decodes %XX sequences into bytes ('+' stays '+')."""
    raw = to_bytes(text, "text")
    return call_out(lib().omni_url_decode, raw, len(raw))


def url_decode(text: Union[str, bytes]) -> str:
    """Decodes %XX sequences; the result must be UTF-8 (else UnicodeDecodeError)."""
    return url_decode_bytes(text).decode("utf-8")


def form_encode(pairs: FormPairs) -> str:
    """application/x-www-form-urlencoded from [(name, value), ...] or a dict of strings."""
    if isinstance(pairs, Mapping):
        doc: Any = {str(k): v for k, v in pairs.items()}
    else:
        doc = [list(p) for p in pairs]
    raw = to_json(doc)
    return call_out(lib().omni_form_encode, raw, len(raw)).decode("ascii")


def form_decode(body: Union[str, bytes]) -> List[Tuple[str, str]]:
    """Decodes a form body into [(name, value), ...] in order, repeated names kept."""
    raw = to_bytes(body, "body")
    doc = from_json(call_out(lib().omni_form_decode, raw, len(raw)))
    return [(str(p[0]), str(p[1])) for p in doc]


def utf8_validate(data: BytesLike) -> None:
    """Raises OmniError (INVALID_ENCODING, with .offset) unless data is valid UTF-8."""
    raw = to_bytes(data)
    offset = ctypes.c_size_t(0)
    status = lib().omni_utf8_validate(raw, len(raw), ctypes.byref(offset))
    try:
        check(status)
    except OmniError as exc:
        exc.offset = int(offset.value)  # type: ignore[attr-defined]
        raise


# ---- hashes, HMAC, JWT -------------------------------------------------------------


def hash_size(name: Union[str, int]) -> int:
    """Output size in bytes of a hash (20, 32, 64), 0 for an unknown one."""
    return int(lib().omni_hash_size(_hash_id(name)))


def hash_digest(name: Union[str, int], data: BytesLike) -> bytes:
    """Digest of data with 'sha1', 'sha256' or 'sha512'."""
    raw = to_bytes(data)
    hid = _hash_id(name)
    out = ctypes.create_string_buffer(_HASH_MAX_SIZE)
    check(lib().omni_hash_digest(out, _HASH_MAX_SIZE, hid, raw, len(raw)))
    return out.raw[: lib().omni_hash_size(hid)]


def hmac(name: Union[str, int], key: BytesLike, data: BytesLike) -> bytes:
    """HMAC (RFC 2104) of data with key and 'sha1', 'sha256' or 'sha512'."""
    rkey = to_bytes(key, "key")
    raw = to_bytes(data)
    hid = _hash_id(name)
    out = ctypes.create_string_buffer(_HASH_MAX_SIZE)
    check(lib().omni_hmac(out, _HASH_MAX_SIZE, hid, rkey, len(rkey), raw, len(raw)))
    return out.raw[: lib().omni_hash_size(hid)]


def ct_equal(a: BytesLike, b: BytesLike) -> bool:
    """Constant-time equality (time depends only on the length)."""
    ra = to_bytes(a, "a")
    rb = to_bytes(b, "b")
    if len(ra) != len(rb):
        return False
    return bool(lib().omni_ct_equal(ra, rb, len(ra)))


def jwt_sign(
    alg: str,
    key: BytesLike,
    claims: Mapping[str, Any],
    header: Optional[Mapping[str, Any]] = None,
) -> str:
    """Signs claims into a compact JWT with HS256 (raw secret) or RS256 / ES256 (PEM key)."""
    ralg = to_cstr(alg, "alg")
    rkey = to_bytes(key, "key")
    rclaims = to_json(dict(claims))
    rheader = to_json(dict(header)) if header is not None else None
    return call_out(
        lib().omni_jwt_sign,
        ralg,
        rkey,
        len(rkey),
        rheader,
        len(rheader) if rheader is not None else 0,
        rclaims,
        len(rclaims),
    ).decode("ascii")


def jwt_verify(
    token: Union[str, bytes],
    alg: str,
    key: BytesLike,
    leeway: int = 0,
    engine: Optional["Engine"] = None,
) -> Dict[str, Any]:
    """Verifies a token signed with `alg` and returns its claims.

    "exp" / "nbf" are checked against the engine's clock (system clock when
    engine is None) with `leeway` seconds of tolerance.
    """
    rtoken = to_bytes(token, "token")
    ralg = to_cstr(alg, "alg")
    rkey = to_bytes(key, "key")
    handle = _engine_handle(engine)
    out = call_out(
        lib().omni_jwt_verify, handle, rtoken, len(rtoken), ralg, rkey, len(rkey), int(leeway)
    )
    result: Dict[str, Any] = from_json(out)
    return result


# ---- time ----------------------------------------------------------------------------


def time_parse(text: Union[str, bytes]) -> int:
    """Parses an RFC 3339 date-time into Unix milliseconds."""
    raw = to_bytes(text, "text")
    out = ctypes.c_int64(0)
    check(lib().omni_time_parse(ctypes.byref(out), raw, len(raw)))
    return int(out.value)


def time_format(ms: int) -> str:
    """Formats Unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ"."""
    out = ctypes.create_string_buffer(_TIME_STRLEN)
    check(lib().omni_time_format(out, _TIME_STRLEN, int(ms)))
    return out.value.decode("ascii")


# ---- UUIDs -----------------------------------------------------------------------------


def uuid5(namespace: str, name: BytesLike) -> str:
    """Name-based UUIDv5 (SHA-1) in `namespace` (e.g. NAMESPACE_DNS)."""
    rns = to_cstr(namespace, "namespace")
    rname = to_bytes(name, "name")
    out = ctypes.create_string_buffer(_UUID_STRLEN)
    check(lib().omni_uuid5(out, rns, rname, len(rname)))
    return out.value.decode("ascii")


def uuid7(engine: Optional["Engine"] = None) -> str:
    """Time-ordered UUIDv7 from the engine's clock and random hook (system when None)."""
    handle = _engine_handle(engine)
    out = ctypes.create_string_buffer(_UUID_STRLEN)
    check(lib().omni_uuid7(out, handle))
    return out.value.decode("ascii")


def uuid_parse(text: Union[str, bytes]) -> bytes:
    """The 16 bytes of a UUID string (also "urn:uuid:" and braces)."""
    raw = to_bytes(text, "text")
    out = ctypes.create_string_buffer(16)
    check(lib().omni_uuid_parse(out, raw, len(raw)))
    return out.raw


def uuid_format(data: BytesLike) -> str:
    """The canonical lower-case string of 16 bytes."""
    raw = to_bytes(data)
    if len(raw) != 16:
        raise invalid("a UUID is 16 bytes")
    out = ctypes.create_string_buffer(_UUID_STRLEN)
    check(lib().omni_uuid_format(out, raw))
    return out.value.decode("ascii")

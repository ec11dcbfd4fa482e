"""AWS Signature Version 4 (omni/aws.h): signing requests for AWS services and
presigned URLs. Credentials are passed as arguments and never appear in errors.

A request is the JSON form of omni/http.h as a dict: {"method", "url",
"headers": {name: value} or [[name, value], ...], "body": str | bytes}.
"""

from __future__ import annotations

import ctypes
from ctypes import Structure, c_char_p, c_uint
from typing import Any, Dict, Mapping, Optional

from ._errors import call_out, check
from ._functions import base64_encode, from_json, to_cstr, to_json
from ._lib import lib

__all__ = ["aws_sigv4_sign", "aws_sigv4_canonical", "aws_sigv4_presign"]

SIGV4_S3 = 1
SIGV4_UNSIGNED_PAYLOAD = 2


class _Credentials(Structure):
    """omni_aws_credentials version 1."""

    _fields_ = [
        ("version", c_uint),
        ("access_key_id", c_char_p),
        ("secret_access_key", c_char_p),
        ("session_token", c_char_p),
    ]


def _credentials(access_key_id: str, secret_access_key: str,
                 session_token: Optional[str]) -> _Credentials:
    return _Credentials(
        1,
        to_cstr(access_key_id, "access_key_id"),
        to_cstr(secret_access_key, "secret_access_key"),
        to_cstr(session_token, "session_token") if session_token is not None else None,
    )


def _request_json(request: Mapping[str, Any]) -> bytes:
    req = dict(request)
    body = req.get("body")
    if isinstance(body, (bytes, bytearray, memoryview)):
        del req["body"]
        req["bodyBase64"] = base64_encode(bytes(body))
    return to_json(req)


def _now(now: Any) -> int:
    if now is None:
        import time

        return int(time.time() * 1000)
    if isinstance(now, str):
        from ._functions import time_parse

        return time_parse(now)
    return int(now)


def _flags(s3: bool, unsigned_payload: bool) -> int:
    return (SIGV4_S3 if s3 else 0) | (SIGV4_UNSIGNED_PAYLOAD if unsigned_payload else 0)


class _Request:
    """A parsed omni_http_request, freed on exit."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        raw = _request_json(request)
        self.handle = ctypes.c_void_p()
        check(lib().omni_http_request_from_json(ctypes.byref(self.handle), raw, len(raw)))

    def __enter__(self) -> "_Request":
        return self

    def __exit__(self, *exc: Any) -> None:
        lib().omni_http_request_free(self.handle)


def aws_sigv4_sign(
    request: Mapping[str, Any],
    *,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    session_token: Optional[str] = None,
    now: Any = None,
    s3: bool = False,
    unsigned_payload: bool = False,
) -> Dict[str, Any]:
    """The request with X-Amz-Date, Host, (X-Amz-Security-Token,
    X-Amz-Content-Sha256) and Authorization added. now: Unix ms, RFC 3339 text,
    or None for the current time (an X-Amz-Date the request carries wins)."""
    cred = _credentials(access_key_id, secret_access_key, session_token)
    L = lib()
    with _Request(request) as req:
        check(L.omni_aws_sigv4_sign(req.handle, ctypes.byref(cred), to_cstr(region, "region"),
                                    to_cstr(service, "service"), _now(now),
                                    _flags(s3, unsigned_payload)))
        out = call_out(L.omni_http_request_to_json, req.handle)
    result: Dict[str, Any] = from_json(out)
    return result


def aws_sigv4_canonical(
    request: Mapping[str, Any],
    *,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    session_token: Optional[str] = None,
    now: Any = None,
    s3: bool = False,
    unsigned_payload: bool = False,
) -> Dict[str, str]:
    """{"canonicalRequest", "stringToSign"} as signing would compute them."""
    cred = _credentials(access_key_id, secret_access_key, session_token)
    L = lib()
    creq, creq_len = ctypes.c_char_p(), ctypes.c_size_t()
    sts, sts_len = ctypes.c_char_p(), ctypes.c_size_t()
    with _Request(request) as req:
        check(L.omni_aws_sigv4_canonical(
            ctypes.byref(creq), ctypes.byref(creq_len), ctypes.byref(sts), ctypes.byref(sts_len),
            req.handle, ctypes.byref(cred), to_cstr(region, "region"),
            to_cstr(service, "service"), _now(now), _flags(s3, unsigned_payload)))
    from ._errors import take

    return {"canonicalRequest": take(creq, creq_len.value).decode(),
            "stringToSign": take(sts, sts_len.value).decode()}


def aws_sigv4_presign(
    method: str,
    url: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    expires: int,
    session_token: Optional[str] = None,
    now: Any = None,
) -> str:
    """A presigned URL valid for `expires` seconds (1..604800)."""
    cred = _credentials(access_key_id, secret_access_key, session_token)
    if isinstance(expires, bool) or not 0 <= int(expires) <= 0xFFFFFFFF:
        raise ValueError("expires must be 0..2**32 - 1")
    out = call_out(lambda o, n: lib().omni_aws_sigv4_presign(
        o, n, to_cstr(method, "method"), to_cstr(url, "url"), ctypes.byref(cred),
        to_cstr(region, "region"), to_cstr(service, "service"), _now(now), int(expires)))
    return out.decode()

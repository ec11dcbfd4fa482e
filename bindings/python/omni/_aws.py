"""AWS Signature Version 4 (omni/aws.h) and the outbound carrier adapters
(omni/outbound.h): signing requests for AWS services, presigned URLs, and
building / reading providers' send requests. Credentials are passed as arguments and never appear in errors.

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

__all__ = ["aws_sigv4_sign", "aws_sigv4_canonical", "aws_sigv4_presign", "Outbound"]

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


class Outbound:
    """The outbound carrier adapters with a provider configuration (omni/outbound.h):
    ``build(event)`` gives the exact HTTP request a provider's API takes (nothing is
    sent), ``parse(carrier, response)`` reads the provider's answer into
    {success, carrierMessageId, status, cost, error {code, message, retryable},
    retryAfterMs}. Secrets in the configuration may be {"env": "NAME"}."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        from ._objects import _doc_bytes

        self._handle: Optional[int] = None
        raw = _doc_bytes(config)
        handle = ctypes.c_void_p()
        check(lib().omni_outbound_new(ctypes.byref(handle), raw, len(raw)))
        self._handle = handle.value

    def _live(self) -> int:
        if not self._handle:
            from ._errors import closed_error

            raise closed_error("outbound")
        return self._handle

    def build(self, event: Mapping[str, Any], *, carrier: Optional[str] = None,
              now: Any = None) -> Dict[str, Any]:
        """The request for one PublishOutboundEvent (carrier: else recipient.carrier)."""
        raw = to_json(dict(event))
        L = lib()
        req = ctypes.c_void_p()
        check(L.omni_outbound_build(ctypes.byref(req), self._live(),
                                    to_cstr(carrier, "carrier") if carrier else None, raw,
                                    len(raw), _now(now)))
        try:
            out = call_out(L.omni_http_request_to_json, req)
        finally:
            L.omni_http_request_free(req)
        result: Dict[str, Any] = from_json(out)
        return result

    def parse(self, carrier: str, response: Mapping[str, Any], *,
              now: Any = None) -> Dict[str, Any]:
        """The result of a provider's response {"status", "headers", "body"}."""
        raw = _request_json(response)
        L = lib()
        resp = ctypes.c_void_p()
        check(L.omni_http_response_from_json(ctypes.byref(resp), raw, len(raw)))
        try:
            out = call_out(lambda o, n: L.omni_outbound_parse(
                o, n, self._live(), to_cstr(carrier, "carrier"), resp, _now(now)))
        finally:
            L.omni_http_response_free(resp)
        result: Dict[str, Any] = from_json(out)
        return result

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            lib().omni_outbound_free(handle)

    def __enter__(self) -> "Outbound":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

"""The push platform adapters (omni/push.h, sans-I/O): the HTTP requests that send one
device's message through APNs, FCM HTTP v1 or Web Push, the reading of the platforms'
answers, and FCM's OAuth 2.0 token exchange. Nothing is sent: the host executes the
requests (e.g. with ``Transport.send``).

A request is the JSON form of omni/http.h as a dict: {"method", "url", "headers":
{name: value} or [[name, value], ...], "body": str | bytes} (binary bodies, such as
Web Push's encrypted ones, are bytes). A response is {"status", "headers"?, "body"?:
str | bytes} (a "bodyBase64" member works too). Secrets come from the configuration
(strings or {"env": "NAME"}) and never appear in errors or results.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_void_p
from typing import Any, Dict, Mapping, Optional, Union

from ._aws import _now, _request_json
from ._errors import call_out, check, invalid
from ._functions import base64_decode, from_json, to_cstr, to_json
from ._handle import Handle
from ._lib import PROTOTYPES, lib

__all__ = ["Push"]

PROTOTYPES.update({
    "omni_push_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_push_free": (None, [c_void_p]),
    "omni_push_build": (c_int, [POINTER(c_void_p), c_void_p, c_char_p, c_size_t, c_int64]),
    "omni_push_parse": (
        c_int, [POINTER(c_char_p), POINTER(c_size_t), c_void_p, c_char_p, c_void_p, c_int64]),
    "omni_push_token_request": (c_int, [POINTER(c_void_p), c_void_p, c_int64]),
    "omni_push_token_response": (c_int, [c_void_p, c_void_p, c_int64]),
})


def _doc(value: Union[Mapping[str, Any], str, bytes], what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, Mapping):
        return to_json(dict(value))
    raise invalid(f"{what} must be a dict or its JSON text")


def _request_dict(handle: int) -> Dict[str, Any]:
    """The request's JSON form as a dict ("bodyBase64" turned into a bytes "body");
    releases the request."""
    L = lib()
    try:
        out = call_out(L.omni_http_request_to_json, handle)
    finally:
        L.omni_http_request_free(handle)
    req: Dict[str, Any] = from_json(out)
    if "bodyBase64" in req:
        req["body"] = base64_decode(req.pop("bodyBase64"))
    return req


class _Response:
    """A parsed omni_http_response, freed on exit."""

    def __init__(self, response: Mapping[str, Any]) -> None:
        if not isinstance(response, Mapping):
            raise invalid("response must be a dict {status, headers?, body?}")
        raw = _request_json(response)
        self.handle = ctypes.c_void_p()
        check(lib().omni_http_response_from_json(ctypes.byref(self.handle), raw, len(raw)))

    def __enter__(self) -> "_Response":
        return self

    def __exit__(self, *exc: Any) -> None:
        lib().omni_http_response_free(self.handle)


class Push(Handle):
    """A compiled push configuration (omni/push.h): {"apns"?: {teamId, keyId,
    privateKey, topic, environment?, baseUrl?}, "fcm"?: {serviceAccount, projectId?,
    baseUrl?, tokenUrl?}, "webpush"?: {vapidPrivateKey, subject,
    vapidExpiresSeconds?}}. It caches the APNs provider token and FCM's access token
    and is thread-safe.

    ``build(message)`` gives the request for one device's message; for FCM run the
    token exchange first: ``token_request()`` (None when the cached token is still
    good), send it, and hand the answer to ``token_response()``. ``parse(platform,
    response)`` reads a platform's answer into {success, platform, messageId?,
    status, error? {code, providerCode?, message, retryable}, invalidToken?,
    retryAfterMs?}. now_ms: Unix ms, RFC 3339 text, or None for the current time.
    """

    _kind = "push"
    _free = "omni_push_free"

    def __init__(self, config: Union[Mapping[str, Any], str, bytes]) -> None:
        raw = _doc(config, "config")
        handle = ctypes.c_void_p()
        check(lib().omni_push_new(ctypes.byref(handle), raw, len(raw)))
        self._handle = handle.value

    def build(self, message: Union[Mapping[str, Any], str, bytes],
              now_ms: Any = None) -> Dict[str, Any]:
        """The request that sends one device's message {platform, token | subscription |
        topic | condition, payload, options?, apns? | android? | webpush?}."""
        raw = _doc(message, "message")
        when = _now(now_ms)
        req = ctypes.c_void_p()
        check(lib().omni_push_build(ctypes.byref(req), self._handle_or_raise(), raw, len(raw),
                                    when))
        return _request_dict(req.value or 0)

    def parse(self, platform: str, response: Mapping[str, Any],
              now_ms: Any = None) -> Dict[str, Any]:
        """The result of a platform's ("ios", "android", "web") answer to a request
        built for it."""
        name = to_cstr(platform, "platform")
        when = _now(now_ms)
        handle = self._handle_or_raise()
        with _Response(response) as resp:
            out = call_out(lambda o, n: lib().omni_push_parse(o, n, handle, name, resp.handle,
                                                              when))
        result: Dict[str, Any] = from_json(out)
        return result

    def token_request(self, now_ms: Any = None) -> Optional[Dict[str, Any]]:
        """FCM's token request (a signed RS256 assertion, RFC 7523) when the cached
        access token is missing or within 5 minutes of expiring, else None."""
        when = _now(now_ms)
        req = ctypes.c_void_p()
        check(lib().omni_push_token_request(ctypes.byref(req), self._handle_or_raise(), when))
        if not req.value:
            return None
        return _request_dict(req.value)

    def token_response(self, response: Mapping[str, Any], now_ms: Any = None) -> None:
        """Reads the token endpoint's answer into the cache (an error leaves it
        unchanged: INVALID_KEY when the key is refused, TRANSPORT_ERROR for 429 / 5xx)."""
        when = _now(now_ms)
        handle = self._handle_or_raise()
        with _Response(response) as resp:
            check(lib().omni_push_token_response(handle, resp.handle, when))

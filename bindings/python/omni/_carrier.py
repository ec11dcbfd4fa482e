"""Carriers' inbound webhooks (omni/carrier.h) and phone numbers / identifiers
(omni/identity.h).

``Inbound(config)`` compiles the inbound configuration once (secrets are
copied into the library and never echoed); ``handle(carrier, request)``
verifies a received webhook and parses it into normalized events,
``verify(carrier, request)`` only verifies it. A request is a dict
``{"method", "url", "headers": {name: value} | [(name, value), ...],
"body": str | bytes}`` (built field by field, so a bytes body is passed as
it is) or the JSON text of the CLI's REQUEST files (``{"method", "url",
"headers", "body" | "bodyBase64"}``).

The identity functions that use the engine's store (routing, customers,
identity links, identity lookup) are methods of :class:`omni.Engine`.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from ._errors import call_out, check, invalid
from ._functions import from_json, to_bytes, to_cstr, to_json
from ._handle import Handle
from ._lib import lib

if TYPE_CHECKING:  # pragma: no cover
    from ._objects import Engine

__all__ = [
    "CARRIER_MESSAGE_NAMESPACE",
    "IDENTITY_NAMESPACE",
    "Inbound",
    "Request",
    "identity_normalize",
    "phone_identity_key",
    "phone_parse",
    "phone_to_e164",
]

CARRIER_MESSAGE_NAMESPACE = "0db08d7e-55c5-5152-9b91-0d896bfc46cf"
"""The UUIDv5 namespace of every event's correlationId (carrier + ":" + message id)."""

IDENTITY_NAMESPACE = "ca92a1e2-b2fd-54d1-bf49-15373b45d00d"
"""The UUIDv5 namespace of anonymous and new customer ids (omni/identity.h)."""

_E164_STRLEN = 17
_PHONE_BR_NINTH_DIGIT = 1

Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]]]
Request = Union[Mapping[str, Any], str, bytes]


def _engine_handle(engine: "Optional[Engine]") -> Optional[int]:
    if engine is None:
        return None
    from ._objects import Engine

    if not isinstance(engine, Engine):
        raise TypeError(f"engine must be an omni.Engine, not {type(engine).__name__}")
    return engine._handle_or_raise()


def _region(region: Optional[str]) -> Optional[bytes]:
    return None if region is None else to_cstr(region, "region")


def _header_pairs(headers: Any) -> Sequence[Tuple[Any, Any]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    if isinstance(headers, (str, bytes)):
        raise TypeError("headers must be a dict or a list of (name, value) pairs")
    pairs = []
    for item in headers:
        if isinstance(item, (str, bytes)) or len(item) != 2:
            raise TypeError("headers must be a dict or a list of (name, value) pairs")
        pairs.append((item[0], item[1]))
    return pairs


class _Webhook:
    """An omni_webhook built from a request dict or its JSON text; a context manager."""

    def __init__(self, request: Request) -> None:
        L = lib()
        handle = ctypes.c_void_p()
        if isinstance(request, (str, bytes, bytearray, memoryview)):
            raw = to_bytes(request, "request")
            check(L.omni_webhook_from_json(ctypes.byref(handle), raw, len(raw)))
            self.handle = handle.value
            return
        if not isinstance(request, Mapping):
            raise TypeError("request must be a dict or its JSON text")
        unknown = set(request) - {"method", "url", "headers", "body"}
        if unknown:
            raise invalid(f"request: unknown member {sorted(unknown)[0]!r}")
        if "method" not in request or "url" not in request:
            raise invalid("request: method and url are required")
        method = to_cstr(request["method"], "request method")
        url = to_cstr(request["url"], "request url")
        pairs = [
            (to_cstr(name, "header name"), to_cstr(value, "header value"))
            for name, value in _header_pairs(request.get("headers"))
        ]
        body = request.get("body")
        raw_body = None if body is None else to_bytes(body, "request body")
        check(L.omni_webhook_new(ctypes.byref(handle), method, url))
        self.handle = handle.value
        try:
            for name, value in pairs:
                check(L.omni_webhook_add_header(self.handle, name, value))
            if raw_body is not None:
                check(L.omni_webhook_set_body(self.handle, raw_body, len(raw_body)))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        handle, self.handle = self.handle, None
        if handle:
            lib().omni_webhook_free(handle)

    def __enter__(self) -> "_Webhook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Inbound(Handle):
    """A compiled inbound configuration (omni_inbound_new); immutable and shareable
    between threads.

    ``config`` is a dict (serialized to JSON) or JSON text: ``{"publicBaseUrl",
    "trustForwardedHeaders", "maxBodyBytes", "defaultRegion", "carriers": {"twilio":
    {"authToken"}, "whatsapp": {"appSecret", "verifyToken"}, ...}}``.
    """

    _kind = "inbound"
    _free = "omni_inbound_free"

    def __init__(self, config: Union[Mapping[str, Any], str, bytes]) -> None:
        self._handle = None
        if isinstance(config, (str, bytes)):
            raw = to_bytes(config, "config")
        elif isinstance(config, Mapping):
            raw = to_json(dict(config))
        else:
            raise TypeError("config must be a dict or its JSON text")
        handle = ctypes.c_void_p()
        check(lib().omni_inbound_new(ctypes.byref(handle), raw, len(raw), None))
        self._handle = handle.value

    def verify(self, carrier: str, request: Request, engine: "Optional[Engine]" = None) -> None:
        """Verifies a request only (e.g. Meta's GET handshake); raises OmniError
        (UNKNOWN_CARRIER, PAYLOAD_TOO_LARGE, SIGNATURE_INVALID, MALFORMED_WEBHOOK)."""
        handle = self._handle_or_raise()
        rcarrier = to_cstr(carrier, "carrier")
        eng = _engine_handle(engine)
        with _Webhook(request) as req:
            check(lib().omni_inbound_verify(handle, eng, rcarrier, req.handle))

    def handle(
        self, carrier: str, request: Request, engine: "Optional[Engine]" = None
    ) -> Dict[str, Any]:
        """Verifies and parses a request: ``{"carrier", "events": [...], "response":
        {"status", "headers", "body"}}`` (the response is what to answer the carrier)."""
        handle = self._handle_or_raise()
        rcarrier = to_cstr(carrier, "carrier")
        eng = _engine_handle(engine)
        with _Webhook(request) as req:
            out = call_out(
                lambda o, n: lib().omni_inbound_handle(o, n, handle, eng, rcarrier, req.handle)
            )
        result: Dict[str, Any] = from_json(out)
        return result


# ---- phone numbers and identifiers ------------------------------------------------------


def phone_to_e164(raw: str, region: Optional[str] = None) -> str:
    """A phone number as people and carriers write it -> E.164 ("+4915123456789");
    ``region`` (ISO 3166-1 alpha-2) is used for numbers without a country code.
    Raises OmniError INVALID_IDENTIFIER for unusable input."""
    data = to_bytes(raw, "raw")
    buf = ctypes.create_string_buffer(_E164_STRLEN)
    check(lib().omni_phone_to_e164(buf, _E164_STRLEN, data, len(data), _region(region)))
    return buf.value.decode("ascii")


def phone_parse(raw: str, region: Optional[str] = None) -> Dict[str, Any]:
    """``{"input", "e164", "countryCode", "region", "nationalNumber", "extension"?}``."""
    data = to_bytes(raw, "raw")
    reg = _region(region)
    result: Dict[str, Any] = from_json(
        call_out(lambda o, n: lib().omni_phone_parse(o, n, data, len(data), reg))
    )
    return result


def phone_identity_key(e164: str, brazil_ninth_digit: bool = False) -> str:
    """The form used to match identities (with ``brazil_ninth_digit`` a Brazilian
    mobile in the old 8-digit form gets its ninth digit)."""
    raw = to_cstr(e164, "e164")
    buf = ctypes.create_string_buffer(_E164_STRLEN)
    flags = _PHONE_BR_NINTH_DIGIT if brazil_ninth_digit else 0
    check(lib().omni_phone_identity_key(buf, _E164_STRLEN, raw, flags))
    return buf.value.decode("ascii")


def identity_normalize(
    carrier: str, sender: Union[Mapping[str, Any], str, bytes], region: Optional[str] = None
) -> str:
    """Seed 001's normalizeIdentifier: the event's senderIdentifier ({phoneNumber?,
    userId?, sessionId?, email?}) -> "+E164", "wa:+E164", "lc:<sessionId>", ..."""
    rcarrier = to_cstr(carrier, "carrier")
    if isinstance(sender, (str, bytes)):
        raw = to_bytes(sender, "sender")
    else:
        raw = to_json(dict(sender))
    reg = _region(region)
    out = call_out(
        lambda o, n: lib().omni_identity_normalize(o, n, rcarrier, raw, len(raw), reg)
    )
    return out.decode("utf-8")

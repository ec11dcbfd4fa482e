"""The delivery engine (omni/delivery.h): sends outbound messages through the carrier
adapters with retries, fallback, a circuit breaker, rate limits and a dead-letter
queue, and never loses or doubles one (every message lives in the engine's store
until it is final).

``Delivery(engine, outbound, config)`` drives messages through the engine's
transport (``send``, ``tick``), or hands the HTTP requests to the host with the
sans-I/O job API::

    job = delivery.publish(event)
    while True:
        action, request, until = job.next()
        if action == "send":
            try:
                job.feed(response=my_http(request))
            except MyTimeout:
                job.feed(transport_error="TIMEOUT")
        else:                   # "wait": tick() resumes it at `until`; "done": final
            break
    job.result()                # the PublishOutboundResult

Requests and responses are the JSON forms of omni/http.h as dicts ({"method", "url",
"headers", "body"} / {"status", "headers", "body"}; a bytes body is sent as
"bodyBase64"), the same as ``Outbound.build`` and ``Transport.send`` use.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_void_p
from typing import Any, Dict, Mapping, NamedTuple, Optional, Union

from ._async import AsyncTransport
from ._aws import Outbound, _request_json
from ._conversation import json_arg, opt_json_arg
from ._errors import OmniError, Status, call_out, check, closed_error, invalid, raise_status
from ._functions import from_json, status_code, time_parse, to_cstr, to_json
from ._handle import Handle
from ._lib import PROTOTYPES, lib
from ._objects import Engine
from ._push_adapters import Push

__all__ = ["Delivery", "DeliveryJob", "JobStep", "DELIVERY_SEND", "DELIVERY_WAIT",
           "DELIVERY_DONE"]

_P_CHARP = POINTER(c_char_p)
_P_SIZE = POINTER(c_size_t)

# The prototypes of omni/delivery.h (declared here, next to their only user).
PROTOTYPES.update({
    "omni_delivery_new": (c_int, [POINTER(c_void_p), c_void_p, c_void_p, c_char_p, c_size_t]),
    "omni_delivery_free": (None, [c_void_p]),
    "omni_delivery_publish": (
        c_int,
        [POINTER(c_void_p), c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_int64],
    ),
    "omni_delivery_resume": (c_int, [POINTER(c_void_p), c_void_p, c_char_p, c_int64]),
    "omni_delivery_next": (
        c_int,
        [c_void_p, c_int64, POINTER(c_int), POINTER(c_void_p), POINTER(c_int64)],
    ),
    "omni_delivery_feed": (c_int, [c_void_p, c_void_p, c_int, c_int64]),
    "omni_delivery_job_result": (c_int, [c_void_p, _P_CHARP, _P_SIZE]),
    "omni_delivery_job_free": (None, [c_void_p]),
    "omni_delivery_send": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t],
    ),
    "omni_delivery_tick": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_int64, c_size_t]),
    "omni_delivery_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_delivery_dlq_list": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_delivery_dlq_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_delivery_dlq_redrive": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_delivery_dlq_purge": (c_int, [c_void_p, c_char_p, POINTER(c_size_t)]),
    "omni_delivery_set_push": (c_int, [c_void_p, c_void_p]),
    "omni_delivery_engine": (c_void_p, [c_void_p]),
    "omni_delivery_push": (c_void_p, [c_void_p]),
    "omni_delivery_run": (c_int, [c_void_p, c_int64]),
    "omni_delivery_run_async": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p]),
    "omni_push_notify": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t],
    ),
    "omni_push_notify_async": (
        c_int,
        [c_void_p, c_void_p, c_char_p, c_size_t, c_void_p, c_void_p],
    ),
})

# omni_push_notify_cb: void cb(void *user, const char *result_json, size_t len, int status)
_NOTIFY_CB = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(ctypes.c_char), c_size_t, c_int)

# omni_delivery_action
DELIVERY_SEND = 1
DELIVERY_WAIT = 2
DELIVERY_DONE = 3
_ACTIONS = {DELIVERY_SEND: "send", DELIVERY_WAIT: "wait", DELIVERY_DONE: "done"}

TimeArg = Union[int, str, _dt.datetime, None]
"""A time: Unix ms (int), RFC 3339 text, a datetime (naive = UTC), or None for the
engine's clock."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _time(value: TimeArg, engine: Engine, what: str) -> int:
    if value is None:
        return engine.now_ms()
    if isinstance(value, bool):
        raise TypeError(f"{what} must be Unix ms, RFC 3339 text or a datetime, not bool")
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise invalid(f"{what} is out of the int64 range")
        return value
    if isinstance(value, str):
        return time_parse(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return (value - epoch) // _dt.timedelta(milliseconds=1)
    raise TypeError(f"{what} must be Unix ms, RFC 3339 text or a datetime, "
                    f"not {type(value).__name__}")


def _id(value: Any, what: str = "message_id") -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return to_cstr(value, what)


def _transport_status(error: Any) -> int:
    """The negative status of a transport failure: an int / Status, an OmniError, or a
    code ("TIMEOUT", "CONNECT_FAILED", ...) or Status name ("ETIMEOUT")."""
    if isinstance(error, OmniError):
        status = int(error.status)
    elif isinstance(error, bool):
        raise TypeError("transport_error must be a status, an OmniError or a code")
    elif isinstance(error, int):
        status = int(error)
    elif isinstance(error, str):
        found = None
        for s in Status:
            if s != Status.OK and (error == s.name or error == status_code(int(s))):
                found = int(s)
                break
        if found is None:
            raise invalid(f"unknown transport error code {error!r}")
        status = found
    else:
        raise TypeError("transport_error must be a status, an OmniError or a code, "
                        f"not {type(error).__name__}")
    if status >= 0:
        raise invalid("transport_error must be a negative status (an error)")
    if status < -(2**31):
        raise invalid("transport_error is out of the int range")
    return status


class JobStep(NamedTuple):
    """What a job wants next: ("send", request, None), ("wait", None, wait_until_ms)
    or ("done", None, None)."""

    action: str
    request: Optional[Dict[str, Any]]
    wait_until_ms: Optional[int]


class Delivery(Handle):
    """The delivery engine over an Engine (store, transport, clock, random) and an
    Outbound (the providers' configuration). Both are kept alive by the Delivery
    and must stay open while it is used (a closed one makes it fail "... is closed").

    ``config`` (dict, JSON text or None for defaults): {"retryPolicy", "fallback",
    "circuitBreaker", "rateLimits", "leaseMs", "inDoubt", "retryTimeouts",
    "idempotencyTtlMs", "deadLetterRetentionMs", "webhookUrl"} (omni/delivery.h).
    ``push`` (a Push, kept alive like the others) lets it send to the push carriers
    "apns", "fcm" and "webpush", and ``notify()`` run pushNotification.
    Thread-safe, like the engine; close() must not race with other calls.
    """

    _kind = "delivery"
    _free = "omni_delivery_free"

    def __init__(self, engine: Engine, outbound: Outbound,
                 config: Union[Mapping[str, Any], str, bytes, None] = None,
                 push: Optional[Push] = None) -> None:
        self._handle = None
        if not isinstance(engine, Engine):
            raise TypeError(f"engine must be an omni.Engine, not {type(engine).__name__}")
        if not isinstance(outbound, Outbound):
            raise TypeError(f"outbound must be an omni.Outbound, not {type(outbound).__name__}")
        if push is not None and not isinstance(push, Push):
            raise TypeError(f"push must be an omni.Push or None, not {type(push).__name__}")
        if push is not None and push._handle is None:
            raise closed_error("push")
        raw = opt_json_arg(config, "config")
        handle = ctypes.c_void_p()
        check(lib().omni_delivery_new(ctypes.byref(handle), engine._handle_or_raise(),
                                      outbound._live(), raw, len(raw) if raw else 0))
        if push is not None:
            check(lib().omni_delivery_set_push(handle, push._handle))
        self._engine = engine
        self._outbound = outbound
        self._push = push
        self._handle = handle.value

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def outbound(self) -> Outbound:
        return self._outbound

    @property
    def push(self) -> Optional[Push]:
        return self._push

    @property
    def closed(self) -> bool:
        return (not self._handle or self._engine.closed or
                getattr(self._outbound, "_handle", None) is None or
                (self._push is not None and self._push._handle is None))

    def _handle_or_raise(self) -> int:
        if not self._handle:
            raise closed_error("delivery")
        if self._engine.closed:
            raise closed_error("engine")
        if getattr(self._outbound, "_handle", None) is None:
            raise closed_error("outbound")
        if self._push is not None and self._push._handle is None:
            raise closed_error("push")
        return self._handle

    def _now(self, now_ms: TimeArg, what: str = "now_ms") -> int:
        return _time(now_ms, self._engine, what)

    # ---- driven through the engine's transport ----

    def send(self, event: Union[Mapping[str, Any], str, bytes],
             options: Union[Mapping[str, Any], str, bytes, None] = None) -> Dict[str, Any]:
        """Publishes one PublishOutboundEvent and sends it; returns the
        PublishOutboundResult (also when it says "pending" or "failed"). options: the
        event's options overrides plus {"deadlineMs"} (how long retries may be waited
        for inline; default 0: a retry is left stored for tick())."""
        ev = json_arg(event, "event")
        opts = opt_json_arg(options, "options")
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_send(
            o, n, handle, ev, len(ev), opts, len(opts) if opts else 0))
        result: Dict[str, Any] = from_json(out)
        return result

    def notify(self, event: Union[Mapping[str, Any], str, bytes],
               options: Union[Mapping[str, Any], str, bytes, None] = None,
               transport: Optional[AsyncTransport] = None) -> Dict[str, Any]:
        """pushNotification (omni/push.h): sends a PushNotificationEvent to every
        device of every recipient (the registry's when deviceTokens is absent),
        after their preferences; returns the PushNotificationResult {success,
        correlationId, deliveryResults, summary, events}. options: {"deadlineMs"}.
        With an AsyncTransport every device's send is in flight at once on its loop
        (options are not taken then: retries not due at once stay pending for tick)."""
        ev = json_arg(event, "event")
        opts = opt_json_arg(options, "options")
        handle = self._handle_or_raise()
        if transport is not None:
            if not isinstance(transport, AsyncTransport):
                raise TypeError("transport must be an omni.AsyncTransport, not "
                                f"{type(transport).__name__}")
            if opts:
                raise invalid("options are not taken with an AsyncTransport")
            return self._notify_async(handle, ev, transport)
        out = call_out(lambda o, n: lib().omni_push_notify(
            o, n, handle, ev, len(ev), opts, len(opts) if opts else 0))
        result: Dict[str, Any] = from_json(out)
        return result

    def _notify_async(self, handle: int, ev: bytes,
                      transport: AsyncTransport) -> Dict[str, Any]:
        got: Dict[str, Any] = {}

        def done(user: Optional[int], text: Any, n: int, status: int) -> None:
            if status == 0:
                got["result"] = from_json(ctypes.string_at(text, n))
            else:
                got["error"] = raise_status(status)

        callback = _NOTIFY_CB(done)  # alive until run returns
        L = lib()
        ah = transport._handle_or_raise()
        check(L.omni_push_notify_async(ah, handle, ev, len(ev),
                                       ctypes.cast(callback, c_void_p), None))
        check(L.omni_async_run(ah))
        if "error" in got:
            raise got["error"]
        result: Dict[str, Any] = got["result"]
        return result

    def tick(self, now_ms: TimeArg = None, limit: int = 100) -> Dict[str, Any]:
        """Sends the stored work due at now_ms (default: the engine's clock), at most
        `limit` (1..1000) messages; returns {processed, sent, retried, deadLettered,
        expired, inDoubt, nextDueAt}."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit must be an int, not {type(limit).__name__}")
        if not 0 <= limit < 2**63:
            raise invalid("limit must be 1 to 1000")
        handle = self._handle_or_raise()
        now = self._now(now_ms)
        out = call_out(lambda o, n: lib().omni_delivery_tick(o, n, handle, now, limit))
        result: Dict[str, Any] = from_json(out)
        return result

    def get(self, message_id: str) -> Dict[str, Any]:
        """A stored message with its attempt history (NOT_FOUND when unknown)."""
        mid = _id(message_id)
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_get(o, n, handle, mid))
        result: Dict[str, Any] = from_json(out)
        return result

    # ---- dead letters ----

    def dlq_list(self, limit: Optional[int] = None,
                 cursor: Optional[str] = None) -> Dict[str, Any]:
        """One page {"items": [...], "next": cursor | None} of dead letters (limit
        1..1000, default 50; cursor: the previous page's "next")."""
        query: Dict[str, Any] = {}
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"limit must be an int, not {type(limit).__name__}")
            query["limit"] = limit
        if cursor is not None:
            if not isinstance(cursor, str):
                raise TypeError(f"cursor must be a str, not {type(cursor).__name__}")
            query["cursor"] = cursor
        raw = to_json(query)
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_dlq_list(o, n, handle, raw, len(raw)))
        result: Dict[str, Any] = from_json(out)
        return result

    def dlq_get(self, message_id: str) -> Dict[str, Any]:
        """One dead letter {messageId, correlationId, carrier, reason, deadAt, attempts,
        event, ...} (NOT_FOUND when there is none)."""
        mid = _id(message_id)
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_dlq_get(o, n, handle, mid))
        result: Dict[str, Any] = from_json(out)
        return result

    def dlq_redrive(self, message_id: str) -> Dict[str, Any]:
        """Makes a dead letter due now with a fresh retry budget (tick() sends it);
        returns its PublishOutboundResult (status "pending")."""
        mid = _id(message_id)
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_dlq_redrive(o, n, handle, mid))
        result: Dict[str, Any] = from_json(out)
        return result

    def dlq_purge(self, message_id: Optional[str] = None) -> int:
        """Removes one dead letter, or every one (message_id None); returns how many."""
        mid = None if message_id is None else _id(message_id)
        handle = self._handle_or_raise()
        count = ctypes.c_size_t(0)
        check(lib().omni_delivery_dlq_purge(handle, mid, ctypes.byref(count)))
        return int(count.value)

    # ---- the sans-I/O job API ----

    def publish(self, event: Union[Mapping[str, Any], str, bytes],
                options: Union[Mapping[str, Any], str, bytes, None] = None,
                now_ms: TimeArg = None) -> "DeliveryJob":
        """Stores one message (or finds it by its idempotency key) and returns the job
        that drives it; nothing is sent until you send what job.next() asks for."""
        ev = json_arg(event, "event")
        opts = opt_json_arg(options, "options")
        handle = self._handle_or_raise()
        now = self._now(now_ms)
        job = ctypes.c_void_p()
        check(lib().omni_delivery_publish(ctypes.byref(job), handle, ev, len(ev), opts,
                                          len(opts) if opts else 0, now))
        return DeliveryJob(job.value or 0, self)

    def resume(self, message_id: str, now_ms: TimeArg = None) -> "DeliveryJob":
        """The job of a stored message (to drive a due message yourself)."""
        mid = _id(message_id)
        handle = self._handle_or_raise()
        now = self._now(now_ms)
        job = ctypes.c_void_p()
        check(lib().omni_delivery_resume(ctypes.byref(job), handle, mid, now))
        return DeliveryJob(job.value or 0, self)


class DeliveryJob(Handle):
    """One message being driven (from Delivery.publish / Delivery.resume). A job
    belongs to one thread at a time; it keeps its Delivery alive. Dropping a job that
    waits is safe: the message is stored with its due time and tick() resumes it."""

    _kind = "delivery job"
    _free = "omni_delivery_job_free"

    def __init__(self, handle: int, delivery: Delivery) -> None:
        """Internal: use Delivery.publish() or Delivery.resume()."""
        self._delivery = delivery
        self._handle = handle

    @property
    def delivery(self) -> Delivery:
        return self._delivery

    @property
    def closed(self) -> bool:
        return not self._handle or self._delivery.closed

    def _handle_or_raise(self) -> int:
        if not self._handle:
            raise closed_error("delivery job")
        self._delivery._handle_or_raise()
        return self._handle

    def next(self, now_ms: TimeArg = None) -> JobStep:
        """The next action at now_ms (default: the engine's clock): ("send", request,
        None) — send the request (it is claimed) and feed() the outcome; ("wait",
        None, wait_until_ms) — nothing to do before then; ("done", None, None)."""
        handle = self._handle_or_raise()
        now = self._delivery._now(now_ms)
        action = ctypes.c_int(0)
        req = ctypes.c_void_p()
        until = ctypes.c_int64(0)
        L = lib()
        check(L.omni_delivery_next(handle, now, ctypes.byref(action), ctypes.byref(req),
                                   ctypes.byref(until)))
        name = _ACTIONS.get(action.value)
        if name is None:
            raise OmniError(int(Status.EINTERNAL), "INTERNAL_ERROR",
                            f"unknown delivery action {action.value}")
        if name == "send":
            request: Dict[str, Any] = from_json(call_out(L.omni_http_request_to_json, req))
            return JobStep("send", request, None)
        if name == "wait":
            return JobStep("wait", None, int(until.value))
        return JobStep("done", None, None)

    def feed(self, response: Optional[Mapping[str, Any]] = None,
             transport_error: Any = None, now_ms: TimeArg = None) -> None:
        """Feeds the outcome of the "send": the provider's response {"status",
        "headers", "body"} (an HTTP error status is a response), or the transport's
        failure: a status (Status.ETIMEOUT), an OmniError raised by Transport.send, or
        a code ("TIMEOUT", "CONNECT_FAILED", "TLS_ERROR", "TRANSPORT_ERROR", ...)."""
        if (response is None) == (transport_error is None):
            raise TypeError("feed() takes either a response or a transport_error")
        status = 0
        raw = None
        if response is not None:
            if not isinstance(response, Mapping):
                raise TypeError(f"response must be a dict, not {type(response).__name__}")
            raw = _request_json(response)
        else:
            status = _transport_status(transport_error)
        handle = self._handle_or_raise()
        now = self._delivery._now(now_ms)
        L = lib()
        if raw is None:
            check(L.omni_delivery_feed(handle, None, status, now))
            return
        resp = ctypes.c_void_p()
        check(L.omni_http_response_from_json(ctypes.byref(resp), raw, len(raw)))
        try:
            check(L.omni_delivery_feed(handle, resp, 0, now))
        finally:
            L.omni_http_response_free(resp)

    def run(self, deadline_ms: TimeArg = 0) -> Dict[str, Any]:
        """Drives the job through the engine's transport (sends, feeds, and waits for
        retries due by deadline_ms: Unix ms / RFC 3339 / datetime on the engine's
        clock; 0: never waits); returns the result."""
        deadline = 0 if deadline_ms == 0 else self._delivery._now(deadline_ms, "deadline_ms")
        handle = self._handle_or_raise()
        check(lib().omni_delivery_run(handle, deadline))
        return self.result()

    def result(self) -> Dict[str, Any]:
        """The job's current PublishOutboundResult."""
        handle = self._handle_or_raise()
        out = call_out(lambda o, n: lib().omni_delivery_job_result(handle, o, n))
        result: Dict[str, Any] = from_json(out)
        return result

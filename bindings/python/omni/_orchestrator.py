"""The notification orchestrator (omni/orchestrator.h): one NotificationRequest to a
user on the right channels (urgent: push and SMS together; important: the preferred
channel, then the next one on failure; informational: the preferred one), after the
user's preferences (opt-outs, do-not-disturb, quiet hours that defer), through the
delivery engine.

``Orchestrator(delivery, config)`` with config {"channels": {"sms": {"carrier",
"from"?}, "email": {"carrier"}, "whatsapp": {...}, "push": {}}, "defaultLocale"?,
"accountId"?}; ``send(request)``, ``send_bulk({"notifications": [...]})``. The user
preferences live in the engine's store: ``prefs_put``, ``prefs_get``, ``prefs_delete``.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p
from typing import Any, Dict, Mapping, Union

from ._conversation import json_arg, opt_json_arg
from ._delivery import Delivery
from ._errors import call_out, check, closed_error
from ._functions import from_json, to_cstr
from ._handle import Handle
from ._lib import PROTOTYPES, lib

__all__ = ["Orchestrator"]

_P_CHARP = POINTER(c_char_p)
_P_SIZE = POINTER(c_size_t)

PROTOTYPES.update({
    "omni_notify_prefs_put": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_notify_prefs_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_notify_prefs_delete": (c_int, [c_void_p, c_char_p]),
    "omni_orchestrator_new": (c_int, [POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "omni_orchestrator_free": (None, [c_void_p]),
    "omni_notify_send": (
        c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t]),
    "omni_notify_send_bulk": (
        c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t]),
})

Doc = Union[Mapping[str, Any], str, bytes]


class Orchestrator(Handle):
    """The orchestrator over a Delivery (kept alive; a closed one makes every call
    fail "... is closed"). Thread-safe like the delivery engine."""

    _kind = "orchestrator"
    _free = "omni_orchestrator_free"

    def __init__(self, delivery: Delivery, config: Doc) -> None:
        self._handle = None
        if not isinstance(delivery, Delivery):
            raise TypeError(f"delivery must be an omni.Delivery, not {type(delivery).__name__}")
        raw = json_arg(config, "config")
        handle = ctypes.c_void_p()
        check(lib().omni_orchestrator_new(ctypes.byref(handle), delivery._handle_or_raise(),
                                          raw, len(raw)))
        self._delivery = delivery
        self._handle = handle.value

    @property
    def delivery(self) -> Delivery:
        return self._delivery

    def _live(self) -> int:
        if not self._handle:
            raise closed_error("orchestrator")
        self._delivery._handle_or_raise()
        return self._handle

    def _engine(self) -> int:
        return self._delivery.engine._handle_or_raise()

    def send(self, request: Doc, options: Union[Doc, None] = None) -> Dict[str, Any]:
        """Sends one NotificationRequest {userId, messageType, content, requestId?,
        channels?, scheduledFor?, expiresAt?}; returns {success, userId, messageType,
        channels: [{channel, status, reason?, deliveries}], fallbackUsed?}. options:
        {"deadlineMs"}."""
        raw = json_arg(request, "request")
        opts = opt_json_arg(options, "options")
        handle = self._live()
        out = call_out(lambda o, n: lib().omni_notify_send(
            o, n, handle, raw, len(raw), opts, len(opts) if opts else 0))
        result: Dict[str, Any] = from_json(out)
        return result

    def send_bulk(self, bulk: Doc, options: Union[Doc, None] = None) -> Dict[str, Any]:
        """{"notifications": [1..1000 requests]} -> {"results": [{index, result |
        error}], "summary": {total, succeeded, failed}}."""
        raw = json_arg(bulk, "bulk")
        opts = opt_json_arg(options, "options")
        handle = self._live()
        out = call_out(lambda o, n: lib().omni_notify_send_bulk(
            o, n, handle, raw, len(raw), opts, len(opts) if opts else 0))
        result: Dict[str, Any] = from_json(out)
        return result

    def prefs_put(self, prefs: Doc) -> Dict[str, Any]:
        """Creates or replaces a user's preferences; returns the stored record."""
        raw = json_arg(prefs, "prefs")
        engine = self._engine()
        result: Dict[str, Any] = from_json(call_out(
            lambda o, n: lib().omni_notify_prefs_put(o, n, engine, raw, len(raw))))
        return result

    def prefs_get(self, user_id: str) -> Dict[str, Any]:
        """A user's stored preferences (NOT_FOUND when none)."""
        uid = to_cstr(user_id, "user_id")
        engine = self._engine()
        result: Dict[str, Any] = from_json(call_out(
            lambda o, n: lib().omni_notify_prefs_get(o, n, engine, uid)))
        return result

    def prefs_delete(self, user_id: str) -> None:
        """Removes a user's preferences (NOT_FOUND when none)."""
        uid = to_cstr(user_id, "user_id")
        check(lib().omni_notify_prefs_delete(self._engine(), uid))

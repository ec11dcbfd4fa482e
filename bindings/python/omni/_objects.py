"""Engine, Store and Transport: the opaque handles of libomni as Python objects.

Objects made by ``Engine(...)``, ``Store.open(...)``, ``Transport.curl(...)`` and
``Transport.scripted(...)`` own their handle: ``close()`` (or the ``with`` block,
or garbage collection) releases it. ``Engine.store`` and ``Engine.transport``
are borrowed from the engine: they keep the engine alive, their ``close()``
only detaches them, and they stop working once the engine is closed.

Thread-safety: the handles themselves are thread-safe (see the C headers);
``close()`` must not race with other calls on the same object.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ._conversation import (
    ConversationStatus,
    ServiceWindow,
    TimeArg,
    json_arg,
    opt_json_arg,
    query_arg,
    time_arg,
)
from . import _devices  # noqa: F401  (registers the device prototypes)
from ._errors import OmniError, Status, call_out, check, take
from ._functions import from_json, to_bytes, to_cstr, to_json
from ._handle import Handle
from ._lib import lib

__all__ = ["Engine", "Store", "Transport", "Record", "CREATE", "ANY_VERSION"]

CREATE = 0
"""put()'s expected_version: create only (fails ALREADY_EXISTS when present)."""

ANY_VERSION = 2**64 - 1
"""put()'s / delete()'s expected_version: whatever the current version is."""


def _config_bytes(config: Union[Mapping[str, Any], str, bytes, None]) -> Optional[bytes]:
    if config is None:
        return None
    if isinstance(config, (str, bytes)):
        return to_bytes(config, "config")
    return to_json(dict(config))


def _doc_bytes(doc: Union[Mapping[str, Any], str, bytes]) -> bytes:
    if isinstance(doc, (str, bytes)):
        return to_bytes(doc, "doc")
    return to_json(dict(doc))


def _u32(value: int, what: str) -> int:
    if isinstance(value, bool) or not 0 <= int(value) <= 0xFFFFFFFF:
        raise ValueError(f"{what} must be 0..2**32 - 1")
    return int(value)


class Engine(Handle):
    """An engine: configuration plus hooks (omni_engine_new).

    ``config`` is a dict (serialized to JSON), a JSON string, or None for all
    defaults; e.g. ``{"clock": {"fixed": "2026-01-01T00:00:00Z"},
    "random": {"seed": 1}}`` for deterministic time and randomness.
    """

    _kind = "engine"
    _free = "omni_engine_free"

    def __init__(
        self,
        config: Union[Mapping[str, Any], str, bytes, None] = None,
        *,
        analyzer: Optional[Any] = None,
    ) -> None:
        self._handle = None
        raw = _config_bytes(config)
        hooks = None
        if analyzer is not None:
            from ._preroute import analyzer_hooks

            table, self._keepalive = analyzer_hooks(analyzer)
            hooks = ctypes.byref(table)
        handle = ctypes.c_void_p()
        check(lib().omni_engine_new(ctypes.byref(handle), raw, len(raw) if raw else 0, hooks))
        self._handle = handle.value

    def now_ms(self) -> int:
        """The engine's clock, Unix milliseconds."""
        return int(lib().omni_engine_now_ms(self._handle_or_raise()))

    def random(self, n: int) -> bytes:
        """n bytes from the engine's random hook."""
        if n < 0:
            raise ValueError("n must not be negative")
        buf = ctypes.create_string_buffer(max(n, 1))
        check(lib().omni_engine_random(self._handle_or_raise(), buf, n))
        return buf.raw[:n]

    @property
    def store(self) -> "Store":
        """The engine's store (borrowed; keeps the engine alive)."""
        ptr = lib().omni_engine_store(self._handle_or_raise())
        if not ptr:
            raise OmniError(int(Status.EINTERNAL), "INTERNAL_ERROR", "engine has no store")
        return Store(ptr, owner=self)

    @property
    def transport(self) -> Optional["Transport"]:
        """The engine's transport (borrowed; keeps the engine alive), or None."""
        ptr = lib().omni_engine_transport(self._handle_or_raise())
        return Transport(ptr, owner=self) if ptr else None

    # ---- the template store (omni/template_store.h) ----

    def template_create(self, doc: Union[Mapping[str, Any], str, bytes]) -> Dict[str, Any]:
        """Creates a NotificationTemplate (version 1); returns the stored document."""
        raw = _doc_bytes(doc)
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_template_create(o, n, handle, raw, len(raw)))
        )
        return result

    def template_update(
        self, doc: Union[Mapping[str, Any], str, bytes], expected_version: int = 0
    ) -> Dict[str, Any]:
        """Replaces a template (by its templateId) with a new version; the previous one
        stays readable. expected_version 0: any; else VERSION_CONFLICT unless current."""
        raw = _doc_bytes(doc)
        expected = _u32(expected_version, "expected_version")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_template_update(o, n, handle, raw, len(raw), expected)
            )
        )
        return result

    def template_get(self, template_id: str, version: int = 0) -> Dict[str, Any]:
        """The current document (version 0) or a kept version; NOT_FOUND otherwise."""
        rid = to_cstr(template_id, "template_id")
        ver = _u32(version, "version")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_template_get(o, n, handle, rid, ver))
        )
        return result

    def template_delete(self, template_id: str) -> None:
        """Deletes a template and its kept versions."""
        rid = to_cstr(template_id, "template_id")
        check(lib().omni_template_delete(self._handle_or_raise(), rid))

    def template_list(
        self,
        filter: Union[Mapping[str, Any], str, None] = None,
        after: Optional[str] = None,
        limit: int = 100,
    ) -> Dict[str, Any]:
        """One page {"items": [...], "next": cursor|None} in templateId order; filter:
        {"category", "channel", "isActive"}."""
        rfilter = _config_bytes(filter)
        rafter = to_cstr(after, "after") if after is not None else None
        if limit < 0:
            raise ValueError("limit must not be negative")
        lim = min(int(limit), 2**32)
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_template_list(
                    o, n, handle, rfilter, len(rfilter) if rfilter else 0, rafter, lim
                )
            )
        )
        return result

    def template_render(
        self,
        template_id: str,
        locale: Optional[str] = None,
        default_locale: Optional[str] = None,
        channel: str = "sms",
        data: Any = None,
    ) -> Dict[str, Any]:
        """Renders a stored template for a locale (fallback locale -> language ->
        default_locale -> the template's defaultLocale -> en). Returns {"templateId",
        "version", "locale" (the one used), "subject"?, "body", "htmlBody"?, "sms"?}."""
        rid = to_cstr(template_id, "template_id")
        rloc = to_cstr(locale, "locale") if locale is not None else None
        rdef = to_cstr(default_locale, "default_locale") if default_locale is not None else None
        rchan = to_cstr(channel, "channel")
        if data is None:
            rdata: Optional[bytes] = None
        elif isinstance(data, (str, bytes)):
            rdata = to_bytes(data, "data")
        else:
            rdata = to_json(data)
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_template_render_stored(
                    o, n, handle, rid, rloc, rdef, rchan, rdata, len(rdata) if rdata else 0
                )
            )
        )
        return result

    # ---- routing, customers and identities (omni/identity.h) ----

    def routing_set(
        self, recipient_key: str, routing: Union[Mapping[str, Any], str, bytes]
    ) -> None:
        """Creates or replaces the routing of a recipient ("+E164", "shortcode:<digits>",
        "mss:<sid>", "waba:<id>", "business:<id>"): {"accountId", "businessUnitId",
        "tenantId", "createCustomers", "defaultRegion", ...}."""
        rkey = to_cstr(recipient_key, "recipient_key")
        raw = _doc_bytes(routing)
        check(lib().omni_routing_set(self._handle_or_raise(), rkey, raw, len(raw)))

    def routing_get(self, recipient_key: str) -> Dict[str, Any]:
        """The stored routing document; NOT_FOUND when there is none."""
        rkey = to_cstr(recipient_key, "recipient_key")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_routing_get(o, n, handle, rkey))
        )
        return result

    def routing_delete(self, recipient_key: str) -> None:
        """Removes a recipient's routing; NOT_FOUND when there is none."""
        rkey = to_cstr(recipient_key, "recipient_key")
        check(lib().omni_routing_delete(self._handle_or_raise(), rkey))

    def customer_put(self, customer: Union[Mapping[str, Any], str, bytes]) -> Dict[str, Any]:
        """Creates (a customerId is made when absent) or replaces a customer record
        {"customerId"?, "profile", "preferences"}; returns the stored record."""
        raw = _doc_bytes(customer)
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_customer_put(o, n, handle, raw, len(raw)))
        )
        return result

    def customer_get(self, customer_id: str) -> Dict[str, Any]:
        """The stored customer record; IDENTITY_NOT_FOUND when there is none."""
        rid = to_cstr(customer_id, "customer_id")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_customer_get(o, n, handle, rid))
        )
        return result

    def identity_link(self, customer_id: str, identifier: str) -> None:
        """Links a normalized identifier ("+E164", "wa:+E164", "lc:<id>", ...) to an
        existing customer (ALREADY_EXISTS when linked to another one)."""
        rid = to_cstr(customer_id, "customer_id")
        rident = to_cstr(identifier, "identifier")
        check(lib().omni_identity_link(self._handle_or_raise(), rid, rident))

    def identity_unlink(self, identifier: str) -> None:
        """Removes an identifier's link; NOT_FOUND when it has none."""
        rident = to_cstr(identifier, "identifier")
        check(lib().omni_identity_unlink(self._handle_or_raise(), rident))

    def identity_lookup(
        self,
        event: Union[Mapping[str, Any], str, bytes],
        options: Union[Mapping[str, Any], str, bytes, None] = None,
    ) -> Dict[str, Any]:
        """An IdentityLookupEvent (e.g. a message event of Inbound.handle) ->
        IdentityLookupResult {success, correlationId, identity {customerId, customerType
        known|anonymous|new, ...}, routing, enrichedMessage, nextStep}. options:
        {"defaultRegion", "brazilNinthDigit"}. ROUTING_RESOLUTION_FAILED (retryable) when
        the recipient has no routing."""
        raw = _doc_bytes(event)
        ropts = _config_bytes(options)
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_identity_lookup(
                    o, n, handle, raw, len(raw), ropts, len(ropts) if ropts else 0
                )
            )
        )
        return result

    # ---- the opt-out ledger (omni/preroute.h) ----

    def optout_get(self, account_id: str, customer_id: str) -> Dict[str, Any]:
        """The opt-out record of (account, customer): {"accountId", "customerId",
        "status": "opted_out" | "opted_in", "keyword"?, "channel"?, "updatedAt"?}."""
        acc = to_cstr(account_id, "account_id")
        cus = to_cstr(customer_id, "customer_id")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_optout_get(o, n, handle, acc, cus))
        )
        return result

    def optout_set(
        self,
        account_id: str,
        customer_id: str,
        opted_out: bool,
        *,
        keyword: Optional[str] = None,
        channel: Optional[str] = None,
    ) -> bool:
        """Sets the status by hand; returns whether it changed."""
        acc = to_cstr(account_id, "account_id")
        cus = to_cstr(customer_id, "customer_id")
        kw = to_cstr(keyword, "keyword") if keyword is not None else None
        ch = to_cstr(channel, "channel") if channel is not None else None
        changed = ctypes.c_int()
        check(
            lib().omni_optout_set(
                self._handle_or_raise(), acc, cus, 1 if opted_out else 0, kw, ch,
                ctypes.byref(changed),
            )
        )
        return bool(changed.value)

    # ---- conversations (omni/conversation.h) ----

    def conversation_step(
        self,
        event: Union[Mapping[str, Any], str, bytes],
        options: Union[Mapping[str, Any], str, bytes, None] = None,
    ) -> Dict[str, Any]:
        """Records a message in the customer's conversation (seed 001's
        workFlowBiDirectional), creating, continuing or reopening it. event: an
        IdentityLookupResult or BiDirectionalEvent {"correlationId", "identity":
        {"customerId"}, "routing": {"accountId", ...}, "enrichedMessage": {"id",
        "carrier", "content", "contentType", ...}, "direction"?: "inbound" | "outbound",
        "channel"?}. options: {"inactivityTimeoutMs", "dedupeWindowMs", "maxAttempts"}.
        Returns the BiDirectionalResult {success, correlationId, duplicate, conversation,
        messageState, routing, events, nextStep}; the same message again returns the
        first result with "duplicate": True. SERVICE_WINDOW_CLOSED for outbound free
        text on a WhatsApp conversation whose window is closed; VERSION_CONFLICT
        (retryable) when concurrent writers exhaust maxAttempts."""
        raw = json_arg(event, "event")
        ropts = opt_json_arg(options, "options")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_conversation_step(
                    o, n, handle, raw, len(raw), ropts, len(ropts) if ropts else 0
                )
            )
        )
        return result

    def conversation_get(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation document {conversationId, customerId, accountId, channel,
        status, assignedTo, participants, metadata, lastInboundAt, serviceWindow?,
        createdAt, updatedAt}; NOT_FOUND when there is none."""
        rid = to_cstr(conversation_id, "conversation_id")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_conversation_get(o, n, handle, rid))
        )
        return result

    def conversation_transition(
        self, conversation_id: str, event: Union[Mapping[str, Any], str, bytes]
    ) -> Dict[str, Any]:
        """Applies an event document {"event": "agent_assigned" | "escalate" | "resolve"
        | ..., "agentId"?, "botId"?, "reason"?, "sentiment"?, "topics"?, "priority"?,
        "inactivityTimeoutMs"?, "at"?} to a stored conversation (messages go through
        conversation_step). Returns {"conversation", "events"}; INVALID_TRANSITION when
        the table or a precondition forbids it."""
        rid = to_cstr(conversation_id, "conversation_id")
        raw = json_arg(event, "event")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_conversation_transition(o, n, handle, rid, raw, len(raw))
            )
        )
        return result

    def conversation_history(
        self,
        conversation_id: str,
        query: Union[Mapping[str, Any], str, bytes, None] = None,
        *,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        direction: Optional[str] = None,
        content_type: Optional[str] = None,
        since: Optional[TimeArg] = None,
        until: Optional[TimeArg] = None,
    ) -> Dict[str, Any]:
        """One page {"items": [message records], "next": cursor|None} of a conversation's
        messages in sequence order. Filter with keyword arguments (limit 1..1000,
        default 50; cursor: the previous page's "next"; direction "inbound" |
        "outbound"; content_type; since (inclusive) / until (exclusive): RFC 3339
        text, Unix ms or a datetime, compared with createdAt), or pass the query
        document itself as `query` ({"limit", "cursor", "direction", "contentType",
        "since", "until"}) -- not both. A page may come back short, even empty, with
        "next" set: keep going until "next" is None."""
        rid = to_cstr(conversation_id, "conversation_id")
        rq = query_arg(
            query,
            {
                "limit": limit,
                "cursor": cursor,
                "direction": direction,
                "contentType": content_type,
                "since": None if since is None else time_arg(since, "since"),
                "until": None if until is None else time_arg(until, "until"),
            },
        )
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_conversation_history(
                    o, n, handle, rid, rq, len(rq) if rq else 0
                )
            )
        )
        return result

    def conversation_list(
        self,
        customer_id: str,
        query: Union[Mapping[str, Any], str, bytes, None] = None,
        *,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        status: Union[str, int, None] = None,
    ) -> Dict[str, Any]:
        """One page {"items": [conversation documents], "next": cursor|None} of a
        customer's conversations (every channel and account). Keyword arguments limit
        (1..1000, default 50), cursor and status (a name or a ConversationStatus), or
        the query document {"limit", "cursor", "status"} as `query` -- not both. An
        unknown customer has an empty list."""
        rid = to_cstr(customer_id, "customer_id")
        if isinstance(status, ConversationStatus):
            status = status.label
        rq = query_arg(query, {"limit": limit, "cursor": cursor, "status": status})
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_conversation_list(
                    o, n, handle, rid, rq, len(rq) if rq else 0
                )
            )
        )
        return result

    def conversation_delivery(self, update: Union[Mapping[str, Any], str, bytes]) -> Dict[str, Any]:
        """Applies a delivery status to a recorded message: {"conversationId",
        "sequenceNumber", "status", "timestamp"?, "errorCode"?, "errorMessage"?} or a
        status event of Inbound.handle {"carrier", "carrierMessageId", "status", ...}.
        Statuses never move backwards (pending/processing < queued < sent < delivered <
        read; failed/undelivered final). With "carrierMessageId" (and "carrier") beside
        conversationId/sequenceNumber it attaches the provider's id to an outbound message.
        Returns {"changed": bool, "parked": bool, "message": <record> | None, "events": [...]};
        a status for a carrier id not known yet is parked ("parked": True) and applied when
        the id is attached; NOT_FOUND for a conversationId/sequenceNumber that does not exist."""
        raw = json_arg(update, "update")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_conversation_delivery(o, n, handle, raw, len(raw)))
        )
        return result

    def conversation_delete(self, conversation_id: str) -> Dict[str, Any]:
        """Deletes a conversation, its messages and its index entry; returns {"events":
        [conversation.deleted]}. NOT_FOUND when there is none."""
        rid = to_cstr(conversation_id, "conversation_id")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_conversation_delete(o, n, handle, rid))
        )
        return result

    def conversation_window(self, conversation_id: str) -> ServiceWindow:
        """The WhatsApp customer service window at the engine's clock, as
        ServiceWindow(open, expires_at_ms) (a named tuple: ``open, exp = ...``). Other
        channels: (True, 0)."""
        rid = to_cstr(conversation_id, "conversation_id")
        is_open = ctypes.c_int(0)
        expires = ctypes.c_int64(0)
        check(
            lib().omni_conversation_window(
                self._handle_or_raise(), rid, ctypes.byref(is_open), ctypes.byref(expires)
            )
        )
        return ServiceWindow(bool(is_open.value), int(expires.value))

    def conversation_settings_set(
        self, account_id: str, settings: Union[Mapping[str, Any], str, bytes]
    ) -> None:
        """Replaces an account's settings {"inactivityTimeoutMs": 1..2**40,
        "dedupeWindowMs": 0..2**40} (both optional; other members are
        INVALID_ARGUMENT); conversation_step's options override them."""
        rid = to_cstr(account_id, "account_id")
        raw = json_arg(settings, "settings")
        check(lib().omni_conversation_settings_set(self._handle_or_raise(), rid, raw, len(raw)))

    def conversation_settings_get(self, account_id: str) -> Dict[str, Any]:
        """An account's stored settings; NOT_FOUND when none were set."""
        rid = to_cstr(account_id, "account_id")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_conversation_settings_get(o, n, handle, rid))
        )
        return result

    # ---- the push device registry (omni/push.h) ----

    def device_register(self, device: Union[Mapping[str, Any], str, bytes]) -> Dict[str, Any]:
        """Registers or refreshes a device {"userId", "deviceToken", "platform": "ios" |
        "android" | "web", "subscription"? (web: PushSubscription.toJSON(), required),
        "appId"?, "locale"?, "timezone"?, "metadata"?}. A token registered to another
        user moves to this one. Returns {"device": record, "created": bool, "events":
        [device.registered | device.updated | device.moved]}."""
        raw = json_arg(device, "device")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_device_register(o, n, handle, raw, len(raw)))
        )
        return result

    def device_get(self, platform: str, token: str) -> Dict[str, Any]:
        """The device record of (platform, token); NOT_FOUND when not registered."""
        rp = to_cstr(platform, "platform")
        rt = to_cstr(token, "token")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_device_get(o, n, handle, rp, rt))
        )
        return result

    def device_remove(
        self, platform: str, token: str, reason: Optional[str] = None
    ) -> Dict[str, Any]:
        """Removes a device: {"device": the removed record, "events": [...]} with
        "device.unregistered", or with `reason` (the provider's, e.g. "Unregistered",
        "410 Gone") "device.invalidated" {reason}. NOT_FOUND when not registered."""
        rp = to_cstr(platform, "platform")
        rt = to_cstr(token, "token")
        rr = None if reason is None else to_cstr(reason, "reason")
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_device_remove(o, n, handle, rp, rt, rr))
        )
        return result

    def device_list(
        self,
        user_id: Optional[str] = None,
        platform: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        platform_filter: Optional[str] = None,
    ) -> Dict[str, Any]:
        """One page {"items": [device records], "next": cursor|None} of a user's devices
        (user_id; platform_filter: only that platform) or of a platform's devices
        (platform) -- exactly one of the two. limit 1..1000 (default 100); cursor: the
        previous page's "next"."""
        ru = None if user_id is None else to_cstr(user_id, "user_id")
        rp = None if platform is None else to_cstr(platform, "platform")
        rq = query_arg(None, {"limit": limit, "cursor": cursor, "platform": platform_filter})
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(
                lambda o, n: lib().omni_device_list(
                    o, n, handle, ru, rp, rq, len(rq) if rq else 0
                )
            )
        )
        return result


class Record(NamedTuple):
    """A store record as get_record() returns it."""

    value: Any
    version: int
    expires_at_ms: int


class Store(Handle):
    """A key/value store with compare-and-swap (omni/store.h).

    Values are JSON documents: put() serializes any JSON-serializable value and
    get() parses it back. Versions are ints (1, 2, ...). ``now_ms=None`` means
    the current time: the engine's clock for an engine's store, else
    ``time.time() * 1000``.
    """

    CREATE = CREATE
    ANY_VERSION = ANY_VERSION

    _kind = "store"
    _free = "omni_store_free"
    _owner: Optional[Engine]

    def __init__(self, handle: int, owner: Optional[Engine] = None) -> None:
        """Internal: use Store.open() or Engine.store."""
        self._handle = handle
        self._owner = owner

    @classmethod
    def open(cls, uri: str = "memory:") -> "Store":
        """Opens a bundled backend by URI ("memory:")."""
        raw = to_cstr(uri, "uri")
        handle = ctypes.c_void_p()
        check(lib().omni_store_open(ctypes.byref(handle), raw))
        return cls(handle.value or 0)

    def _now(self, now_ms: Optional[int]) -> int:
        if now_ms is not None:
            return int(now_ms)
        if self._owner is not None:
            return self._owner.now_ms()
        return int(time.time() * 1000)

    def get_record(self, ns: str, key: str, now_ms: Optional[int] = None) -> Optional[Record]:
        """The record (value, version, expires_at_ms), or None when absent or expired."""
        handle = self._handle_or_raise()
        rns, rkey = to_cstr(ns, "ns"), to_cstr(key, "key")
        value = ctypes.c_char_p()
        value_len = ctypes.c_size_t()
        ver = ctypes.c_uint64()
        expires = ctypes.c_int64()
        status = lib().omni_store_get(
            handle,
            rns,
            rkey,
            self._now(now_ms),
            ctypes.byref(value),
            ctypes.byref(value_len),
            ctypes.byref(ver),
            ctypes.byref(expires),
        )
        if status == Status.ENOTFOUND:
            return None
        check(status)
        raw = take(value, value_len.value)
        return Record(from_json(raw), int(ver.value), int(expires.value))

    def get(self, ns: str, key: str, now_ms: Optional[int] = None) -> Optional[Tuple[Any, int]]:
        """(value, version), or None when the record is absent or expired."""
        rec = self.get_record(ns, key, now_ms)
        return None if rec is None else (rec.value, rec.version)

    def put(
        self,
        ns: str,
        key: str,
        value: Any,
        expected_version: int = CREATE,
        expires_at_ms: int = 0,
        now_ms: Optional[int] = None,
    ) -> int:
        """Writes value if expected_version holds; returns the new version.

        expected_version: CREATE (absent only; else ALREADY_EXISTS), an exact
        version (else VERSION_CONFLICT / NOT_FOUND) or ANY_VERSION.
        """
        handle = self._handle_or_raise()
        rns, rkey = to_cstr(ns, "ns"), to_cstr(key, "key")
        raw = to_json(value)
        new_version = ctypes.c_uint64()
        check(
            lib().omni_store_put(
                handle,
                rns,
                rkey,
                raw,
                len(raw),
                int(expected_version),
                int(expires_at_ms),
                self._now(now_ms),
                ctypes.byref(new_version),
            )
        )
        return int(new_version.value)

    def delete(
        self,
        ns: str,
        key: str,
        expected_version: int = ANY_VERSION,
        now_ms: Optional[int] = None,
    ) -> None:
        """Deletes a record if expected_version (a version or ANY_VERSION) holds."""
        handle = self._handle_or_raise()
        rns, rkey = to_cstr(ns, "ns"), to_cstr(key, "key")
        check(
            lib().omni_store_delete(handle, rns, rkey, int(expected_version), self._now(now_ms))
        )

    def list(
        self,
        ns: str,
        prefix: str = "",
        after: Optional[str] = None,
        limit: int = 100,
        now_ms: Optional[int] = None,
    ) -> Dict[str, Any]:
        """One page: {"items": [{"key", "value", "version", "expiresAt"}], "next": cursor|None}.

        Pass the returned "next" as `after` to continue.
        """
        handle = self._handle_or_raise()
        rns = to_cstr(ns, "ns")
        rprefix = to_cstr(prefix, "prefix")
        rafter = to_cstr(after, "after") if after is not None else None
        if limit < 0:
            raise ValueError("limit must not be negative")
        out = call_out(
            lambda o, n: lib().omni_store_list_json(
                handle, rns, rprefix, rafter, int(limit), self._now(now_ms), o, n
            )
        )
        page: Dict[str, Any] = from_json(out)
        return page


class Transport(Handle):
    """Executes HTTP requests (omni/http.h), in the JSON form of requests/responses.

    A request is ``{"method", "url", "headers": {name: value} | [[name, value]],
    "body": "text" | "bodyBase64": "...", "timeoutMs": N}``; a ``bytes`` body is
    sent as "bodyBase64". A response is ``{"status", "headers", "body" |
    "bodyBase64"}``.
    """

    _kind = "transport"
    _free = "omni_transport_free"
    _owner: Optional[Engine]

    def __init__(self, handle: int, owner: Optional[Engine] = None) -> None:
        """Internal: use Transport.curl(), Transport.scripted() or Engine.transport."""
        self._handle = handle
        self._owner = owner

    @classmethod
    def curl(cls, options: Union[Mapping[str, Any], str, None] = None) -> "Transport":
        """The libcurl transport (options: timeoutMs, connectTimeoutMs, maxResponseBytes,
        maxConnections, caFile, userAgent)."""
        raw = _config_bytes(options)
        handle = ctypes.c_void_p()
        check(
            lib().omni_transport_curl_new(ctypes.byref(handle), raw, len(raw) if raw else 0)
        )
        return cls(handle.value or 0)

    @classmethod
    def scripted(cls, responses: Union[Sequence[Mapping[str, Any]], str, bytes]) -> "Transport":
        """A transport answering from canned responses, in order, and recording requests.

        ``responses`` is a list (or its JSON text); each response is {"status",
        "headers", "body" | "bodyBase64"} or a transport error {"error": "TIMEOUT" |
        "CONNECT_FAILED" | "TLS_ERROR" | "TRANSPORT_ERROR", "message"}.
        """
        if isinstance(responses, (str, bytes)):
            raw = to_bytes(responses, "responses")
        else:
            raw = to_json(list(responses))
        handle = ctypes.c_void_p()
        check(lib().omni_transport_scripted_new(ctypes.byref(handle), raw, len(raw)))
        return cls(handle.value or 0)

    def send(self, request: Mapping[str, Any]) -> Dict[str, Any]:
        """Executes one request; an HTTP error status is a response, not an exception."""
        handle = self._handle_or_raise()
        req = dict(request)
        body = req.get("body")
        if isinstance(body, (bytes, bytearray, memoryview)):
            del req["body"]
            from ._functions import base64_encode

            req["bodyBase64"] = base64_encode(bytes(body))
        raw = to_json(req)
        L = lib()
        req_handle = ctypes.c_void_p()
        check(L.omni_http_request_from_json(ctypes.byref(req_handle), raw, len(raw)))
        try:
            resp_handle = ctypes.c_void_p()
            check(L.omni_transport_send(handle, req_handle, ctypes.byref(resp_handle)))
            try:
                out = call_out(L.omni_http_response_to_json, resp_handle)
            finally:
                L.omni_http_response_free(resp_handle)
        finally:
            L.omni_http_request_free(req_handle)
        response: Dict[str, Any] = from_json(out)
        return response

    def sent(self) -> List[Dict[str, Any]]:
        """The requests a scripted transport was sent (JSON request form), in order."""
        handle = self._handle_or_raise()
        result: List[Dict[str, Any]] = from_json(
            call_out(lambda o, n: lib().omni_transport_scripted_sent(handle, o, n))
        )
        return result


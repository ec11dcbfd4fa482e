"""Conversations (omni/conversation.h): the status and event enums, the pure state
machine (next status, apply) and the DynamoDB Streams converter.

The store-backed calls (step, get, transition, history, ...) are methods of
:class:`omni.Engine` (``conversation_*``); this module holds what needs no
engine and the helpers those methods share.
"""

from __future__ import annotations

import base64
import ctypes
import datetime as _dt
import decimal
import enum
import json
import time
from typing import Any, Dict, Mapping, NamedTuple, Optional, Union

from ._errors import call_out, check
from ._functions import from_json, time_format, to_bytes, to_cstr, to_json
from ._lib import lib

__all__ = [
    "ConversationStatus",
    "ConversationEvent",
    "CONVERSATION_STATUSES",
    "CONVERSATION_EVENTS",
    "CONVERSATION_MAX_DOC",
    "ServiceWindow",
    "conversation_next_status",
    "conversation_apply",
    "dynamodb_unmarshall",
    "dynamodb_stream_events",
]

JsonArg = Union[Mapping[str, Any], str, bytes, bytearray, memoryview]
"""A JSON object argument: a dict (serialized) or its JSON text (str or bytes)."""

TimeArg = Union[str, int, _dt.datetime]
"""A time argument: RFC 3339 text, Unix milliseconds (int) or a datetime (naive = UTC)."""

CONVERSATION_MAX_DOC = 256 * 1024
"""OMNI_CONVERSATION_MAX_DOC: the largest conversation document apply() takes."""


class ConversationStatus(enum.IntEnum):
    """omni_conversation_status; the library's names are the lower-case member names
    ("new", "active", ...), also available as ``.label``."""

    NEW = 0
    ACTIVE = 1
    RESOLVED = 2
    ESCALATED = 3
    EXPIRED = 4
    REOPENED = 5

    @property
    def label(self) -> str:
        """The library's name of the status, e.g. "active"."""
        return self.name.lower()


class ConversationEvent(enum.IntEnum):
    """omni_conversation_event; the library's names are the lower-case member names
    ("inbound_message", "agent_assigned", ...), also available as ``.label``."""

    INBOUND_MESSAGE = 0
    OUTBOUND_MESSAGE = 1
    AGENT_ASSIGNED = 2
    AGENT_TRANSFERRED = 3
    AGENT_LEFT = 4
    BOT_HANDOVER = 5
    ESCALATE = 6
    RESOLVE = 7
    INACTIVITY_TIMEOUT = 8
    REOPEN = 9
    SET_METADATA = 10

    @property
    def label(self) -> str:
        """The library's name of the event, e.g. "agent_assigned"."""
        return self.name.lower()


CONVERSATION_STATUSES = tuple(s.label for s in ConversationStatus)
"""The status names in enum order: ("new", "active", "resolved", ...)."""

CONVERSATION_EVENTS = tuple(e.label for e in ConversationEvent)
"""The event names in enum order: ("inbound_message", "outbound_message", ...)."""


class ServiceWindow(NamedTuple):
    """A conversation's WhatsApp customer service window (Engine.conversation_window).

    ``open``: a free-text reply is allowed now (always True on other channels);
    ``expires_at_ms``: when it closes, Unix ms (0: never opened, or not WhatsApp).
    """

    open: bool
    expires_at_ms: int

    @property
    def expires_at(self) -> Optional[str]:
        """expires_at_ms as RFC 3339 text, or None when it is 0."""
        return time_format(self.expires_at_ms) if self.expires_at_ms else None


# ---- argument helpers (shared with Engine's conversation_* methods) ---------------


def json_arg(value: Any, what: str) -> bytes:
    """A JSON object argument: a Mapping is serialized; str/bytes are JSON text as they
    are (the library validates them)."""
    if isinstance(value, Mapping):
        return to_json(dict(value))
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return to_bytes(value, what)
    raise TypeError(f"{what} must be a dict or JSON text, not {type(value).__name__}")


def opt_json_arg(value: Any, what: str) -> Optional[bytes]:
    """json_arg(), or None for None."""
    return None if value is None else json_arg(value, what)


def ms_arg(value: Any, what: str) -> int:
    """An int64 millisecond argument (None: the system clock now)."""
    if value is None:
        return int(time.time() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int (Unix milliseconds), not {type(value).__name__}")
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"{what} is out of the int64 range")
    return int(value)


def time_arg(value: TimeArg, what: str) -> str:
    """RFC 3339 text for a query's time: text as it is, Unix ms or a datetime."""
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return time_format((value - epoch) // _dt.timedelta(milliseconds=1))
    if isinstance(value, int) and not isinstance(value, bool):
        return time_format(value)
    raise TypeError(f"{what} must be RFC 3339 text, Unix ms or a datetime, "
                    f"not {type(value).__name__}")


def query_arg(query: Any, members: Dict[str, Any], what: str = "query") -> Optional[bytes]:
    """The query document: either `query` (a dict or JSON text) or the keyword
    arguments in `members` (JSON member name -> value; None values are left out)."""
    given = {k: v for k, v in members.items() if v is not None}
    if query is not None:
        if given:
            raise TypeError(f"pass either {what} or keyword arguments, not both")
        return json_arg(query, what)
    return to_json(given) if given else None


def _status_number(value: Union[str, int]) -> int:
    if isinstance(value, str):
        out = ctypes.c_int(0)
        check(lib().omni_conversation_status_parse(to_cstr(value, "status"), ctypes.byref(out)))
        return int(out.value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value) if -(2**31) <= value < 2**31 else -1  # -1: the library's EINVAL
    raise TypeError(f"status must be a name or a ConversationStatus, not {type(value).__name__}")


def _event_number(value: Union[str, int]) -> int:
    if isinstance(value, str):
        out = ctypes.c_int(0)
        check(lib().omni_conversation_event_parse(to_cstr(value, "event"), ctypes.byref(out)))
        return int(out.value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value) if -(2**31) <= value < 2**31 else -1
    raise TypeError(f"event must be a name or a ConversationEvent, not {type(value).__name__}")


# ---- the state machine ---------------------------------------------------------------


def conversation_next_status(status: Union[str, int], event: Union[str, int]) -> str:
    """The status after `event` in `status` by the transition table (names or enum
    members in; the name out): ``conversation_next_status("resolved", "inbound_message")
    == "reopened"``. Raises OmniError INVALID_TRANSITION ("-" in the table) or
    INVALID_ARGUMENT (an unknown name or number)."""
    s = _status_number(status)
    e = _event_number(event)
    out = ctypes.c_int(0)
    L = lib()
    check(L.omni_conversation_next_status(s, e, ctypes.byref(out)))
    name: bytes = L.omni_conversation_status_name(out.value)
    return name.decode("ascii")


def conversation_apply(
    conversation: JsonArg, event: JsonArg, now_ms: Optional[int] = None
) -> Dict[str, Any]:
    """Pure transition of a conversation document (as Engine.conversation_get returns
    it) by an event document {"event", "at"?, "agentId"?, "botId"?, "reason"?,
    "sentiment"?, "topics"?, "priority"?, "inactivityTimeoutMs"?}; now_ms (Unix ms,
    None: the system clock) is the default "at" and the time of the service window.
    Returns {"conversation": <document>, "events": [<change events>]}. Raises
    INVALID_TRANSITION, INVALID_ARGUMENT, INVALID_JSON, PAYLOAD_TOO_LARGE."""
    rdoc = json_arg(conversation, "conversation")
    rev = json_arg(event, "event")
    now = ms_arg(now_ms, "now_ms")
    result: Dict[str, Any] = from_json(
        call_out(
            lambda o, n: lib().omni_conversation_apply(o, n, rdoc, len(rdoc), rev, len(rev), now)
        )
    )
    return result


# ---- DynamoDB Streams ------------------------------------------------------------------


def _dynamo_default(value: Any) -> Any:
    # boto3's low-level client hands B / BS values as bytes: the wire form is base64.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _dynamo_arg(value: Any, what: str) -> bytes:
    if isinstance(value, Mapping):
        return json.dumps(
            dict(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False,
            default=_dynamo_default,
        ).encode("utf-8")
    return json_arg(value, what)


def _dynamo_result(raw: bytes, use_decimal: bool) -> Any:
    if use_decimal:
        return json.loads(raw.decode("utf-8"), parse_float=decimal.Decimal)
    return from_json(raw)


def dynamodb_unmarshall(item: JsonArg, *, use_decimal: bool = False) -> Dict[str, Any]:
    """A DynamoDB item ({"name": AttributeValue}, e.g. a stream record's NewImage) as
    plain values: S -> str, N -> int or float (``use_decimal=True``: decimal.Decimal,
    keeping all 38 digits), B -> base64 str, BOOL, NULL -> None, M -> dict, L -> list,
    SS/NS/BS -> lists. In a dict item, bytes values (B, BS) are sent as base64.
    Raises INVALID_ARGUMENT (not an item, a bad AttributeValue), INVALID_JSON,
    PAYLOAD_TOO_LARGE (4 MiB), NESTING_TOO_DEEP."""
    raw = _dynamo_arg(item, "item")
    result: Dict[str, Any] = _dynamo_result(
        call_out(lambda o, n: lib().omni_dynamodb_unmarshall(o, n, raw, len(raw))), use_decimal
    )
    return result


def dynamodb_stream_events(
    event: JsonArg, now_ms: Optional[int] = None, *, use_decimal: bool = False
) -> Dict[str, Any]:
    """A DynamoStreamEvent {"Records": [...]} of the "conversations" / "messages"
    tables -> {"events": [<change events>], "records": [{"eventID", "status":
    "success"|"skipped"|"failed", "error"?}]}. now_ms (None: the system clock) times
    the events of records without ApproximateCreationDateTime. A malformed record is
    "failed" and does not stop the others; the whole call raises only for a bad
    event (INVALID_JSON, INVALID_ARGUMENT, PAYLOAD_TOO_LARGE: 6 MiB, 10000 records)."""
    raw = _dynamo_arg(event, "event")
    now = ms_arg(now_ms, "now_ms")
    result: Dict[str, Any] = _dynamo_result(
        call_out(lambda o, n: lib().omni_dynamodb_stream_events(o, n, raw, len(raw), now)),
        use_decimal,
    )
    return result

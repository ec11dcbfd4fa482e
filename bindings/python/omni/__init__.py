"""omni: Python bindings (ctypes) for libomni, the message-processing core of an
omnichannel messaging platform.

Templates: ``omni.Template(source, partials=..., helpers=...)`` compiles once
and renders many times (``.render(data)``); host helpers are Python
callables (see ``omni._template`` for the calling convention).

Carriers and identities: ``omni.Inbound(config).handle(carrier, request)``
verifies and parses a carrier's webhook; ``omni.phone_to_e164``,
``omni.phone_parse``, ``omni.identity_normalize``; the engine's
``routing_*``, ``customer_*`` and ``identity_*`` methods (identity lookup).

Conversations: the engine's ``conversation_*`` methods (step, get, transition,
history, list, delivery, delete, window, settings); the pure
``omni.conversation_next_status``, ``omni.conversation_apply`` and the DynamoDB
Streams converter ``omni.dynamodb_unmarshall`` / ``omni.dynamodb_stream_events``;
the names as ``omni.ConversationStatus`` / ``omni.ConversationEvent``.

Pre-routing: ``omni.Rules(rules).eval(facts)`` (seed RoutingRule or
json-rules-engine rules; matched ids in priority order, actions, destination),
``omni.analyze(text)`` / ``omni.Analyzer(config)`` (spam, sentiment, intents,
entities, language), ``omni.PreRoute(config).run(engine, event)`` (seed 001's
workFlowPreRoute), ``Engine(analyzer=fn)`` for a host analyzer, and the engine's
``optout_get`` / ``optout_set`` (the opt-out ledger).

Delivery: ``omni.Delivery(engine, outbound, config)`` sends outbound messages
through the carrier adapters with retries, fallback, a circuit breaker and a
dead-letter queue, exactly once over the engine's store (``send``, ``tick``,
``get``, ``dlq_*``), or hands the requests to the host (``publish`` / ``resume``
return a ``DeliveryJob``: ``next``, ``feed``, ``result``).

Configuration: ``omni.Config(doc)`` validates one engine configuration document
(accounts, addresses, credentials, rules, templates, workflow steps; every error
with its JSON path), ``Config.check(doc)`` reports without raising,
``cfg.apply(engine)`` writes routing records and templates, ``cfg.account(address)``
gives an account's settings.

Every failing call raises :class:`OmniError` with ``status``, ``code``,
``message``, ``retryable`` and ``details`` taken from the library's last
error. See README.md for an example.
"""

from __future__ import annotations

from typing import Any, Dict

from ._carrier import (
    CARRIER_MESSAGE_NAMESPACE,
    IDENTITY_NAMESPACE,
    Inbound,
    identity_normalize,
    phone_identity_key,
    phone_parse,
    phone_to_e164,
)
from ._conversation import (
    CONVERSATION_EVENTS,
    CONVERSATION_MAX_DOC,
    CONVERSATION_STATUSES,
    ConversationEvent,
    ConversationStatus,
    ServiceWindow,
    conversation_apply,
    conversation_next_status,
    dynamodb_stream_events,
    dynamodb_unmarshall,
)
from ._config import Config
from ._orchestrator import Orchestrator
from ._async import AsyncTransport
from ._delivery import Delivery, DeliveryJob, JobStep
from ._errors import OmniError, Status
from ._preroute import Analyzer, PreRoute, Rules, analyze
from ._aws import Outbound, aws_sigv4_canonical, aws_sigv4_presign, aws_sigv4_sign
from ._push_adapters import Push
from ._push import (
    WEBPUSH_MAX_PLAINTEXT,
    webpush_decrypt,
    webpush_encrypt,
    webpush_keypair,
    webpush_vapid,
)
from ._functions import (
    NAMESPACE_DNS,
    NAMESPACE_OID,
    NAMESPACE_URL,
    NAMESPACE_X500,
    BytesLike,
    Limit,
    base64_decode,
    base64_encode,
    base64url_decode,
    base64url_encode,
    ct_equal,
    form_decode,
    form_encode,
    hash_digest,
    hash_size,
    hmac,
    jwt_sign,
    jwt_verify,
    limit,
    limits,
    status_code,
    strerror,
    time_format,
    time_parse,
    url_decode,
    url_decode_bytes,
    url_encode,
    utf8_validate,
    uuid5,
    uuid7,
    uuid_format,
    uuid_parse,
    version,
    version_number,
)
from ._lib import library_path
from ._objects import ANY_VERSION, CREATE, Engine, Record, Store, Transport
from ._template import (
    MAX_NESTED_RENDERS,
    Data,
    HelperOptions,
    SafeString,
    Template,
    format_currency,
    format_date,
    format_number,
    sms_count,
    sms_segments,
    template_validate,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "WEBPUSH_MAX_PLAINTEXT",
    "webpush_decrypt",
    "webpush_encrypt",
    "webpush_keypair",
    "webpush_vapid",
    "Analyzer",
    "AsyncTransport",
    "Config",
    "Orchestrator",
    "Outbound",
    "Push",
    "PreRoute",
    "Rules",
    "analyze",
    "aws_sigv4_canonical",
    "aws_sigv4_presign",
    "aws_sigv4_sign",
    "ANY_VERSION",
    "BytesLike",
    "CARRIER_MESSAGE_NAMESPACE",
    "CONVERSATION_EVENTS",
    "CONVERSATION_MAX_DOC",
    "CONVERSATION_STATUSES",
    "CREATE",
    "ConversationEvent",
    "ConversationStatus",
    "Data",
    "Delivery",
    "DeliveryJob",
    "Engine",
    "HelperOptions",
    "IDENTITY_NAMESPACE",
    "Inbound",
    "JobStep",
    "LIMITS",
    "MAX_NESTED_RENDERS",
    "Limit",
    "NAMESPACE_DNS",
    "NAMESPACE_OID",
    "NAMESPACE_URL",
    "NAMESPACE_X500",
    "OmniError",
    "Record",
    "SafeString",
    "ServiceWindow",
    "Status",
    "Store",
    "Template",
    "Transport",
    "base64_decode",
    "base64_encode",
    "base64url_decode",
    "base64url_encode",
    "conversation_apply",
    "conversation_next_status",
    "ct_equal",
    "dynamodb_stream_events",
    "dynamodb_unmarshall",
    "form_decode",
    "form_encode",
    "format_currency",
    "format_date",
    "format_number",
    "hash_digest",
    "hash_size",
    "hmac",
    "identity_normalize",
    "jwt_sign",
    "jwt_verify",
    "library_path",
    "limit",
    "limits",
    "phone_identity_key",
    "phone_parse",
    "phone_to_e164",
    "sms_count",
    "sms_segments",
    "status_code",
    "strerror",
    "template_validate",
    "time_format",
    "time_parse",
    "url_decode",
    "url_decode_bytes",
    "url_encode",
    "utf8_validate",
    "uuid5",
    "uuid7",
    "uuid_format",
    "uuid_parse",
    "version",
    "version_number",
]


def __getattr__(name: str) -> Any:
    # LIMITS is computed on first use so that importing omni does not load the library.
    if name == "LIMITS":
        value: Dict[str, int] = limits()
        globals()["LIMITS"] = value
        return value
    raise AttributeError(f"module 'omni' has no attribute {name!r}")

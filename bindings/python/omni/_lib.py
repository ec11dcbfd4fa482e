"""Loading libomni and declaring the C prototypes (ctypes).

The library is looked up in this order:

1. ``OMNI_LIBRARY``: a path to ``libomni.so``;
2. the build tree: ``$OMNI_BUILD_DIR/lib/libomni.so.0``, then
   ``../../build/lib/libomni.so.0`` relative to this package's source folder;
3. the system: ``ctypes.util.find_library("omni")``, then ``libomni.so.0``.

Every function gets its ``argtypes`` / ``restype`` declared from the table
below the first time it is used, so a library that lacks a symbol only fails
when that symbol is actually called.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_double,
    c_int64,
    c_size_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ["lib", "library_path", "OmniErrorStruct", "STORE_LIST_CB", "HELPER_FN", "PROTOTYPES"]


class OmniErrorStruct(Structure):
    """``omni_error`` from omni/common.h."""

    _fields_ = [
        ("status", c_int),
        ("retryable", c_int),
        ("code", c_char_p),
        ("message", c_char_p),
        ("details", c_char_p),
    ]


# omni_store_list_cb (omni/hooks.h)
STORE_LIST_CB = ctypes.CFUNCTYPE(
    c_int, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_uint64, c_int64
)

# omni_helper_fn (omni/template.h): int fn(void *ctx, omni_helper_call *call)
HELPER_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)

_P_CHARP = POINTER(c_char_p)
_P_SIZE = POINTER(c_size_t)
_P_U64 = POINTER(c_uint64)
_P_I64 = POINTER(c_int64)

# name: (restype, argtypes)
PROTOTYPES: Dict[str, Tuple[Any, Sequence[Any]]] = {
    # common.h
    "omni_strerror": (c_char_p, [c_int]),
    "omni_status_code": (c_char_p, [c_int]),
    "omni_error_last": (POINTER(OmniErrorStruct), []),
    "omni_error_last_status": (c_int, []),
    "omni_error_last_code": (c_char_p, []),
    "omni_error_last_message": (c_char_p, []),
    "omni_error_last_retryable": (c_int, []),
    "omni_error_last_json": (c_int, [_P_CHARP, _P_SIZE]),
    "omni_error_clear": (None, []),
    "omni_error_set": (c_int, [c_int, c_char_p, c_int]),
    "omni_malloc": (c_void_p, [c_size_t]),
    "omni_free": (None, [c_void_p]),
    # omni.h
    "omni_version": (c_char_p, []),
    "omni_version_number": (c_int, []),
    "omni_limit": (c_uint64, [c_int]),
    "omni_engine_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t, c_void_p]),
    "omni_engine_free": (None, [c_void_p]),
    "omni_engine_now_ms": (c_int64, [c_void_p]),
    "omni_engine_random": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_engine_store": (c_void_p, [c_void_p]),
    "omni_engine_transport": (c_void_p, [c_void_p]),
    # hooks.h (hook tables are passed as opaque pointers)
    "omni_clock_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_random_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_log_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_metrics_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_storage_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_transport_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_hooks_init": (c_int, [c_void_p, c_uint]),
    # store.h
    "omni_store_open": (c_int, [POINTER(c_void_p), c_char_p]),
    "omni_store_wrap": (c_int, [POINTER(c_void_p), c_void_p]),
    "omni_store_free": (None, [c_void_p]),
    "omni_store_get_hook": (c_int, [c_void_p, c_void_p]),
    "omni_store_list": (
        c_int,
        [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t, c_int64, STORE_LIST_CB, c_void_p,
         _P_CHARP],
    ),
    "omni_store_get": (
        c_int,
        [c_void_p, c_char_p, c_char_p, c_int64, _P_CHARP, _P_SIZE, _P_U64, _P_I64],
    ),
    "omni_store_put": (
        c_int,
        [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t, c_uint64, c_int64, c_int64, _P_U64],
    ),
    "omni_store_delete": (c_int, [c_void_p, c_char_p, c_char_p, c_uint64, c_int64]),
    "omni_store_list_json": (
        c_int,
        [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t, c_int64, _P_CHARP, _P_SIZE],
    ),
    # http.h
    "omni_http_request_new": (c_int, [POINTER(c_void_p), c_char_p, c_char_p]),
    "omni_http_request_add_header": (c_int, [c_void_p, c_char_p, c_char_p]),
    "omni_http_request_set_body": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_http_request_set_timeout_ms": (c_int, [c_void_p, c_uint32]),
    "omni_http_request_method": (c_char_p, [c_void_p]),
    "omni_http_request_url": (c_char_p, [c_void_p]),
    "omni_http_request_header_count": (c_size_t, [c_void_p]),
    "omni_http_request_header_name": (c_char_p, [c_void_p, c_size_t]),
    "omni_http_request_header_value": (c_char_p, [c_void_p, c_size_t]),
    "omni_http_request_header": (c_char_p, [c_void_p, c_char_p]),
    "omni_http_request_body": (c_void_p, [c_void_p, _P_SIZE]),
    "omni_http_request_timeout_ms": (c_uint32, [c_void_p]),
    "omni_http_response_new": (c_int, [POINTER(c_void_p)]),
    "omni_http_response_set_status": (c_int, [c_void_p, c_int]),
    "omni_http_response_add_header": (c_int, [c_void_p, c_char_p, c_char_p]),
    "omni_http_response_set_body": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_http_response_append_body": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_http_response_status": (c_int, [c_void_p]),
    "omni_http_response_header_count": (c_size_t, [c_void_p]),
    "omni_http_response_header_name": (c_char_p, [c_void_p, c_size_t]),
    "omni_http_response_header_value": (c_char_p, [c_void_p, c_size_t]),
    "omni_http_response_header": (c_char_p, [c_void_p, c_char_p]),
    "omni_http_response_body": (c_void_p, [c_void_p, _P_SIZE]),
    "omni_http_request_from_json": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_http_request_to_json": (c_int, [_P_CHARP, _P_SIZE, c_void_p]),
    "omni_http_request_free": (None, [c_void_p]),
    "omni_http_response_from_json": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_http_response_to_json": (c_int, [_P_CHARP, _P_SIZE, c_void_p]),
    "omni_http_response_free": (None, [c_void_p]),
    "omni_transport_curl_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_transport_scripted_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_transport_scripted_sent": (c_int, [c_void_p, _P_CHARP, _P_SIZE]),
    "omni_transport_wrap": (c_int, [POINTER(c_void_p), c_void_p]),
    "omni_transport_get_hook": (c_int, [c_void_p, c_void_p]),
    "omni_transport_free": (None, [c_void_p]),
    "omni_transport_send": (c_int, [c_void_p, c_void_p, POINTER(c_void_p)]),
    # encoding.h
    "omni_base64_encode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_base64_decode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_base64url_encode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_base64url_decode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_url_encode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_url_decode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_form_encode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_form_decode": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_utf8_validate": (c_int, [c_char_p, c_size_t, _P_SIZE]),
    # crypto.h
    "omni_hash_size": (c_size_t, [c_int]),
    "omni_hash_digest": (c_int, [c_char_p, c_size_t, c_int, c_char_p, c_size_t]),
    "omni_hmac": (c_int, [c_char_p, c_size_t, c_int, c_char_p, c_size_t, c_char_p, c_size_t]),
    "omni_ct_equal": (c_int, [c_char_p, c_char_p, c_size_t]),
    "omni_jwt_sign": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p,
         c_size_t],
    ),
    "omni_jwt_verify": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_char_p, c_size_t,
         c_int64],
    ),
    # datetime.h
    "omni_time_parse": (c_int, [_P_I64, c_char_p, c_size_t]),
    "omni_time_format": (c_int, [c_char_p, c_size_t, c_int64]),
    # uuid.h
    "omni_uuid_parse": (c_int, [c_char_p, c_char_p, c_size_t]),
    "omni_uuid_format": (c_int, [c_char_p, c_char_p]),
    "omni_uuid5": (c_int, [c_char_p, c_char_p, c_char_p, c_size_t]),
    "omni_uuid7": (c_int, [c_char_p, c_void_p]),
    # template.h (omni_data, omni_value, omni_helper_call, omni_helpers and
    # omni_template are opaque pointers)
    "omni_data_parse": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_data_free": (None, [c_void_p]),
    "omni_data_root": (c_void_p, [c_void_p]),
    "omni_value_type": (c_int, [c_void_p]),
    "omni_value_string": (c_void_p, [c_void_p, _P_SIZE]),
    "omni_value_number": (c_double, [c_void_p]),
    "omni_value_truthy": (c_int, [c_void_p]),
    "omni_value_count": (c_size_t, [c_void_p]),
    "omni_value_at": (c_void_p, [c_void_p, c_size_t]),
    "omni_value_key": (c_char_p, [c_void_p, c_size_t]),
    "omni_value_get": (c_void_p, [c_void_p, c_char_p]),
    "omni_value_json": (c_int, [_P_CHARP, _P_SIZE, c_void_p]),
    "omni_helper_argc": (c_size_t, [c_void_p]),
    "omni_helper_arg": (c_void_p, [c_void_p, c_size_t]),
    "omni_helper_hash": (c_void_p, [c_void_p, c_char_p]),
    "omni_helper_hash_count": (c_size_t, [c_void_p]),
    "omni_helper_hash_key": (c_char_p, [c_void_p, c_size_t]),
    "omni_helper_hash_value": (c_void_p, [c_void_p, c_size_t]),
    "omni_helper_context": (c_void_p, [c_void_p]),
    "omni_helper_is_block": (c_int, [c_void_p]),
    "omni_helper_name": (c_char_p, [c_void_p]),
    "omni_helper_return_string": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_helper_return_safe": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_helper_return_number": (c_int, [c_void_p, c_double]),
    "omni_helper_return_bool": (c_int, [c_void_p, c_int]),
    "omni_helper_return_null": (c_int, [c_void_p]),
    "omni_helper_return_json": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_helper_append_block": (c_int, [c_void_p, c_void_p]),
    "omni_helper_append_inverse": (c_int, [c_void_p, c_void_p]),
    "omni_helper_render_block": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p]),
    "omni_helper_render_inverse": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p]),
    "omni_helper_make_value": (c_int, [POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "omni_helpers_new": (c_int, [POINTER(c_void_p)]),
    "omni_helpers_add": (c_int, [c_void_p, c_char_p, HELPER_FN, c_void_p]),
    "omni_helpers_free": (None, [c_void_p]),
    "omni_template_compile": (
        c_int,
        [POINTER(c_void_p), c_char_p, c_size_t, c_char_p, c_size_t, c_void_p],
    ),
    "omni_template_free": (None, [c_void_p]),
    "omni_template_render": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_template_render_data": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p]),
    "omni_template_inspect": (c_int, [_P_CHARP, _P_SIZE, c_void_p]),
    # channel.h
    "omni_sms_count": (
        c_int,
        [POINTER(c_int), POINTER(c_uint32), POINTER(c_uint32), c_char_p, c_size_t],
    ),
    "omni_sms_segments": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_template_validate": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_char_p, c_char_p, c_size_t],
    ),
    "omni_format_number": (c_int, [_P_CHARP, _P_SIZE, c_double, c_char_p, c_int, c_int]),
    "omni_format_currency": (c_int, [_P_CHARP, _P_SIZE, c_double, c_char_p, c_char_p]),
    "omni_format_date": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_char_p, c_char_p, c_char_p]),
    # template_store.h
    "omni_template_create": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_template_update": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_uint32],
    ),
    "omni_template_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_uint32]),
    "omni_template_delete": (c_int, [c_void_p, c_char_p]),
    "omni_template_list": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t],
    ),
    "omni_template_render_stored": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_char_p, c_char_p, c_char_p,
         c_size_t],
    ),
    # carrier.h (omni_webhook, omni_carriers, omni_inbound, omni_event_sink and the
    # adapter table are opaque pointers)
    "omni_webhook_new": (c_int, [POINTER(c_void_p), c_char_p, c_char_p]),
    "omni_webhook_free": (None, [c_void_p]),
    "omni_webhook_add_header": (c_int, [c_void_p, c_char_p, c_char_p]),
    "omni_webhook_set_body": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_webhook_from_json": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_webhook_method": (c_char_p, [c_void_p]),
    "omni_webhook_url": (c_char_p, [c_void_p]),
    "omni_webhook_header": (c_char_p, [c_void_p, c_char_p]),
    "omni_webhook_header_count": (c_size_t, [c_void_p]),
    "omni_webhook_header_name": (c_char_p, [c_void_p, c_size_t]),
    "omni_webhook_header_value": (c_char_p, [c_void_p, c_size_t]),
    "omni_webhook_body": (c_void_p, [c_void_p, _P_SIZE]),
    "omni_event_emit": (c_int, [c_void_p, c_char_p, c_size_t]),
    "omni_carrier_adapter_init": (c_int, [c_void_p, c_uint]),
    "omni_carriers_new": (c_int, [POINTER(c_void_p)]),
    "omni_carriers_register": (c_int, [c_void_p, c_void_p]),
    "omni_carriers_free": (None, [c_void_p]),
    "omni_carriers_list": (c_int, [_P_CHARP, _P_SIZE, c_void_p]),
    "omni_inbound_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t, c_void_p]),
    "omni_inbound_free": (None, [c_void_p]),
    "omni_inbound_verify": (c_int, [c_void_p, c_void_p, c_char_p, c_void_p]),
    "omni_inbound_handle": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p, c_char_p, c_void_p]),
    # identity.h
    "omni_phone_to_e164": (c_int, [c_char_p, c_size_t, c_char_p, c_size_t, c_char_p]),
    "omni_phone_parse": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_char_p]),
    "omni_phone_identity_key": (c_int, [c_char_p, c_size_t, c_char_p, c_uint]),
    "omni_identity_normalize": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_char_p, c_size_t, c_char_p],
    ),
    "omni_identity_namespace": (c_char_p, []),
    "omni_routing_set": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t]),
    "omni_routing_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_routing_delete": (c_int, [c_void_p, c_char_p]),
    "omni_customer_put": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_customer_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_identity_link": (c_int, [c_void_p, c_char_p, c_char_p]),
    "omni_identity_unlink": (c_int, [c_void_p, c_char_p]),
    "omni_identity_lookup": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t],
    ),
    # conversation.h
    "omni_conversation_next_status": (c_int, [c_int, c_int, POINTER(c_int)]),
    "omni_conversation_status_name": (c_char_p, [c_int]),
    "omni_conversation_event_name": (c_char_p, [c_int]),
    "omni_conversation_status_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "omni_conversation_event_parse": (c_int, [c_char_p, POINTER(c_int)]),
    "omni_conversation_apply": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_char_p, c_size_t, c_int64],
    ),
    "omni_conversation_step": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t],
    ),
    "omni_conversation_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_conversation_transition": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_size_t],
    ),
    "omni_conversation_history": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_size_t],
    ),
    "omni_conversation_list": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_size_t],
    ),
    "omni_conversation_delivery": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_conversation_delete": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_conversation_window": (c_int, [c_void_p, c_char_p, POINTER(c_int), _P_I64]),
    "omni_conversation_settings_set": (c_int, [c_void_p, c_char_p, c_char_p, c_size_t]),
    "omni_conversation_settings_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p]),
    "omni_dynamodb_unmarshall": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t]),
    "omni_dynamodb_stream_events": (c_int, [_P_CHARP, _P_SIZE, c_char_p, c_size_t, c_int64]),
    # rules.h, analyze.h, preroute.h
    "omni_rules_compile": (c_int, [POINTER(c_void_p), c_char_p, c_size_t, c_char_p, c_size_t]),
    "omni_rules_free": (None, [c_void_p]),
    "omni_rules_count": (c_size_t, [c_void_p]),
    "omni_rules_id": (c_char_p, [c_void_p, c_size_t]),
    "omni_rules_eval": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_int64, c_uint],
    ),
    "omni_rules_eval_data": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p, c_int64, c_uint]),
    "omni_rules_match": (
        c_int,
        [c_void_p, c_char_p, c_size_t, c_int64, POINTER(c_uint32), c_size_t, _P_SIZE],
    ),
    "omni_rules_match_data": (
        c_int,
        [c_void_p, c_void_p, c_int64, POINTER(c_uint32), c_size_t, _P_SIZE],
    ),
    "omni_analyzer_compile": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_analyzer_free": (None, [c_void_p]),
    "omni_analyze": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_analyze_text": (
        c_int,
        [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t, c_char_p, c_char_p],
    ),
    "omni_analyzer_hook_init": (c_int, [c_void_p, c_uint]),
    "omni_preroute_compile": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_preroute_free": (None, [c_void_p]),
    "omni_preroute_run": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_void_p, c_char_p, c_size_t]),
    "omni_optout_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p]),
    "omni_optout_set": (
        c_int,
        [c_void_p, c_char_p, c_char_p, c_int, c_char_p, c_char_p, POINTER(c_int)],
    ),
    # aws.h
    "omni_aws_sigv4_sign": (c_int, [c_void_p, c_void_p, c_char_p, c_char_p, c_int64, c_uint]),
    "omni_aws_sigv4_canonical": (
        c_int,
        [_P_CHARP, _P_SIZE, _P_CHARP, _P_SIZE, c_void_p, c_void_p, c_char_p, c_char_p, c_int64,
         c_uint],
    ),
    "omni_aws_sigv4_presign": (
        c_int,
        [_P_CHARP, _P_SIZE, c_char_p, c_char_p, c_void_p, c_char_p, c_char_p, c_int64, c_uint32],
    ),
    # outbound.h
    "omni_outbound_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_outbound_free": (None, [c_void_p]),
    "omni_outbound_build": (
        c_int,
        [POINTER(c_void_p), c_void_p, c_char_p, c_char_p, c_size_t, c_int64],
    ),
    "omni_outbound_parse": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_void_p, c_int64]),
}


def _candidates() -> List[str]:
    found: List[str] = []
    env = os.environ.get("OMNI_LIBRARY")
    if env:
        found.append(env)
    build = os.environ.get("OMNI_BUILD_DIR")
    if build:
        found.append(str(Path(build) / "lib" / "libomni.so.0"))
        found.append(str(Path(build) / "lib" / "libomni.so"))
    source_build = Path(__file__).resolve().parent.parent.parent.parent / "build" / "lib"
    found.append(str(source_build / "libomni.so.0"))
    system = ctypes.util.find_library("omni")
    if system:
        found.append(system)
    found.append("libomni.so.0")
    return found


class _Library:
    """The loaded library; attributes are the C functions with prototypes."""

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self._cdll = cdll
        self.path = path

    def __getattr__(self, name: str) -> Callable[..., Any]:
        proto = PROTOTYPES.get(name)
        if proto is None:
            raise AttributeError(f"libomni: no prototype declared for {name}")
        func = getattr(self._cdll, name)  # AttributeError when the symbol is missing
        func.restype = proto[0]
        func.argtypes = list(proto[1])
        setattr(self, name, func)  # cache: later lookups skip __getattr__
        result: Callable[..., Any] = func
        return result


_lock = threading.Lock()
_loaded: Optional[_Library] = None


def _load() -> _Library:
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        errors: List[str] = []
        explicit = os.environ.get("OMNI_LIBRARY")
        for cand in _candidates():
            is_path = os.sep in cand
            if is_path and not os.path.exists(cand):
                if cand == explicit:
                    raise OSError(f"OMNI_LIBRARY={cand} does not exist")
                continue
            try:
                cdll = ctypes.CDLL(cand)
            except OSError as exc:
                if cand == explicit:
                    raise
                errors.append(f"{cand}: {exc}")
                continue
            _loaded = _Library(cdll, cand)
            return _loaded
        raise OSError(
            "libomni not found (set OMNI_LIBRARY or OMNI_BUILD_DIR, or install it): "
            + "; ".join(errors)
        )


def lib() -> _Library:
    """The loaded library (loaded on first use)."""
    if _loaded is not None:
        return _loaded
    return _load()


def library_path() -> str:
    """The path or name the library was loaded from."""
    return lib().path

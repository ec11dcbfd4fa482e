"""The asynchronous transport (omni/async.h) from Python: a fan-out helper.

``AsyncTransport(options).send_all(requests)`` sends every request at once (at most
``maxConcurrent`` in flight; HTTP/2 multiplexed over one connection per host, HTTP/1.1
connections kept alive) on the transport's own libuv loop and returns, in the order of
``requests``, each one's response (a dict, as ``Transport.send`` returns it) or the
:class:`OmniError` of its failure (TIMEOUT, CONNECT_FAILED, TLS_ERROR,
RESPONSE_TOO_LARGE, TRANSPORT_ERROR, UNSUPPORTED for an smtp URL, ...). The call blocks;
ctypes releases the GIL while the loop runs and takes it back briefly for each answer, so
other Python threads keep running.

Options (dict or JSON text): maxConcurrent, maxQueued, timeoutMs, connectTimeoutMs,
maxResponseBytes, caFile, userAgent, httpVersion ("auto" | "1.1" | "2"),
maxHostConnections, retryUnanswered; bad ones raise OmniError INVALID_CONFIG with
details {"path": key}.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._errors import OmniError, call_out, check, invalid, raise_status
from ._functions import base64_encode, from_json, to_bytes, to_json
from ._handle import Handle
from ._lib import PROTOTYPES, lib

__all__ = ["AsyncTransport"]

# omni_async_cb: void cb(void *user, const omni_http_response *response, int status)
ASYNC_CB = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_int)
# omni_async_done_cb: void done(void *user)
ASYNC_DONE_CB = ctypes.CFUNCTYPE(None, c_void_p)

PROTOTYPES.update({
    "omni_async_new": (c_int, [POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "omni_async_send": (c_int, [c_void_p, c_void_p, ASYNC_CB, c_void_p]),
    "omni_async_run": (c_int, [c_void_p]),
    "omni_async_pending": (c_size_t, [c_void_p]),
    "omni_async_stats": (c_int, [c_void_p, POINTER(c_char_p), POINTER(c_size_t)]),
    "omni_async_close": (None, [c_void_p, ASYNC_DONE_CB, c_void_p]),
    "omni_async_free": (None, [c_void_p]),
})

Result = Union[Dict[str, Any], OmniError]


def _request_bytes(request: Mapping[str, Any]) -> bytes:
    if not isinstance(request, Mapping):
        raise invalid("each request must be a dict {method, url, headers?, body?, timeoutMs?}")
    req = dict(request)
    body = req.get("body")
    if isinstance(body, (bytes, bytearray, memoryview)):
        del req["body"]
        req["bodyBase64"] = base64_encode(bytes(body))
    return to_json(req)


class AsyncTransport(Handle):
    """Many HTTP requests in flight at once (libcurl multi on an own libuv loop)."""

    _kind = "async transport"
    _free = "omni_async_free"

    def __init__(self, options: Union[Mapping[str, Any], str, bytes, None] = None) -> None:
        if options is None:
            raw: Optional[bytes] = None
        elif isinstance(options, (str, bytes)):
            raw = to_bytes(options, "options")
        elif isinstance(options, Mapping):
            raw = to_json(dict(options))
        else:
            raise invalid("options must be a dict or its JSON text")
        handle = ctypes.c_void_p()
        check(lib().omni_async_new(ctypes.byref(handle), None, raw, len(raw) if raw else 0))
        self._handle = handle.value

    def send_all(self, requests: Sequence[Mapping[str, Any]]) -> List[Result]:
        """Sends the requests together; returns each one's response dict or OmniError,
        in order. An HTTP error status is a response, not an error."""
        handle = self._handle_or_raise()
        L = lib()
        items = list(requests)
        results: List[Optional[Result]] = [None] * len(items)

        def on_done(user: Optional[int], response: Optional[int], status: int) -> None:
            index = user or 0
            try:
                if status == 0:
                    results[index] = from_json(call_out(L.omni_http_response_to_json, response))
                else:
                    results[index] = raise_status(status)
            except OmniError as e:  # out of memory while copying the answer
                results[index] = e

        callback = ASYNC_CB(on_done)  # alive until run returns
        for index, request in enumerate(items):
            raw = _request_bytes(request)
            req = ctypes.c_void_p()
            rc = L.omni_http_request_from_json(ctypes.byref(req), raw, len(raw))
            if rc == 0:
                rc = L.omni_async_send(handle, req, callback, ctypes.c_void_p(index))
                err = raise_status(rc) if rc else None
                L.omni_http_request_free(req)
            else:
                err = raise_status(rc)
            if err is not None:
                results[index] = err
        check(L.omni_async_run(handle))
        out: List[Result] = []
        for r in results:
            if r is None:  # cannot happen: every accepted request gets its callback
                r = OmniError(-27, "INTERNAL_ERROR", "no answer was recorded", False, None)
            out.append(r)
        return out

    def stats(self) -> Dict[str, Any]:
        """{sent, succeeded, failed, canceled, retries, connections, inFlight, queued,
        peakInFlight}."""
        handle = self._handle_or_raise()
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_async_stats(handle, o, n))
        )
        return result

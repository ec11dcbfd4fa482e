"""OmniError, the status codes and the helpers that turn a status into an exception."""

from __future__ import annotations

import ctypes
import enum
import json
from typing import Any, Dict, Optional

from ._lib import lib

__all__ = ["OmniError", "Status", "check", "raise_status", "closed_error", "take", "call_out",
           "invalid"]


class Status(enum.IntEnum):
    """libomni status codes (omni/common.h); the numbers are part of the ABI."""

    OK = 0
    EINVAL = -1
    ENOMEM = -2
    EJSON = -3
    ETOOLARGE = -4
    ETOODEEP = -5
    ENOTFOUND = -6
    ECONFLICT = -7
    EEXISTS = -8
    ESTORAGE = -9
    ETRANSPORT = -10
    ETIMEOUT = -11
    ECONNECT = -12
    ETLS = -13
    EHOOK = -14
    EVERSION = -15
    EENCODING = -16
    ESIGNATURE = -17
    EEXPIRED = -18
    ENOTYET = -19
    EKEY = -20
    ECRYPTO = -21
    ETIME = -22
    ECONFIG = -23
    EUNSUPPORTED = -24
    ERESPONSE = -25
    EEXHAUSTED = -26
    EINTERNAL = -27
    ESYNTAX = -28
    EMISSING = -29
    EHELPER = -30
    ECARRIER = -31
    EWEBHOOK = -32
    EIDENTIFIER = -33
    EIDENTITY = -34
    EROUTING = -35
    ETRANSITION = -36
    EWINDOW = -37
    ECANCELED = -38


class OmniError(Exception):
    """A libomni call failed.

    Attributes:
        status:    the negative status (compare with :class:`Status`)
        code:      upper-case code such as ``"VERSION_CONFLICT"``
        message:   a sentence for humans (never contains secrets)
        retryable: True when retrying the same call later may succeed
        details:   structured details (parsed JSON object) or None
    """

    status: int
    code: str
    message: str
    retryable: bool
    details: Optional[Any]

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        retryable: bool = False,
        details: Optional[Any] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.details = details

    def to_dict(self) -> Dict[str, Any]:
        """The seed's WorkflowError form: code, message, retryable[, details]."""
        out: Dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.details is not None:
            out["details"] = self.details
        return out

    def __repr__(self) -> str:
        return (
            f"OmniError(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, retryable={self.retryable})"
        )


def _text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def raise_status(status: int) -> "OmniError":
    """Builds the OmniError for `status` from the calling thread's last error.

    Must be called right after the failing call, on the same thread.
    """
    L = lib()
    last = L.omni_error_last()
    if last and last.contents.status == status:
        err = last.contents
        code = _text(err.code) or _text(L.omni_status_code(status))
        message = _text(err.message) or _text(L.omni_strerror(status))
        retryable = bool(err.retryable)
        details: Optional[Any] = None
        if err.details:
            try:
                details = json.loads(err.details.decode("utf-8", "replace"))
            except ValueError:
                details = None
        return OmniError(status, code, message, retryable, details)
    # The library did not record this failure (should not happen): use the table.
    code = _text(L.omni_status_code(status))
    message = _text(L.omni_strerror(status))
    retryable = status in (Status.ENOMEM, Status.ECONFLICT, Status.ESTORAGE,
                           Status.ETRANSPORT, Status.ETIMEOUT, Status.ECONNECT,
                           Status.EROUTING)
    return OmniError(status, code, message, retryable, None)


def check(status: int) -> int:
    """Returns `status` when it is not negative, else raises the matching OmniError."""
    if status < 0:
        raise raise_status(status)
    return status


def closed_error(what: str) -> OmniError:
    """The error for using an object after close()."""
    return OmniError(int(Status.EINVAL), "INVALID_ARGUMENT", f"{what} is closed", False, None)


def take(ptr: ctypes.c_char_p, length: int) -> bytes:
    """Copies a library-allocated buffer and releases it with omni_free()."""
    addr = ctypes.cast(ptr, ctypes.c_void_p).value
    if not addr:
        return b""
    try:
        return ctypes.string_at(addr, length)
    finally:
        lib().omni_free(addr)


def call_out(func: Any, *args: Any) -> bytes:
    """Calls func(&out, &out_len, *args), raises on failure, returns the bytes of *out."""
    out = ctypes.c_char_p()
    out_len = ctypes.c_size_t()
    check(func(ctypes.byref(out), ctypes.byref(out_len), *args))
    return take(out, out_len.value)


def invalid(message: str) -> OmniError:
    """An OMNI_EINVAL error raised by the binding itself (before calling the library)."""
    return OmniError(int(Status.EINVAL), "INVALID_ARGUMENT", message, False, None)

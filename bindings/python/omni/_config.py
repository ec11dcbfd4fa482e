"""The engine configuration (omni/config.h): one JSON document for the whole inbound
workflow -- accounts and their addresses, carrier and push credentials (strings or
{"env": "NAME"}), rules, business hours, auto-responses, templates, the analyzer,
delivery, the workflow steps, storage and transport -- validated with every error
reported by JSON path.

* ``Config(doc)`` compiles a document (dict, JSON text or bytes, or a path-like to a
  file); an invalid one raises :class:`OmniError` INVALID_CONFIG whose
  ``details["errors"]`` lists ``{"path", "message", "code"}`` for every error.
* ``Config.check(doc)`` never raises for a bad document: it returns ``{"valid",
  "errors", "errorCount", "accounts", "carriers", "steps", ...}``.
* ``cfg.apply(engine)`` writes the routing records, conversation settings and
  templates into the engine's store (idempotent) and returns the counts.
* ``cfg.account(address)`` is the settings (without secrets) of the account that
  owns an address, or None.

A compiled Config is immutable: share it between threads.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p
from typing import Any, Dict, List, Mapping, Optional, Union

from ._conversation import json_arg
from ._errors import OmniError, Status, call_out, check, raise_status
from ._functions import from_json, to_cstr
from ._handle import Handle
from ._lib import PROTOTYPES, lib

__all__ = ["Config"]

PROTOTYPES.update({
    "omni_config_new": (c_int, [POINTER(c_void_p), c_char_p, c_size_t]),
    "omni_config_free": (None, [c_void_p]),
    "omni_config_check": (c_int, [POINTER(c_char_p), POINTER(c_size_t), c_char_p, c_size_t]),
    "omni_config_apply": (c_int, [POINTER(c_char_p), POINTER(c_size_t), c_void_p, c_void_p]),
    "omni_config_summary": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "omni_config_engine_json": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "omni_config_storage": (c_char_p, [c_void_p]),
    "omni_config_transport": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "omni_config_delivery": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "omni_config_inbound": (c_void_p, [c_void_p, c_char_p]),
    "omni_config_preroute": (c_void_p, [c_void_p]),
    "omni_config_outbound": (c_void_p, [c_void_p, c_char_p]),
    "omni_config_push": (c_void_p, [c_void_p, c_char_p]),
    "omni_config_account_count": (c_size_t, [c_void_p]),
    "omni_config_account_id": (c_char_p, [c_void_p, c_size_t]),
    "omni_config_account": (c_char_p, [c_void_p, c_char_p]),
    "omni_config_account_json": (c_void_p, [c_void_p, c_char_p, POINTER(c_size_t)]),
    "omni_config_workflow": (c_void_p, [c_void_p, POINTER(c_size_t)]),
    "omni_config_step_count": (c_size_t, [c_void_p]),
    "omni_config_step_id": (c_char_p, [c_void_p, c_size_t]),
    "omni_config_step": (c_void_p, [c_void_p, c_char_p, POINTER(c_size_t)]),
})

Doc = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]"]


def _doc_bytes(doc: Any) -> bytes:
    """A document: a dict, JSON text (str / bytes), or a path-like to a JSON file."""
    if isinstance(doc, os.PathLike):
        with open(doc, "rb") as f:
            return f.read()
    return json_arg(doc, "config")


def _borrowed(ptr: Optional[int], n: int) -> Optional[bytes]:
    return None if not ptr else ctypes.string_at(ptr, n)


def _last_error() -> OmniError:
    """The calling thread's last error (after an accessor returned NULL)."""
    return raise_status(int(lib().omni_error_last_status()))


class Config(Handle):
    """A compiled engine configuration (omni_config_new)."""

    _kind = "config"
    _free = "omni_config_free"

    def __init__(self, doc: Doc) -> None:
        self._handle = None
        raw = _doc_bytes(doc)
        handle = c_void_p()
        check(lib().omni_config_new(ctypes.byref(handle), raw, len(raw)))
        self._handle = handle.value

    @staticmethod
    def check(doc: Doc) -> Dict[str, Any]:
        """Validates a document without keeping it: {"valid", "errors": [{"path",
        "message", "code"}...], "errorCount", "accounts", "addresses", "templates",
        "carriers", "outbound", "push", "steps", "storage"?}. Never raises for a bad
        document (only for a missing file or an argument of the wrong type)."""
        raw = _doc_bytes(doc)
        result: Dict[str, Any] = from_json(call_out(lib().omni_config_check, raw, len(raw)))
        return result

    def _json(self, fn: str, *args: Any) -> Any:
        n = c_size_t()
        ptr = getattr(lib(), fn)(self._handle_or_raise(), *args, ctypes.byref(n))
        raw = _borrowed(ptr, n.value)
        return None if raw is None else from_json(raw)

    # ---- apply -----------------------------------------------------------------

    def apply(self, engine: Any) -> Dict[str, Any]:
        """Writes the routing record of every address, the accounts' conversation
        settings and the templates into the engine's store, only where they differ:
        {"routing": {"written", "unchanged"}, "conversationSettings": {...},
        "templates": {...}}."""
        handle = self._handle_or_raise()
        eh = engine._handle_or_raise()
        result: Dict[str, Any] = from_json(call_out(lib().omni_config_apply, handle, eh))
        return result

    # ---- accounts ----------------------------------------------------------------

    @property
    def account_ids(self) -> List[str]:
        """The accountIds in document order."""
        handle = self._handle_or_raise()
        L = lib()
        n = int(L.omni_config_account_count(handle))
        return [L.omni_config_account_id(handle, i).decode() for i in range(n)]

    def account_id(self, address: str) -> Optional[str]:
        """The accountId that owns an address (a phone number with '+', "shortcode:N",
        "mss:SID", "waba:ID", "business:ID"), or None. A string that is no address
        raises INVALID_ARGUMENT."""
        handle = self._handle_or_raise()
        L = lib()
        res = L.omni_config_account(handle, to_cstr(address, "address"))
        if res is None:
            if L.omni_error_last_status() == int(Status.ENOTFOUND):
                return None
            raise _last_error()
        return res.decode()

    def account(self, address: str) -> Optional[Dict[str, Any]]:
        """The settings (without secrets, defaults applied) of the account that owns
        an address, or None when no account has it."""
        account_id = self.account_id(address)
        return None if account_id is None else self.account_settings(account_id)

    def account_settings(self, account_id: str) -> Dict[str, Any]:
        """An account's settings by id; NOT_FOUND for an account that is not listed."""
        result = self._json("omni_config_account_json", to_cstr(account_id, "account_id"))
        if result is None:
            raise _last_error()
        settings: Dict[str, Any] = result
        return settings

    # ---- the other sections --------------------------------------------------------

    @property
    def summary(self) -> Dict[str, Any]:
        """What check() says of this (valid) document."""
        result: Dict[str, Any] = self._json("omni_config_summary")
        return result

    @property
    def engine_config(self) -> Dict[str, Any]:
        """{"storage", "transport"?}: the configuration for Engine(...)."""
        result: Dict[str, Any] = self._json("omni_config_engine_json")
        return result

    @property
    def storage(self) -> str:
        """The store URI ("memory:" by default)."""
        return bytes(lib().omni_config_storage(self._handle_or_raise())).decode()

    @property
    def transport(self) -> Optional[Dict[str, Any]]:
        """The "transport" object, or None."""
        result: Optional[Dict[str, Any]] = self._json("omni_config_transport")
        return result

    @property
    def delivery(self) -> Dict[str, Any]:
        """The delivery engine's configuration ({} when absent)."""
        result: Dict[str, Any] = self._json("omni_config_delivery")
        return result

    @property
    def workflow(self) -> Dict[str, Any]:
        """{"steps": [...]} with every default filled in."""
        result: Dict[str, Any] = self._json("omni_config_workflow")
        return result

    @property
    def steps(self) -> List[Dict[str, Any]]:
        """The workflow's steps in order."""
        steps: List[Dict[str, Any]] = self.workflow["steps"]
        return steps

    def step(self, step_id: str) -> Optional[Dict[str, Any]]:
        """A step by id, or None when the workflow has no such step."""
        result: Optional[Dict[str, Any]] = self._json("omni_config_step",
                                                      to_cstr(step_id, "step_id"))
        return result

    def engine(self, **extra: Any) -> Any:
        """A new Engine over this document's storage and transport; ``extra``
        members (clock, random, log) are added to its configuration."""
        from ._objects import Engine

        conf = dict(self.engine_config)
        conf.update(extra)
        return Engine(conf)

"""Pre-routing (omni/rules.h, omni/analyze.h, omni/preroute.h): the rule engine,
content analysis, and seed 001's workFlowPreRoute step.

* :class:`Rules` compiles a rules document (seed RoutingRule objects or
  json-rules-engine rules) once; ``eval(facts)`` gives the matched rules in
  priority order, their actions and the resolved destination; ``match(facts)``
  only the matched ids. Compiled rules are immutable: share them between threads.
* :class:`Analyzer` / :func:`analyze`: the built-in content analysis (spam,
  sentiment, intents, entities, language).
* :class:`PreRoute` compiles a pre-route configuration (accounts, rules,
  business hours, auto-responses, opt-out keywords, templates) and ``run``\\ s a
  PreRouteEvent through an engine (its clock, store and analyzer hook).
* ``Engine(analyzer=fn)`` plugs a host analyzer in front of the built-in one:
  ``fn(request: dict, builtin: dict) -> dict | None``; the members it returns
  replace the built-in result's (None keeps the built-in result). An exception
  fails the run with HOOK_FAILED carrying its message.
"""

from __future__ import annotations

import ctypes
import json
from ctypes import POINTER, Structure, c_char_p, c_int, c_size_t, c_uint, c_void_p
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from ._conversation import json_arg, ms_arg
from ._errors import OmniError, Status, call_out, check
from ._functions import from_json, to_cstr, to_json
from ._handle import Handle
from ._lib import lib

__all__ = [
    "Rules",
    "Analyzer",
    "PreRoute",
    "analyze",
    "AnalyzerFn",
]

JsonArg = Union[Mapping[str, Any], List[Any], str, bytes]
AnalyzerFn = Callable[[Dict[str, Any], Dict[str, Any]], Optional[Mapping[str, Any]]]

RULES_EXPLAIN = 1


def _doc(value: Any, what: str) -> bytes:
    """A JSON document argument: a dict or list is serialized; str/bytes are JSON text."""
    if isinstance(value, (list, tuple)):
        return to_json(list(value))
    return json_arg(value, what)


def _opt_json(value: Any, what: str) -> Optional[bytes]:
    return None if value is None else _doc(value, what)


def _now_arg(now: Any) -> int:
    """now: None (the current time), Unix ms, or an RFC 3339 string."""
    if now is None:
        return 0
    if isinstance(now, str):
        from ._functions import time_parse

        return time_parse(now)
    return ms_arg(now, "now")


class Rules(Handle):
    """A compiled rule set (omni_rules_compile).

    ``rules``: a list of rules or ``{"rules": [...]}`` (dict / JSON text).
    ``time_zone``: IANA zone of the ``time.*`` facts (default UTC).
    ``format``: "auto" (default), "routing" or "json-rules-engine".
    Raises OmniError INVALID_CONFIG whose ``details["errors"]`` lists every
    problem with its ruleId and JSON path.
    """

    _kind = "rules"
    _free = "omni_rules_free"

    def __init__(
        self, rules: JsonArg, *, time_zone: Optional[str] = None, format: Optional[str] = None
    ) -> None:
        self._handle = None
        raw = _doc(rules, "rules")
        opts: Dict[str, Any] = {}
        if time_zone is not None:
            opts["timeZone"] = time_zone
        if format is not None:
            opts["format"] = format
        ropts = json.dumps(opts).encode() if opts else None
        handle = c_void_p()
        check(
            lib().omni_rules_compile(
                ctypes.byref(handle), raw, len(raw), ropts, len(ropts) if ropts else 0
            )
        )
        self._handle = handle.value

    def __len__(self) -> int:
        return int(lib().omni_rules_count(self._handle_or_raise()))

    @property
    def ids(self) -> List[str]:
        """The rule ids in document order."""
        handle = self._handle_or_raise()
        L = lib()
        return [L.omni_rules_id(handle, i).decode() for i in range(len(self))]

    def eval(self, facts: Any, *, now: Any = None, explain: bool = False) -> Dict[str, Any]:
        """Evaluates one facts object (dict, JSON text, or a parsed omni.Data):
        {"matched", "actions", "destination", "tags", "priority", "block",
        "escalate", "autoRespond", "stoppedBy"[, "explain"]}."""
        from ._template import Data

        handle = self._handle_or_raise()
        flags = RULES_EXPLAIN if explain else 0
        t = _now_arg(now)
        if isinstance(facts, Data):
            dh = facts._acquire()
            try:
                raw = call_out(lambda o, n: lib().omni_rules_eval_data(o, n, handle, dh, t, flags))
            finally:
                facts._release()
        else:
            doc = json_arg(facts, "facts")
            raw = call_out(
                lambda o, n: lib().omni_rules_eval(o, n, handle, doc, len(doc), t, flags)
            )
        result: Dict[str, Any] = from_json(raw)
        return result

    def match(self, facts: Any, *, now: Any = None) -> List[str]:
        """Only the ids of the matching rules, in match order (no JSON is built)."""
        from ._template import Data

        handle = self._handle_or_raise()
        t = _now_arg(now)
        L = lib()
        cap = max(len(self), 1)
        idx = (ctypes.c_uint32 * cap)()
        count = c_size_t()
        if isinstance(facts, Data):
            dh = facts._acquire()
            try:
                check(L.omni_rules_match_data(handle, dh, t, idx, cap, ctypes.byref(count)))
            finally:
                facts._release()
        else:
            doc = json_arg(facts, "facts")
            check(L.omni_rules_match(handle, doc, len(doc), t, idx, cap, ctypes.byref(count)))
        return [L.omni_rules_id(handle, idx[i]).decode() for i in range(count.value)]


class Analyzer(Handle):
    """The built-in content analyzer with a configuration (omni_analyzer_compile);
    None: the defaults."""

    _kind = "analyzer"
    _free = "omni_analyzer_free"

    def __init__(self, config: Optional[JsonArg] = None) -> None:
        self._handle = None
        raw = _opt_json(config, "config")
        handle = c_void_p()
        check(
            lib().omni_analyzer_compile(ctypes.byref(handle), raw, len(raw) if raw else 0)
        )
        self._handle = handle.value

    def analyze(
        self,
        content: Optional[str] = None,
        *,
        request: Optional[JsonArg] = None,
        language: Optional[str] = None,
        sender: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Analyzes a text (with an optional language hint and sender), or a whole
        request {"content", "contentType", "language", "sender"}."""
        return _analyze(self._handle_or_raise(), content, request, language, sender)


def _analyze(
    handle: Optional[int],
    content: Optional[str],
    request: Optional[JsonArg],
    language: Optional[str],
    sender: Optional[str],
) -> Dict[str, Any]:
    L = lib()
    if request is not None:
        if content is not None or language is not None or sender is not None:
            raise OmniError(
                int(Status.EINVAL), "INVALID_ARGUMENT",
                "give either content (with language / sender) or request", False, None,
            )
        raw = json_arg(request, "request")
        out = call_out(lambda o, n: L.omni_analyze(o, n, handle, raw, len(raw)))
    else:
        if content is None:
            raise OmniError(
                int(Status.EINVAL), "INVALID_ARGUMENT", "content is required", False, None
            )
        text = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        lang = to_cstr(language, "language") if language is not None else None
        snd = to_cstr(sender, "sender") if sender is not None else None
        out = call_out(lambda o, n: L.omni_analyze_text(o, n, handle, text, len(text), lang, snd))
    result: Dict[str, Any] = from_json(out)
    return result


def analyze(
    content: Optional[str] = None,
    *,
    request: Optional[JsonArg] = None,
    language: Optional[str] = None,
    sender: Optional[str] = None,
) -> Dict[str, Any]:
    """The built-in content analysis with the default configuration."""
    return _analyze(None, content, request, language, sender)


class PreRoute(Handle):
    """A compiled pre-route configuration (omni_preroute_compile); see
    omni/preroute.h for its members. Raises INVALID_CONFIG with the JSON path."""

    _kind = "preroute"
    _free = "omni_preroute_free"

    def __init__(self, config: JsonArg) -> None:
        self._handle = None
        raw = json_arg(config, "config")
        handle = c_void_p()
        check(lib().omni_preroute_compile(ctypes.byref(handle), raw, len(raw)))
        self._handle = handle.value

    def run(self, engine: Any, event: JsonArg) -> Dict[str, Any]:
        """Pre-routes one PreRouteEvent with the engine's clock, store and analyzer
        hook; returns the PreRouteResult."""
        handle = self._handle_or_raise()
        eh = engine._handle_or_raise()
        raw = json_arg(event, "event")
        result: Dict[str, Any] = from_json(
            call_out(lambda o, n: lib().omni_preroute_run(o, n, eh, handle, raw, len(raw)))
        )
        return result


# ---- the analyzer hook (omni_hooks.analyzer) ---------------------------------------

ANALYZER_FN = ctypes.CFUNCTYPE(
    c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, POINTER(c_void_p), POINTER(c_size_t)
)


class _AnalyzerHook(Structure):
    _fields_ = [("version", c_uint), ("ctx", c_void_p), ("analyze", ANALYZER_FN)]


class _Hooks(Structure):
    """omni_hooks version 2; only the analyzer is set from Python."""

    _fields_ = [
        ("version", c_uint),
        ("ctx", c_void_p),
        ("storage", c_void_p),
        ("transport", c_void_p),
        ("clock", c_void_p),
        ("random", c_void_p),
        ("log", c_void_p),
        ("metrics", c_void_p),
        ("analyzer", POINTER(_AnalyzerHook)),
    ]


def analyzer_hooks(fn: AnalyzerFn) -> Tuple[Any, Tuple[Any, ...]]:
    """The omni_hooks table for Engine(analyzer=fn) and the objects that must stay
    alive as long as the engine (the ctypes trampoline and tables)."""
    if not callable(fn):
        raise OmniError(
            int(Status.EINVAL), "INVALID_ARGUMENT", "analyzer must be callable", False, None
        )
    L = lib()

    def trampoline(ctx, req, req_len, builtin, builtin_len, out, out_len):  # type: ignore
        try:
            request = json.loads(ctypes.string_at(req, req_len))
            base = json.loads(ctypes.string_at(builtin, builtin_len))
            answer = fn(request, base)
            if answer is None:
                out[0] = None
                out_len[0] = 0
                return 0
            if not isinstance(answer, Mapping):
                raise TypeError(f"analyzer returned {type(answer).__name__}, not a dict or None")
            data = json.dumps(answer, ensure_ascii=False, allow_nan=False).encode()
            buf = L.omni_malloc(len(data) + 1)
            if not buf:
                return int(Status.ENOMEM)
            ctypes.memmove(buf, data, len(data))
            out[0] = buf
            out_len[0] = len(data)
            return 0
        except BaseException as exc:  # reported through the library as HOOK_FAILED
            message = f"analyzer hook raised {type(exc).__name__}: {exc}"
            return int(L.omni_error_set(int(Status.EHOOK), message.encode()[:1000], 0))

    cb = ANALYZER_FN(trampoline)
    hook = _AnalyzerHook(1, None, cb)
    hooks = _Hooks()
    hooks.version = 2
    hooks.analyzer = ctypes.pointer(hook)
    return hooks, (cb, hook, hooks)

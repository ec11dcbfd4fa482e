"""Templates (omni/template.h): Template, Data, host helpers written in Python.

A :class:`Template` is compiled once and rendered many times, from any
number of threads at once. Host helpers are Python callables registered by
name; the library calls them synchronously on the rendering thread (the
ctypes trampoline takes the GIL for the duration of the call).

Helper calling convention
-------------------------

``helpers={"shout": fn}`` registers ``fn`` for ``{{shout a b key=c}}``,
``{{#shout ...}}...{{else}}...{{/shout}}`` and ``(shout ...)``. It is called
as ``fn(*args, **hash)``: positional arguments and hash arguments converted
to Python values (JSON types: ``str``, ``int``/``float``, ``bool``, ``None``
for null and for undefined, ``dict``, ``list``).

A helper that declares a parameter named ``options`` (keyword-only, or an
ordinary parameter) also gets ``options=`` a :class:`HelperOptions`: the
helper's name, ``is_block``, ``hash`` (dict), ``context`` (the current
context, ``this``) and, for block calls, ``fn(context=None)`` and
``inverse(context=None)`` that render the block body / the ``{{else}}``
part and return the text (``None``: the current context). A hash argument
named ``options`` is then an error. ``options`` is valid only during the
call.

The return value is the helper's result:

* ``str``: HTML-escaped by ``{{...}}`` in the template's escape mode;
* :class:`SafeString` (or any object with ``__html__``, such as
  markupsafe's ``Markup``): inserted as it is;
* ``int``/``float``/``bool``/``None``/``dict``/``list``: that JSON value (so
  ``{{#if (isVip user)}}`` works with a helper that returns a bool);
* anything else fails the render with HELPER_ERROR.

A helper that raises fails the whole render with :class:`OmniError` code
``HELPER_ERROR`` whose message contains the exception's message; the
exception is kept as ``__cause__``. ``KeyboardInterrupt`` and ``SystemExit``
raised by a helper end the render and are re-raised as they are.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import inspect
import json
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from ._errors import OmniError, Status, call_out, check, closed_error, invalid, raise_status
from ._functions import from_json, time_format, to_bytes, to_cstr, to_json
from ._lib import HELPER_FN, lib

__all__ = [
    "MAX_NESTED_RENDERS",
    "Data",
    "HelperOptions",
    "SafeString",
    "Template",
    "format_currency",
    "format_date",
    "format_number",
    "sms_count",
    "sms_segments",
    "template_validate",
]

_VALUE_UNDEFINED, _VALUE_NULL, _VALUE_BOOL, _VALUE_NUMBER, _VALUE_STRING = 0, 1, 2, 3, 4

MAX_NESTED_RENDERS = 64
"""How deep renders may nest on one thread (a helper rendering a template whose helper
renders a template ...): deeper is NESTING_TOO_DEEP, never a stack overflow."""

DataLike = Union["Data", Mapping[str, Any], List[Any], str, bytes, None]
"""Render data: a Data, a JSON-serializable value, or JSON text (str/bytes)."""


class SafeString(str):
    """A helper result that ``{{...}}`` inserts without escaping (handlebars' SafeString)."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


# ---- handles whose release waits for the calls using them ---------------------------


class _Guarded:
    """An owned C handle that close() releases only once no call is using it.

    Calls run between _acquire() and _release(); close() from another thread
    or from inside a helper during a render marks the object closed at once
    and releases the handle when the last call ends.
    """

    _what = "object"

    def __init__(self) -> None:
        self._handle: Optional[int] = None
        self._guard = threading.Lock()
        self._busy = 0
        self._closing = False

    def _acquire(self) -> int:
        with self._guard:
            if not self._handle or self._closing:
                raise closed_error(self._what)
            self._busy += 1
            return self._handle

    def _release(self) -> None:
        handle = None
        with self._guard:
            self._busy -= 1
            if self._busy == 0 and self._closing:
                handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def _free(self, handle: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return not self._handle or self._closing

    def close(self) -> None:
        """Releases the handle (after the calls in progress). Idempotent."""
        guard = getattr(self, "_guard", None)
        if guard is None:  # __init__ failed early
            return
        handle = None
        with guard:
            if self._handle and not self._closing:
                self._closing = True
                if self._busy == 0:
                    handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _data_json(data: Any, what: str = "data") -> bytes:
    if isinstance(data, (str, bytes, bytearray, memoryview)):
        return to_bytes(data, what)
    return to_json(data)


class Data(_Guarded):
    """Render data parsed once (omni_data): reusable with any template, from any thread.

    ``Data(obj)`` serializes a JSON-serializable value; ``Data(text)`` parses
    JSON text (str or bytes).
    """

    _what = "data"

    def __init__(self, obj_or_json: Any) -> None:
        super().__init__()
        raw = _data_json(obj_or_json)
        handle = ctypes.c_void_p()
        check(lib().omni_data_parse(ctypes.byref(handle), raw, len(raw)))
        self._handle = handle.value

    def _free(self, handle: int) -> None:
        lib().omni_data_free(handle)

    def to_python(self) -> Any:
        """The document as Python values."""
        handle = self._acquire()
        try:
            return _value_to_python(lib().omni_data_root(handle))
        finally:
            self._release()

    def __enter__(self) -> "Data":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<omni.Data {'closed' if self.closed else 'open'}>"


# ---- values ---------------------------------------------------------------------------


def _value_to_python(v: Optional[int]) -> Any:
    """An omni_value (borrowed pointer) as a Python value; undefined is None."""
    if not v:
        return None
    L = lib()
    kind = L.omni_value_type(v)
    if kind <= _VALUE_NULL:
        return None
    if kind == _VALUE_BOOL:
        return bool(L.omni_value_truthy(v))
    if kind == _VALUE_NUMBER:
        num = float(L.omni_value_number(v))
        # JSON integers come back as ints, as json.loads gives them
        if num.is_integer() and abs(num) <= 2**53:
            return int(num)
        return num
    if kind == _VALUE_STRING:
        n = ctypes.c_size_t(0)
        addr = L.omni_value_string(v, ctypes.byref(n))
        return ctypes.string_at(addr, n.value).decode("utf-8", "replace") if addr else ""
    return from_json(call_out(L.omni_value_json, v))


class HelperOptions:
    """What a block-aware helper gets as ``options`` (valid during the call only)."""

    __slots__ = ("name", "is_block", "hash", "_call", "_state")

    def __init__(self, call: int, name: str, is_block: bool, hash: Dict[str, Any],
                 state: "_CallState") -> None:
        self.name = name
        self.is_block = is_block
        self.hash = hash
        self._call: Optional[int] = call
        self._state = state

    def _live(self) -> int:
        if not self._call:
            raise invalid(f"options of helper {self.name!r} used after the helper returned")
        return self._call

    @property
    def context(self) -> Any:
        """The current context (``this``) as Python values."""
        return _value_to_python(lib().omni_helper_context(self._live()))

    def _render(self, func: Any, context: Any) -> str:
        call = self._live()
        L = lib()
        ctx = None
        if context is not None:
            raw = to_json(context)
            value = ctypes.c_void_p()
            check(L.omni_helper_make_value(ctypes.byref(value), call, raw, len(raw)))
            ctx = value.value
        out = ctypes.c_char_p()
        out_len = ctypes.c_size_t()
        rc = func(ctypes.byref(out), ctypes.byref(out_len), call, ctx)
        if rc < 0:
            if self.is_block:
                # the body failed: so does the render, with the body's error
                self._state.body_status = rc
            raise raise_status(rc)
        addr = ctypes.cast(out, ctypes.c_void_p).value
        try:
            return ctypes.string_at(addr, out_len.value).decode("utf-8") if addr else ""
        finally:
            if addr:
                L.omni_free(addr)

    def fn(self, context: Any = None) -> str:
        """Renders the block body with `context` (None: the current one); handlebars'
        options.fn(ctx)."""
        return self._render(lib().omni_helper_render_block, context)

    def inverse(self, context: Any = None) -> str:
        """Renders the {{else}} part with `context` (None: the current one)."""
        return self._render(lib().omni_helper_render_inverse, context)

    def __repr__(self) -> str:
        return f"<omni.HelperOptions {self.name!r} block={self.is_block}>"


class _CallState:
    """Per-render, per-thread state shared between render() and the trampoline."""

    __slots__ = ("exc", "body_status", "depth")

    def __init__(self, depth: int = 1) -> None:
        self.exc: Optional[BaseException] = None
        self.body_status = 0
        self.depth = depth


_tls = threading.local()


def _set_result(L: Any, call: int, result: Any) -> int:
    html = getattr(result, "__html__", None)
    if html is not None and callable(html):
        raw = str(html()).encode("utf-8")
        return int(L.omni_helper_return_safe(call, raw, len(raw)))
    if isinstance(result, str):
        raw = result.encode("utf-8")
        return int(L.omni_helper_return_string(call, raw, len(raw)))
    if result is None:
        return int(L.omni_helper_return_null(call))
    if isinstance(result, bool):
        return int(L.omni_helper_return_bool(call, 1 if result else 0))
    if isinstance(result, (int, float)):
        return int(L.omni_helper_return_number(call, float(result)))
    if isinstance(result, (dict, list, tuple)):
        raw = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return int(L.omni_helper_return_json(call, raw, len(raw)))
    raise TypeError(
        f"a helper must return str, SafeString, int, float, bool, None, dict or list, "
        f"not {type(result).__name__}"
    )


def _wants_options(fn: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    param = sig.parameters.get("options")
    return param is not None and param.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


def _make_trampoline(slots: List[Tuple[Callable[..., Any], bool]]) -> Any:
    def trampoline(ctx: Optional[int], call: Optional[int]) -> int:
        state: Optional[_CallState] = getattr(_tls, "state", None)
        options: Optional[HelperOptions] = None
        try:
            L = lib()
            fn, wants = slots[(ctx or 0) - 1]
            args = [_value_to_python(L.omni_helper_arg(call, i))
                    for i in range(L.omni_helper_argc(call))]
            hash_: Dict[str, Any] = {}
            for i in range(L.omni_helper_hash_count(call)):
                key = L.omni_helper_hash_key(call, i).decode("utf-8")
                hash_[key] = _value_to_python(L.omni_helper_hash_value(call, i))
            if wants:
                if "options" in hash_:
                    raise TypeError("hash argument 'options' clashes with the helper's "
                                    "options parameter")
                name = (L.omni_helper_name(call) or b"").decode("utf-8")
                options = HelperOptions(call or 0, name, bool(L.omni_helper_is_block(call)),
                                        dict(hash_), state or _CallState())
                result = fn(*args, options=options, **hash_)
            else:
                result = fn(*args, **hash_)
            rc = _set_result(L, call or 0, result)
            if rc < 0:
                return rc
            return 0
        except BaseException as exc:  # never let an exception cross into C
            if state is not None:
                state.exc = exc
                if state.body_status:
                    return state.body_status  # the body's error stands
            if isinstance(exc, OmniError):
                message = exc.message
            else:
                message = str(exc) if isinstance(exc, Exception) else ""
            if not message:
                message = type(exc).__name__
            try:
                return int(lib().omni_error_set(int(Status.EHELPER),
                                                message.encode("utf-8", "replace"), 0))
            except BaseException:
                return int(Status.EHELPER)
        finally:
            if options is not None:
                options._call = None
    return HELPER_FN(trampoline)


# ---- Template ---------------------------------------------------------------------------


class Template(_Guarded):
    """A compiled template (omni_template_compile), immutable and thread-safe.

    ``mode``: "handlebars" (default) or "mustache"; ``escape``: what
    ``{{x}}`` does, "html" (default), "none" or "json"; ``strict``: a missing
    variable fails the render with MISSING_VARIABLE (details {"missing":
    [...]}); ``partials``: {name: source}; ``helpers``: {name: callable}
    (see the module documentation); ``locale`` / ``time_zone``: defaults for
    formatNumber / formatCurrency / formatDate; ``include_zero``:
    handlebars' ``#if`` treats 0 as true.
    """

    _what = "template"

    def __init__(
        self,
        source: Union[str, bytes],
        partials: Optional[Mapping[str, str]] = None,
        helpers: Optional[Mapping[str, Callable[..., Any]]] = None,
        mode: str = "handlebars",
        escape: str = "html",
        strict: bool = False,
        locale: Optional[str] = None,
        time_zone: Optional[str] = None,
        include_zero: bool = False,
    ) -> None:
        super().__init__()
        raw = to_bytes(source, "source")
        opts: Dict[str, Any] = {"mode": mode, "escape": escape, "strict": bool(strict),
                                "includeZero": bool(include_zero)}
        if partials:
            opts["partials"] = {str(k): v for k, v in partials.items()}
        if locale is not None:
            opts["locale"] = locale
        if time_zone is not None:
            opts["timeZone"] = time_zone
        ropts = to_json(opts)
        self._slots: List[Tuple[Callable[..., Any], bool]] = []
        # the ctypes callback object must live as long as the template: kept here
        self._trampoline: Any = None
        L = lib()
        registry = None
        if helpers:
            self._trampoline = _make_trampoline(self._slots)
            reg = ctypes.c_void_p()
            check(L.omni_helpers_new(ctypes.byref(reg)))
            registry = reg.value
        try:
            for name, fn in (helpers or {}).items():
                if not callable(fn):
                    raise TypeError(f"helper {name!r} is not callable")
                self._slots.append((fn, _wants_options(fn)))
                check(L.omni_helpers_add(registry, to_cstr(name, "helper name"),
                                         self._trampoline, len(self._slots)))
            handle = ctypes.c_void_p()
            check(L.omni_template_compile(ctypes.byref(handle), raw, len(raw), ropts,
                                          len(ropts), registry))
            self._handle = handle.value
        finally:
            if registry:
                L.omni_helpers_free(registry)

    def _free(self, handle: int) -> None:
        lib().omni_template_free(handle)

    def render(self, data: DataLike = None) -> str:
        """Renders with `data`: a :class:`Data`, a JSON-serializable value, JSON text
        (str or bytes), or None for {}."""
        handle = self._acquire()
        try:
            return self._render(handle, data)
        finally:
            self._release()

    def _render(self, handle: int, data: DataLike) -> str:
        L = lib()
        out = ctypes.c_char_p()
        out_len = ctypes.c_size_t()
        saved: Optional[_CallState] = getattr(_tls, "state", None)
        state = _CallState(saved.depth + 1 if saved is not None else 1)
        if state.depth > MAX_NESTED_RENDERS:
            raise OmniError(int(Status.ETOODEEP), "NESTING_TOO_DEEP",
                            f"template renders nest deeper than {MAX_NESTED_RENDERS} "
                            "(a helper rendering templates)", False, None)
        _tls.state = state
        try:
            if isinstance(data, Data):
                dh = data._acquire()
                try:
                    rc = L.omni_template_render_data(ctypes.byref(out), ctypes.byref(out_len),
                                                     handle, dh)
                finally:
                    data._release()
            else:
                raw = b"" if data is None else _data_json(data)
                rc = L.omni_template_render(ctypes.byref(out), ctypes.byref(out_len), handle,
                                            raw, len(raw))
        finally:
            _tls.state = saved
        if rc < 0:
            exc = state.exc
            if exc is not None and not isinstance(exc, Exception):
                raise exc  # KeyboardInterrupt, SystemExit: as they are
            err = raise_status(rc)
            if rc == Status.EHELPER and exc is not None:
                raise err from exc
            raise err
        addr = ctypes.cast(out, ctypes.c_void_p).value
        try:
            return ctypes.string_at(addr, out_len.value).decode("utf-8") if addr else ""
        finally:
            if addr:
                L.omni_free(addr)

    def inspect(self) -> Dict[str, Any]:
        """{"variables": [...], "helpers": [...], "partials": [...]}: what the template reads."""
        handle = self._acquire()
        try:
            result: Dict[str, Any] = from_json(call_out(lib().omni_template_inspect, handle))
            return result
        finally:
            self._release()

    def __call__(self, data: DataLike = None) -> str:
        return self.render(data)

    def __enter__(self) -> "Template":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<omni.Template {'closed' if self.closed else 'open'}>"


# ---- channel.h ----------------------------------------------------------------------------

_SMS_ENCODINGS = {1: "GSM-7", 2: "UCS-2"}


def sms_segments(text: Union[str, bytes]) -> Dict[str, Any]:
    """{"encoding": "GSM-7"|"UCS-2", "segments": N, "units": N, "parts": [...]}."""
    raw = to_bytes(text, "text")
    result: Dict[str, Any] = from_json(call_out(lib().omni_sms_segments, raw, len(raw)))
    return result


def sms_count(text: Union[str, bytes]) -> Tuple[str, int, int]:
    """(encoding "GSM-7"|"UCS-2", segments, units) of an SMS body."""
    raw = to_bytes(text, "text")
    enc = ctypes.c_int(0)
    segs = ctypes.c_uint32(0)
    units = ctypes.c_uint32(0)
    check(lib().omni_sms_count(ctypes.byref(enc), ctypes.byref(segs), ctypes.byref(units), raw,
                               len(raw)))
    return _SMS_ENCODINGS.get(enc.value, str(enc.value)), int(segs.value), int(units.value)


def template_validate(
    template: Union[str, bytes, Mapping[str, Any]],
    channel: str,
    data: Any = None,
    max_sms_segments: Optional[int] = None,
    whatsapp_parameters: Optional[int] = None,
    locale: Optional[str] = None,
) -> Dict[str, Any]:
    """Validates a template for "sms", "email", "whatsapp" or "push".

    `template` is a NotificationTemplate (a dict, or its JSON text) or a bare
    body (str); `data` the sample data (a dict or its JSON text). Returns
    {"valid", "channel", "findings": [...], "sms"?, "push"?}.
    """
    if isinstance(template, Mapping):
        raw = to_json(dict(template))
    else:
        raw = to_bytes(template, "template")
    rchannel = to_cstr(channel, "channel")
    opts: Dict[str, Any] = {}
    if isinstance(data, (str, bytes)):
        data = json.loads(data)  # JSON text
    if data is not None:
        opts["data"] = data
    if max_sms_segments is not None:
        opts["maxSmsSegments"] = max_sms_segments
    if whatsapp_parameters is not None:
        opts["whatsappParameters"] = whatsapp_parameters
    if locale is not None:
        opts["locale"] = locale
    ropts = to_json(opts) if opts else None
    result: Dict[str, Any] = from_json(
        call_out(lib().omni_template_validate, raw, len(raw), rchannel, ropts,
                 len(ropts) if ropts else 0)
    )
    return result


def _opt_cstr(value: Optional[str], what: str) -> Optional[bytes]:
    return None if value is None else to_cstr(value, what)


def format_number(
    value: float,
    locale: Optional[str] = None,
    min_fraction: Optional[int] = None,
    max_fraction: Optional[int] = None,
) -> str:
    """Intl.NumberFormat(locale, {minimumFractionDigits, maximumFractionDigits}).format(value)
    for the built-in locales (None: Intl's defaults)."""
    mn = -1 if min_fraction is None else int(min_fraction)
    mx = -1 if max_fraction is None else int(max_fraction)
    if not -1 <= mn <= 1000 or not -1 <= mx <= 1000:
        raise invalid("fraction digits are 0..20 (None: Intl's default)")
    return call_out(lib().omni_format_number, float(value), _opt_cstr(locale, "locale"), mn,
                    mx).decode("utf-8")


def format_currency(value: float, code: str, locale: Optional[str] = None) -> str:
    """Intl.NumberFormat(locale, {style: "currency", currency: code}).format(value)."""
    return call_out(lib().omni_format_currency, float(value), to_cstr(code, "code"),
                    _opt_cstr(locale, "locale")).decode("utf-8")


def format_date(
    value: Union[str, bytes, _dt.datetime, int],
    pattern: Optional[str] = None,
    time_zone: Optional[str] = None,
    locale: Optional[str] = None,
) -> str:
    """Formats a time (RFC 3339 text, an aware datetime, or Unix ms) with a style
    ("short", "medium" (default), "long", "full") or a pattern ("d MMM yyyy h:mm a"),
    in `time_zone` (IANA name; default UTC) and `locale`."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise invalid("format_date: a naive datetime has no time zone; attach tzinfo")
        text = value.isoformat().encode("ascii")
    elif isinstance(value, bool):
        raise TypeError("format_date: value must be RFC 3339 text, a datetime or Unix ms")
    elif isinstance(value, int):
        text = time_format(value).encode("ascii")
    else:
        text = to_cstr(value, "value")
    return call_out(lib().omni_format_date, text, _opt_cstr(pattern, "pattern"),
                    _opt_cstr(time_zone, "time_zone"), _opt_cstr(locale, "locale")
                    ).decode("utf-8")


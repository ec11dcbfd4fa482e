"""The life cycle shared by the objects that wrap a libomni handle."""

from __future__ import annotations

from typing import Any, Optional, TypeVar

from ._errors import closed_error
from ._lib import lib

_H = TypeVar("_H", bound="Handle")


class Handle:
    """A libomni object behind a C handle. close() (or the garbage collector)
    releases it once with the library's ``_free`` function; a borrowed object
    (``_owner`` set, e.g. an engine's store) is never freed here and counts as
    closed once its owner is."""

    _kind = "object"  # in "... is closed" errors: "engine", "store", ...
    _free = ""  # the omni_*_free function of this kind
    _handle: Optional[int] = None
    _owner: Optional["Handle"] = None

    @property
    def closed(self) -> bool:
        return not self._handle or (self._owner is not None and self._owner.closed)

    def _handle_or_raise(self) -> int:
        if self.closed or not self._handle:
            raise closed_error(self._kind)
        return self._handle

    def close(self) -> None:
        """Releases the object (an owned one; a borrowed one is detached). Idempotent."""
        handle, self._handle = self._handle, None
        if handle and self._owner is None:
            getattr(lib(), self._free)(handle)
        self._owner = None

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible to do
            pass

    def __repr__(self) -> str:
        return f"<omni.{type(self).__name__} {'closed' if self.closed else 'open'}>"

"""The push device registry (omni/push.h): C prototypes for the Engine methods
device_register / device_get / device_remove / device_list (in _objects.py)."""

from __future__ import annotations

from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p

from ._lib import PROTOTYPES

_P_CHARP = POINTER(c_char_p)
_P_SIZE = POINTER(c_size_t)

PROTOTYPES.update({
    "omni_device_register": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_size_t]),
    "omni_device_get": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p]),
    "omni_device_remove": (c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_char_p]),
    "omni_device_list": (
        c_int, [_P_CHARP, _P_SIZE, c_void_p, c_char_p, c_char_p, c_char_p, c_size_t]),
})

"""Version, limits, status strings and the error object."""

import threading

import pytest

import omni


def test_version_matches_header() -> None:
    assert omni.version() == "0.1.0"
    assert omni.version_number() == 100
    assert omni.__version__ == "0.1.0"


def test_library_is_loaded_from_a_path() -> None:
    assert "libomni" in omni.library_path()


def test_limits() -> None:
    # Values from omni/omni.h, omni/hooks.h, omni/http.h, omni/crypto.h, omni/encoding.h.
    assert omni.limit(omni.Limit.JSON_BYTES) == 4 * 1024 * 1024
    assert omni.limit(omni.Limit.JSON_DEPTH) == 64
    assert omni.limit("store_ns") == 64
    assert omni.limit(omni.Limit.STORE_KEY) == 1024
    assert omni.limit(omni.Limit.JWT_BYTES) == 64 * 1024
    assert omni.limit(omni.Limit.CODEC_BYTES) == 64 * 1024 * 1024
    assert omni.limit(999) == 0
    assert omni.limit("nope") == 0
    assert omni.LIMITS["HTTP_HEADERS"] == 128
    assert set(omni.LIMITS) == {item.name for item in omni.Limit}


def test_strerror_and_codes() -> None:
    assert omni.strerror(0) == "success"
    assert omni.strerror(omni.Status.EINVAL) == "invalid argument"
    assert omni.status_code(omni.Status.ECONFLICT) == "VERSION_CONFLICT"
    assert omni.status_code(-1000) == "UNKNOWN_ERROR"
    # The enum mirrors the C table for every code.
    for status in omni.Status:
        assert omni.status_code(status) != "UNKNOWN_ERROR"


def test_error_fields_come_from_the_library() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.base64_decode("Zm9v!A==")
    err: omni.OmniError = info.value
    assert isinstance(info.value, Exception)
    assert err.status == omni.Status.EENCODING
    assert err.code == "INVALID_ENCODING"
    assert err.retryable is False
    assert err.message and "4" in err.message  # names the byte offset
    assert err.to_dict()["code"] == "INVALID_ENCODING"
    assert "INVALID_ENCODING" in str(err)


def test_errors_are_per_thread() -> None:
    results = {}

    def worker() -> None:
        try:
            omni.time_parse("not a time")
        except omni.OmniError as exc:
            results["thread"] = exc.code

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    with pytest.raises(omni.OmniError) as info:
        omni.base64url_decode("a+b")
    assert results["thread"] == "INVALID_TIMESTAMP"
    assert info.value.code == "INVALID_ENCODING"


def test_engine_config_error_has_details() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Engine({"bogus": 1})
    assert info.value.code == "INVALID_CONFIG"
    assert info.value.details == {"path": "bogus"}
    with pytest.raises(omni.OmniError) as info:
        omni.Engine("{not json")
    assert info.value.code == "INVALID_JSON"


def test_every_public_function_has_a_prototype() -> None:
    # The functions of the headers these bindings cover (omni/common.h ... omni/uuid.h,
    # omni/carrier.h, omni/identity.h, omni/conversation.h; templates: test_template.py):
    # each one is declared in omni._lib with argtypes/restype and exported by the library.
    import os
    import re

    from omni import _lib

    include = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni")
    names = set()
    for header in ["common", "omni", "hooks", "store", "http", "encoding", "crypto",
                   "datetime", "uuid", "carrier", "identity", "conversation"]:
        with open(os.path.join(include, header + ".h"), encoding="utf-8") as f:
            text = f.read()
        names |= set(re.findall(r"OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(", text))
    assert len(names) > 125
    assert sorted(names - set(_lib.PROTOTYPES)) == []
    for name in _lib.PROTOTYPES:
        func = getattr(_lib.lib(), name)  # AttributeError when not exported
        assert func.argtypes is not None


def test_status_enum_matches_common_h() -> None:
    import os
    import re

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni",
                        "common.h")
    with open(path, encoding="utf-8") as f:
        rows = re.findall(r'XX\((\w+), (-?\d+), "(\w+)"', f.read())
    assert len(rows) >= 28
    assert {name: int(value) for name, value, _ in rows} == {s.name: int(s) for s in omni.Status}
    for name, value, code in rows:
        assert omni.status_code(int(value)) == code

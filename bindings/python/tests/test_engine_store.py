"""Engine (clock, random, store) and the key/value store with compare-and-swap."""

import gc
from typing import Any, List

import pytest

import omni

FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}
FIXED_MS = 1767225600000


def test_engine_deterministic_clock_and_random() -> None:
    with omni.Engine(FIXED) as e1:
        assert e1.now_ms() == FIXED_MS
        assert e1.now_ms() == FIXED_MS  # frozen
        r1 = e1.random(40)
        assert len(r1) == 40
        assert e1.random(0) == b""
    with omni.Engine('{"clock":{"fixed":"2026-01-01T00:00:00Z"},"random":{"seed":1}}') as e2:
        assert e2.random(40) == r1
    with omni.Engine({"random": {"seed": 7}}) as e3:
        assert e3.random(40) != r1


def test_engine_defaults() -> None:
    import time

    with omni.Engine() as e:
        assert abs(e.now_ms() - time.time() * 1000) < 5000
        assert e.random(16) != e.random(16)
        assert e.transport is None  # default "none"


def test_engine_close_is_idempotent_and_safe() -> None:
    e = omni.Engine()
    store = e.store
    e.close()
    e.close()
    assert e.closed and store.closed
    with pytest.raises(omni.OmniError) as info:
        e.now_ms()
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError):
        store.get("ns", "k")
    with pytest.raises(omni.OmniError):
        omni.uuid7(e)
    # Garbage collection of unclosed objects is safe.
    for _ in range(20):
        omni.Engine(FIXED).store.put("a", "b", 1)
        omni.Store.open()
    gc.collect()


def test_engine_store_is_borrowed_and_uses_engine_clock() -> None:
    engine = omni.Engine(FIXED)
    store = engine.store
    del engine
    gc.collect()  # the store keeps the engine alive
    assert store.put("session", "s1", {"a": 1}, expires_at_ms=FIXED_MS + 1000) == 1
    assert store.get("session", "s1") == ({"a": 1}, 1)
    # Expiry is judged with the engine's frozen clock unless now_ms is given.
    assert store.get("session", "s1", now_ms=FIXED_MS + 1000) is None
    rec = store.get_record("session", "s1")
    assert rec is not None and rec.expires_at_ms == FIXED_MS + 1000
    store.close()  # detaches only


def test_closing_a_borrowed_store_only_detaches_it() -> None:
    engine = omni.Engine(FIXED)
    store = engine.store
    store.put("ns", "k", "v")
    store.close()
    with pytest.raises(omni.OmniError) as info:
        store.get("ns", "k")
    assert info.value.message == "store is closed"
    assert engine.store.get("ns", "k") == ("v", 1)  # the engine's store lives on
    engine.close()
    with pytest.raises(omni.OmniError) as info:
        engine.store
    assert info.value.message == "engine is closed"


def test_store_cas() -> None:
    with omni.Store.open("memory:") as store:
        assert store.get("identity", "missing") is None
        v1 = store.put("identity", "+15551234567", {"customerId": "c-1"})
        assert v1 == 1
        assert store.get("identity", "+15551234567") == ({"customerId": "c-1"}, 1)

        # Create-only on an existing key.
        with pytest.raises(omni.OmniError) as info:
            store.put("identity", "+15551234567", {"customerId": "c-2"})
        assert info.value.code == "ALREADY_EXISTS"
        assert info.value.status == omni.Status.EEXISTS

        # Matching version succeeds; a stale one is a retryable conflict.
        v2 = store.put("identity", "+15551234567", {"customerId": "c-2"}, expected_version=v1)
        assert v2 == 2
        with pytest.raises(omni.OmniError) as info:
            store.put("identity", "+15551234567", {"customerId": "c-3"}, expected_version=v1)
        err = info.value
        assert err.code == "VERSION_CONFLICT"
        assert err.status == omni.Status.ECONFLICT
        assert err.retryable is True
        assert err.message
        assert store.get("identity", "+15551234567") == ({"customerId": "c-2"}, 2)

        assert store.put("identity", "+15551234567", [1, "x", None],
                         expected_version=omni.ANY_VERSION) == 3
        # Versioned put of an absent key.
        with pytest.raises(omni.OmniError) as info:
            store.put("identity", "nobody", 1, expected_version=5)
        assert info.value.code == "NOT_FOUND"

        with pytest.raises(omni.OmniError) as info:
            store.delete("identity", "+15551234567", expected_version=2)
        assert info.value.code == "VERSION_CONFLICT"
        store.delete("identity", "+15551234567", expected_version=3)
        assert store.get("identity", "+15551234567") is None
        with pytest.raises(omni.OmniError) as info:
            store.delete("identity", "+15551234567")
        assert info.value.code == "NOT_FOUND"
        assert omni.Store.CREATE == omni.CREATE == 0
        assert omni.Store.ANY_VERSION == omni.ANY_VERSION == 2**64 - 1


def test_store_values_round_trip() -> None:
    with omni.Store.open() as store:
        values: List[Any] = [
            None, True, 0, -5, 1.5, "text ✓", [], {}, {"nested": {"list": [1, {"a": "b"}]}}
        ]
        for i, value in enumerate(values):
            store.put("values", f"k{i}", value)
            got = store.get("values", f"k{i}")
            assert got is not None and got[0] == value


def test_store_expiry() -> None:
    with omni.Store.open() as store:
        store.put("ttl", "k", "v", expires_at_ms=2000, now_ms=1000)
        assert store.get("ttl", "k", now_ms=1999) == ("v", 1)
        assert store.get("ttl", "k", now_ms=2000) is None
        # An expired record does not exist for put either: create-only succeeds again.
        assert store.put("ttl", "k", "w", now_ms=3000) >= 1


def test_store_list_pages() -> None:
    with omni.Store.open() as store:
        for key in ["a/3", "a/1", "b/1", "a/2", "a/4"]:
            store.put("ns", key, {"k": key})
        page = store.list("ns", prefix="a/", limit=3)
        assert [item["key"] for item in page["items"]] == ["a/1", "a/2", "a/3"]
        assert page["items"][0]["value"] == {"k": "a/1"}
        assert page["items"][0]["version"] == 1
        assert page["items"][0]["expiresAt"] is None
        assert page["next"]
        page2 = store.list("ns", prefix="a/", after=page["next"], limit=3)
        assert [item["key"] for item in page2["items"]] == ["a/4"]
        assert page2["next"] is None
        assert len(store.list("ns")["items"]) == 5
        assert store.list("empty") == {"items": [], "next": None}


def test_store_argument_errors() -> None:
    with omni.Store.open() as store:
        for ns in ["", "Upper", "x" * 65, "sp ace"]:
            with pytest.raises(omni.OmniError) as info:
                store.put(ns, "k", 1)
            assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            store.put("ns", "", 1)
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            store.put("ns", "k" * 1025, 1)
        assert info.value.code in ("INVALID_ARGUMENT", "PAYLOAD_TOO_LARGE")
        with pytest.raises(omni.OmniError) as info:
            store.get("ns", "a\0b")
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            store.list("ns", limit=0)
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(ValueError):
            store.put("ns", "k", float("nan"))


def test_store_open_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Store.open("nosuch://x")
    assert info.value.code == "UNSUPPORTED"
    store = omni.Store.open()
    store.close()
    store.close()
    with pytest.raises(omni.OmniError):
        store.put("ns", "k", 1)

"""The push device registry (omni/push.h) through Engine.device_register / _get /
_remove / _list: register, refresh, move, invalidation, paging, validation, SQLite."""

import json
import threading

import pytest

import omni

NOW = "2025-01-02T03:04:05Z"
IOS = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"
# RFC 8291 Appendix A: the user agent's public key and auth secret.
P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
EP = "https://fcm.googleapis.com/fcm/send/abc:def"


def web(user, endpoint=EP):
    return {"userId": user, "deviceToken": endpoint, "platform": "web",
            "subscription": {"endpoint": endpoint, "expirationTime": None,
                             "keys": {"p256dh": P256DH, "auth": AUTH}}}


def raises(code, fn, *args, **kw):
    with pytest.raises(omni.OmniError) as info:
        fn(*args, **kw)
    assert info.value.code == code, info.value
    return info.value


@pytest.fixture
def engine():
    with omni.Engine({"clock": {"fixed": NOW}}) as e:
        yield e


def test_register_refresh_get(engine):
    r = engine.device_register({"userId": "alice", "deviceToken": IOS, "platform": "ios",
                                "locale": "en-US", "metadata": {"model": "iPhone"}})
    assert r["created"] is True
    assert r["device"]["registeredAt"] == "2025-01-02T03:04:05.000Z"
    ev = r["events"][0]
    assert ev["source"] == "omni.push" and ev["detailType"] == "device.registered"
    assert ev["detail"] == {"userId": "alice", "platform": "ios", "deviceToken": IOS,
                            "registeredAt": "2025-01-02T03:04:05.000Z"}
    # JSON text works too; a refresh replaces the optional members
    r = engine.device_register(json.dumps({"userId": "alice", "deviceToken": IOS,
                                           "platform": "ios"}))
    assert r["created"] is False
    assert r["events"][0]["detailType"] == "device.updated"
    d = engine.device_get("ios", IOS)
    assert d["userId"] == "alice" and "locale" not in d


def test_move_never_duplicates(engine):
    engine.device_register(web("alice"))
    r = engine.device_register(web("bob"))
    assert r["events"][0]["detailType"] == "device.moved"
    assert r["events"][0]["detail"]["previousUserId"] == "alice"
    assert engine.device_list(user_id="alice")["items"] == []
    assert [d["userId"] for d in engine.device_list(user_id="bob")["items"]] == ["bob"]
    assert len(engine.device_list(platform="web")["items"]) == 1
    assert len(engine.store.list("device_user")["items"]) == 1


def test_remove_and_invalidate(engine):
    engine.device_register(web("carol"))
    r = engine.device_remove("web", EP, reason="410 Gone")
    assert r["events"][0]["detailType"] == "device.invalidated"
    assert r["events"][0]["detail"]["reason"] == "410 Gone"
    assert r["device"]["subscription"]["keys"]["auth"] == AUTH
    raises("NOT_FOUND", engine.device_get, "web", EP)
    raises("NOT_FOUND", engine.device_remove, "web", EP)
    engine.device_register(web("carol"))
    r = engine.device_remove("web", EP)
    assert r["events"][0]["detailType"] == "device.unregistered"
    assert "reason" not in r["events"][0]["detail"]


def test_list_paging_and_filter(engine):
    for i in range(5):
        engine.device_register({"userId": "dave", "deviceToken": f"{i:02x}aabb",
                                "platform": "ios"})
    engine.device_register(web("dave"))
    engine.device_register({"userId": "erin", "deviceToken": "ffee", "platform": "ios"})
    seen, cursor, pages = [], None, 0
    while True:
        page = engine.device_list(user_id="dave", limit=4, cursor=cursor)
        seen += [d["deviceToken"] for d in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 6 and pages == 2
    assert [d["platform"] for d in
            engine.device_list(user_id="dave", platform_filter="web")["items"]] == ["web"]
    page = engine.device_list(platform="ios", limit=2)
    assert [d["deviceToken"] for d in page["items"]] == ["00aabb", "01aabb"]
    assert page["next"]


def test_errors(engine):
    e = raises("INVALID_ARGUMENT", engine.device_register, {"userId": "u", "platform": "ios"})
    assert "deviceToken" in e.message
    raises("INVALID_ARGUMENT", engine.device_register,
           {"userId": "u", "deviceToken": "aa", "platform": "ios", "bogus": 1})
    bad = web("u")
    bad["subscription"]["keys"]["auth"] = "AAAA"
    e = raises("INVALID_ARGUMENT", engine.device_register, bad)
    assert "auth" in e.message
    raises("INVALID_JSON", engine.device_register, "{")
    raises("INVALID_ARGUMENT", engine.device_get, "mac", "aa")
    raises("INVALID_ARGUMENT", engine.device_list)
    raises("INVALID_ARGUMENT", engine.device_list, user_id="u", platform="ios")
    raises("INVALID_ARGUMENT", engine.device_list, user_id="u", limit=0)
    raises("INVALID_ARGUMENT", engine.device_list, platform="ios", platform_filter="ios")
    raises("INVALID_ARGUMENT", engine.device_remove, "ios", "aa", reason="")
    raises("INVALID_ARGUMENT", engine.device_get, "ios", "a\0a")
    with pytest.raises(TypeError):
        engine.device_register(5)


def test_sqlite_and_threads(tmp_path):
    db = "sqlite:" + str(tmp_path / "d.db")
    with omni.Engine({"storage": db}) as e:
        def run(user):
            for _ in range(30):
                try:
                    e.device_register({"userId": user, "deviceToken": IOS, "platform": "ios"})
                except omni.OmniError as err:
                    assert err.code == "VERSION_CONFLICT"
        ts = [threading.Thread(target=run, args=(u,)) for u in ("alice", "bob")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        owner = e.device_get("ios", IOS)["userId"]
        assert len(e.device_list(user_id=owner)["items"]) == 1
        other = "bob" if owner == "alice" else "alice"
        assert e.device_list(user_id=other)["items"] == []
    with omni.Engine({"storage": db}) as e:
        assert e.device_get("ios", IOS)["userId"] == owner

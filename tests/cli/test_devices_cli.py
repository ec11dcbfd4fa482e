"""omni devices: the push device registry over a store (register, get, list, remove)."""
import json

import pytest

NOW = "2025-01-02T03:04:05Z"
IOS = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"
# RFC 8291 Appendix A: the user agent's public key and auth secret.
P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
EP = "https://fcm.googleapis.com/fcm/send/abc:def"


def ios(user, token=IOS):
    return json.dumps({"userId": user, "deviceToken": token, "platform": "ios"})


def web(user, endpoint=EP):
    return json.dumps({"userId": user, "deviceToken": endpoint, "platform": "web",
                       "subscription": {"endpoint": endpoint, "expirationTime": None,
                                        "keys": {"p256dh": P256DH, "auth": AUTH}}})


@pytest.fixture
def store(tmp_path):
    return f"sqlite:{tmp_path / 'devices.db'}"


def test_register_get_list_remove(omni, store):
    r = omni("devices", "register", "--store", store, "--now", NOW, input=ios("alice"))
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["created"] is True
    assert doc["device"]["registeredAt"] == "2025-01-02T03:04:05.000Z"
    assert doc["events"][0]["detailType"] == "device.registered"

    r = omni("devices", "get", "--store", store, "ios", IOS)
    assert r.code == 0, r.err
    assert r.json()["userId"] == "alice"

    r = omni("devices", "list", "--store", store, "--user", "alice")
    assert r.code == 0
    assert [d["deviceToken"] for d in r.json()["items"]] == [IOS]
    r = omni("devices", "list", "--store", store, "--platform", "ios")
    assert len(r.json()["items"]) == 1

    r = omni("devices", "remove", "--store", store, "ios", IOS)
    assert r.code == 0, r.err
    assert r.json()["events"][0]["detailType"] == "device.unregistered"
    r = omni("devices", "get", "--store", store, "ios", IOS)
    assert r.code == 1
    assert r.error()["code"] == "NOT_FOUND"


def test_move_and_refresh(omni, store, tmp_path):
    f = tmp_path / "dev.json"
    f.write_text(ios("alice"))
    assert omni("devices", "register", "--store", store, f).code == 0
    r = omni("devices", "register", "--store", store, f)
    assert r.json()["created"] is False
    assert r.json()["events"][0]["detailType"] == "device.updated"
    r = omni("devices", "register", "--store", store, input=ios("bob"))
    ev = r.json()["events"][0]
    assert ev["detailType"] == "device.moved"
    assert ev["detail"]["previousUserId"] == "alice"
    assert omni("devices", "list", "--store", store, "--user", "alice").json()["items"] == []
    assert len(omni("devices", "list", "--store", store, "--user", "bob").json()["items"]) == 1


def test_web_invalidated_with_reason(omni, store):
    assert omni("devices", "register", "--store", store, input=web("carol")).code == 0
    r = omni("devices", "remove", "--store", store, "web", EP, "--reason", "410 Gone")
    assert r.code == 0, r.err
    ev = r.json()["events"][0]
    assert ev["detailType"] == "device.invalidated"
    assert ev["detail"]["reason"] == "410 Gone"


def test_list_paging_and_platform_filter(omni, store):
    for i in range(5):
        tok = f"{i:02x}aabbccdd"
        assert omni("devices", "register", "--store", store, input=ios("dave", tok)).code == 0
    assert omni("devices", "register", "--store", store, input=web("dave")).code == 0
    seen, cursor, pages = [], None, 0
    while True:
        args = ["devices", "list", "--store", store, "--user", "dave", "--limit", "2"]
        if cursor:
            args += ["--cursor", cursor]
        page = omni(*args).json()
        seen += [d["deviceToken"] for d in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6
    assert pages == 3
    r = omni("devices", "list", "--store", store, "--user", "dave", "--platform", "web")
    assert [d["platform"] for d in r.json()["items"]] == ["web"]


def test_errors(omni, store):
    r = omni("devices", "register", "--store", store, input='{"userId":"u"}')
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"
    assert "deviceToken" in r.error()["message"] or "platform" in r.error()["message"]
    r = omni("devices", "register", input="{")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_JSON"
    assert omni("devices").code == 2
    assert omni("devices", "frobnicate").code == 2
    assert omni("devices", "list").code == 2
    assert omni("devices", "list", "--user", "u", "--limit", "0").code == 2
    assert omni("devices", "list", "--user", "u", "--limit", "x").code == 2
    assert omni("devices", "get", "ios").code == 2
    assert omni("devices", "get", "ios", IOS, "extra").code == 2
    assert omni("devices", "remove", "ios", IOS, "--bogus").code == 2
    r = omni("devices", "list", "--user", "u", "--cursor", "v/ios/aa")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("devices", "get", "blackberry", "x")
    assert r.code == 2


def test_help(omni):
    r = omni("devices", "--help")
    assert r.code == 0
    assert b"omni devices register" in r.out

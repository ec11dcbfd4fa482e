"""omni push send: pushNotification through the delivery engine over an SQLite
store, against a local HTTP server answering like APNs (/3/device/<token>):
devices from the event and from the registry (omni devices register), a refused
token leaving the registry, a repeated event sent once, quiet hours, the stored
retry sent by `omni outbound tick` with the same CONFIG, usage errors."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "push"
ENV = {"OMNI_TEST_APNS_KEY": (DATA / "apns" / "AuthKey_TEST123456.p8").read_text()}
T0 = "2026-01-01T00:00:00Z"
GOOD = "a1" * 32
DEAD = "dd" * 32
BUSY = "b5" * 32


class FakeApns:
    """APNs over HTTP/1.1 on 127.0.0.1: 410 Unregistered for DEAD, a 503 for
    the first request to BUSY, else 200 with an apns-id."""

    def __init__(self):
        self.paths = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.paths.append(self.path)
                    busy_first = self.path.endswith(BUSY) and fake.paths.count(self.path) == 1
                if self.path.endswith(DEAD):
                    status, body = 410, b'{"reason":"Unregistered","timestamp":1700000000000}'
                elif busy_first:
                    status, body = 503, b'{"reason":"ServiceUnavailable"}'
                else:
                    status, body = 200, b""
                self.send_response(status)
                if status == 200:
                    self.send_header("apns-id", "0000000-%d" % len(fake.paths))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def apns():
    srv = FakeApns()
    yield srv
    srv.stop()


@pytest.fixture
def run(omni, tmp_path, apns):
    store = "sqlite:" + str(tmp_path / "push.db")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({
        "push": {"apns": {"teamId": "ABCDE12345", "keyId": "TEST123456",
                          "privateKey": {"env": "OMNI_TEST_APNS_KEY"},
                          "topic": "com.example.app", "baseUrl": apns.url}},
        "delivery": {"retryPolicy": {"maxRetries": 2, "initialBackoff": 10, "maxBackoff": 10}},
        "transport": {"timeoutMs": 3000}}))

    def go(*args, input=None, now=T0):
        conf = [] if args[0] == "devices" else ["--config", str(cfg)]
        r = omni("--now", now, *args, "--store", store, *conf, input=input, env=ENV)
        assert b"PRIVATE KEY" not in r.out + r.err
        return r
    return go


def event(corr, recipients, options=None):
    return json.dumps({"correlationId": corr, "notificationType": "new_message",
                       "recipients": recipients,
                       "payload": {"title": "New message", "body": "Hello"},
                       "options": options or {"priority": "high"}})


def test_send_to_event_devices_once(run, apns):
    ev = event("c1", [{"userId": "agent-1", "deviceTokens": [
        {"token": GOOD, "platform": "ios"}, {"token": DEAD, "platform": "ios"}]}])
    r = run("push", "send", input=ev)
    assert r.code == 0, r.err
    res = r.json()
    assert res["correlationId"] == "c1" and res["success"] is True
    assert [d["status"] for d in res["deliveryResults"]] == ["sent", "failed"]
    assert res["deliveryResults"][0]["messageId"].startswith("0000000-")
    assert res["deliveryResults"][1]["errorCode"] == "INVALID_TOKEN"
    assert res["summary"] == {"total": 2, "sent": 1, "failed": 1, "skipped": 0, "pending": 0}
    assert apns.paths == ["/3/device/" + GOOD, "/3/device/" + DEAD]
    again = run("push", "send", input=ev).json()
    assert len(apns.paths) == 2, "a repeated event sends nothing"
    assert all(d.get("duplicate") for d in again["deliveryResults"])


def test_registry_devices_and_invalid_token_removed(run, apns, tmp_path):
    for token in (GOOD, DEAD):
        r = run("devices", "register",
                input=json.dumps({"userId": "agent-2", "deviceToken": token, "platform": "ios"}))
        assert r.code == 0, r.err
    res = run("push", "send", input=event("c2", [{"userId": "agent-2"}])).json()
    assert res["summary"]["sent"] == 1 and res["summary"]["failed"] == 1
    [ev] = res["events"]
    assert ev["detailType"] == "device.invalidated"
    assert ev["detail"]["deviceToken"] == DEAD and ev["detail"]["reason"] == "Unregistered"
    listed = run("devices", "list", "--user", "agent-2").json()
    assert [d["deviceToken"] for d in listed["items"]] == [GOOD]


def test_quiet_hours_skip_unless_critical(run, apns):
    rec = [{"userId": "u", "deviceTokens": [{"token": GOOD, "platform": "ios"}],
            "preferences": {"timezone": "Asia/Kolkata",
                            "quietHours": {"start": "05:00", "end": "06:00"}}}]
    # 2026-01-01T00:00Z is 05:30 in Kolkata
    res = run("push", "send", input=event("c3", rec)).json()
    assert res["deliveryResults"] == [{"recipientId": "u", "platform": "all",
                                       "status": "skipped", "reason": "QUIET_HOURS",
                                       "error": "quiet hours until 06:00 Asia/Kolkata"}]
    assert apns.paths == []
    res = run("push", "send", input=event("c4", rec, {"priority": "critical"})).json()
    assert res["deliveryResults"][0]["status"] == "sent"


def test_retry_is_stored_and_sent_by_outbound_tick(run, apns):
    ev = event("c5", [{"userId": "u", "deviceTokens": [{"token": BUSY, "platform": "ios"}]}])
    res = run("push", "send", input=ev).json()
    [line] = res["deliveryResults"]
    assert line["status"] == "pending" and line["errorCode"] == "PROVIDER_UNAVAILABLE"
    tick = run("outbound", "tick", now="2026-01-01T00:01:00Z").json()
    assert tick["sent"] == 1
    assert apns.paths == ["/3/device/" + BUSY] * 2
    inline = run("push", "send", "--deadline-ms", "2000", input=event("c6", [
        {"userId": "u", "deviceTokens": [{"token": BUSY, "platform": "ios"}]}]))
    assert inline.json()["deliveryResults"][0]["status"] == "sent"


def test_errors(run, omni, tmp_path):
    r = run("push", "send", input="{")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = run("push", "send", input=event("c", []))
    assert r.code == 2 and "recipients" in r.error()["message"]
    r = run("push", "send", "--platform", "ios", input=event("c", [{"userId": "u"}]))
    assert r.code == 2
    r = run("push", "send", "--deadline-ms", "x", input="{}")
    assert r.code == 2
    r = run("push", "build", input="{}")
    assert r.code == 2 and "--store" in r.error()["message"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"pusher": {}}))
    r = omni("push", "send", "--config", str(bad), input=event("c", [{"userId": "u"}]))
    assert r.code == 2 and "unknown member" in r.error()["message"]
    bad.write_text(json.dumps({"delivery": {}}))
    r = omni("push", "send", "--config", str(bad), input=event("c", [{"userId": "u"}]))
    assert r.code == 2 and "\"push\"" in r.error()["message"]

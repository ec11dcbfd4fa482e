"""omni.Delivery(..., push=Push) and Delivery.notify (pushNotification, omni/push.h)
against a real HTTP server on 127.0.0.1 answering like APNs: devices from the
registry, a refused token removed (device.invalidated), a repeated event sent once,
preferences, and the errors (TypeError for a wrong push, a closed Push)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import omni

DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "push"
KEY = (DATA / "apns" / "AuthKey_TEST123456.p8").read_text()
GOOD, DEAD = "a1" * 32, "dd" * 32


class FakeApns:
    def __init__(self) -> None:
        self.paths: List[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.paths.append(self.path)
                dead = self.path.endswith(DEAD)
                body = b'{"reason":"Unregistered","timestamp":1}' if dead else b""
                self.send_response(410 if dead else 200)
                if not dead:
                    self.send_header("apns-id", "apns-%d" % len(fake.paths))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()


@pytest.fixture
def setup() -> Iterator[Any]:
    srv = FakeApns()
    engine = omni.Engine({"storage": "memory:", "clock": {"fixed": "2026-01-01T00:00:00Z"},
                          "transport": {"type": "curl", "timeoutMs": 3000}})
    outbound = omni.Outbound({})
    push = omni.Push({"apns": {"teamId": "ABCDE12345", "keyId": "TEST123456", "privateKey": KEY,
                               "topic": "com.example.app", "baseUrl": srv.url}})
    delivery = omni.Delivery(engine, outbound, None, push=push)
    yield srv, engine, push, delivery
    delivery.close()
    push.close()
    outbound.close()
    engine.close()
    srv.httpd.shutdown()
    srv.httpd.server_close()


def event(corr: str, recipients: Any, priority: str = "high") -> dict:
    return {"correlationId": corr, "notificationType": "assignment", "recipients": recipients,
            "payload": {"title": "Assigned", "body": "Conversation conv-1 is yours"},
            "options": {"priority": priority}}


def test_notify_registry_devices(setup: Any) -> None:
    srv, engine, push, delivery = setup
    assert delivery.push is push
    for token in (GOOD, DEAD):
        engine.device_register({"userId": "agent-1", "deviceToken": token, "platform": "ios"})
    res = delivery.notify(event("c1", [{"userId": "agent-1"}]))
    assert res["summary"] == {"total": 2, "sent": 1, "failed": 1, "skipped": 0, "pending": 0}
    by_status = {d["status"]: d for d in res["deliveryResults"]}
    assert by_status["sent"]["messageId"].startswith("apns-")
    assert by_status["failed"]["errorCode"] == "INVALID_TOKEN"
    assert [e["detailType"] for e in res["events"]] == ["device.invalidated"]
    with pytest.raises(omni.OmniError) as err:
        engine.device_get("ios", DEAD)
    assert err.value.code == "NOT_FOUND"
    again = delivery.notify(json.dumps(event("c1", [{"userId": "agent-1"}])))
    assert len(srv.paths) == 2
    assert again["deliveryResults"][0]["duplicate"] is True


def test_notify_preferences_and_deadline(setup: Any) -> None:
    srv, _, _, delivery = setup
    recipient = {"userId": "u", "deviceTokens": [{"token": GOOD, "platform": "ios"}],
                 "preferences": {"notificationTypes": {"assignment": False}}}
    res = delivery.notify(event("c2", [recipient]), {"deadlineMs": 1000})
    assert res["deliveryResults"][0]["reason"] == "OPTED_OUT"
    assert srv.paths == []


def test_push_job_run(setup: Any) -> None:
    srv, _, _, delivery = setup
    job = delivery.publish({"correlationId": "c9", "recipient": {
        "channelIdentifier": GOOD, "carrier": "apns"},
        "push": {"platform": "ios", "token": GOOD, "payload": {"title": "t", "body": "b"}}})
    res = job.run()
    assert res["delivery"]["status"] == "sent" and res["delivery"]["carrier"] == "apns"
    assert srv.paths == ["/3/device/" + GOOD]


def test_notify_through_the_async_transport(setup: Any) -> None:
    srv, engine, _, delivery = setup
    engine.device_register({"userId": "crowd", "deviceToken": DEAD, "platform": "ios"})
    devices = [{"token": "%064x" % (i + 1), "platform": "ios"} for i in range(20)]
    devices.append({"token": DEAD, "platform": "ios"})
    with omni.AsyncTransport({"maxConcurrent": 8}) as transport:
        res = delivery.notify(event("c20", [{"userId": "crowd", "deviceTokens": devices}]),
                              transport=transport)
        assert res["summary"] == {"total": 21, "sent": 20, "failed": 1, "skipped": 0,
                                  "pending": 0}
        assert [e["detailType"] for e in res["events"]] == ["device.invalidated"]
        assert len(srv.paths) == 21
        assert transport.stats()["peakInFlight"] <= 8
        with pytest.raises(omni.OmniError) as err:
            delivery.notify(event("c21", []), transport=transport)
        assert err.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError):
            delivery.notify(event("c22", [{"userId": "u"}]), {"deadlineMs": 5},
                            transport=transport)
    with pytest.raises(TypeError):
        delivery.notify(event("c23", [{"userId": "u"}]), transport="curl")  # type: ignore


def test_notify_errors(setup: Any) -> None:
    _, engine, push, delivery = setup
    with pytest.raises(omni.OmniError) as err:
        delivery.notify(event("c3", []))
    assert err.value.code == "INVALID_ARGUMENT" and "recipients" in str(err.value)
    with pytest.raises(TypeError):
        omni.Delivery(engine, omni.Outbound({}), push="apns")  # type: ignore[arg-type]
    push.close()
    with pytest.raises(omni.OmniError) as err:
        delivery.notify(event("c4", [{"userId": "u"}]))
    assert "closed" in str(err.value)
    with pytest.raises(omni.OmniError):
        omni.Delivery(engine, omni.Outbound({}), push=push)

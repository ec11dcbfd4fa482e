"""omni.Delivery (omni/delivery.h) against a real HTTP server on 127.0.0.1 answering
like Twilio's Messages API: sends exactly once, duplicates (also from a new engine on
the same SQLite file), stored retries sent by tick(), dead letters (list, get,
redrive, purge), the sans-I/O job API with hand-fed responses and transport errors,
and the errors (OmniError with the library's codes, TypeError for wrong types)."""

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import omni

T0 = 1767225600000  # 2026-01-01T00:00:00Z, the engines' frozen clock
SID = "AC00000000000000000000000000000001"
SECRET = "tw-py-secret-0001"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


class FakeTwilio:
    """Scripted answers first, then 201 {"sid": "SM<n>", "status": "queued"}."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.script: List[Tuple[int, Dict[str, str], Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                with fake.lock:
                    fake.requests.append({"path": self.path, "body": body})
                    index = len(fake.requests)
                    answer = fake.script.pop(0) if fake.script else None
                if answer is None:
                    answer = (201, {}, {"sid": "SM%04d" % index, "status": "queued"})
                status, headers, doc = answer
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def push(self, status: int, doc: Any, headers: Optional[Dict[str, str]] = None) -> None:
        with self.lock:
            self.script.append((status, headers or {}, doc))

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    srv = FakeTwilio()
    yield srv
    srv.stop()


def engine_config(store: str = "memory:", transport: bool = True) -> Dict[str, Any]:
    cfg: Dict[str, Any] = {"storage": store, "clock": {"fixed": "2026-01-01T00:00:00Z"},
                           "random": {"seed": 7}}
    if transport:
        cfg["transport"] = {"type": "curl", "timeoutMs": 3000, "connectTimeoutMs": 3000}
    return cfg


def providers(url: str) -> Dict[str, Any]:
    return {"twilio": {"accountSid": SID, "authToken": SECRET, "baseUrl": url}}


FAST = {"retryPolicy": {"maxRetries": 2, "initialBackoff": 10, "maxBackoff": 10}}


def sms(corr: str = "corr-1", to: str = "+14155550100") -> Dict[str, Any]:
    return {"correlationId": corr, "messageType": "reply",
            "recipient": {"customerId": "c1", "channelIdentifier": to, "carrier": "twilio",
                          "channel": "sms"},
            "message": {"content": "Hello from Python", "contentType": "text"},
            "routing": {"accountId": "acc-1", "conversationId": "conv-1",
                        "fromNumber": "+14155550199"}}


@pytest.fixture
def parts(twilio: FakeTwilio) -> Iterator[Tuple[omni.Engine, omni.Outbound, omni.Delivery]]:
    engine = omni.Engine(engine_config())
    outbound = omni.Outbound(providers(twilio.url))
    delivery = omni.Delivery(engine, outbound, FAST)
    yield engine, outbound, delivery
    delivery.close()
    outbound.close()
    engine.close()


def no_secret(doc: Any) -> None:
    assert SECRET not in json.dumps(doc)


# ---- send, duplicates, get ----------------------------------------------------------------


def test_send_delivers_once_and_a_repeat_is_a_duplicate(parts, twilio) -> None:
    _, _, d = parts
    first = d.send(sms("corr-1"))
    assert first["success"] is True
    assert first["correlationId"] == "corr-1"
    assert "duplicate" not in first
    dl = first["delivery"]
    assert dl["status"] == "queued" and dl["carrier"] == "twilio"
    assert dl["carrierMessageId"] == "SM0001" and dl["attempts"] == 1
    assert dl["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        dl["messageId"])
    assert first["tracking"]["trackingId"] == dl["messageId"]
    assert twilio.count() == 1
    assert twilio.requests[0]["path"] == MESSAGES_PATH
    assert "Body=Hello+from+Python" in twilio.requests[0]["body"]

    again = d.send(json.dumps(sms("corr-1")))  # JSON text works too
    assert again["duplicate"] is True
    assert again["delivery"]["messageId"] == dl["messageId"]
    assert again["delivery"]["carrierMessageId"] == "SM0001"
    assert twilio.count() == 1

    a = d.send(sms("corr-2"), {"idempotencyKey": "order-9"})
    b = d.send(sms("corr-3"), {"idempotencyKey": "order-9"})
    assert "duplicate" not in a and b["duplicate"] is True
    assert b["correlationId"] == "corr-2"
    assert twilio.count() == 2

    rec = d.get(dl["messageId"])
    assert rec["state"] == "delivered" and rec["correlationId"] == "corr-1"
    assert rec["idempotencyKey"] == "corr-1/+14155550100"
    assert [x["outcome"] for x in rec["attempts"]] == ["accepted"]
    assert rec["attempts"][0]["httpStatus"] == 201
    no_secret(rec)


def test_duplicate_across_a_new_engine_on_the_same_sqlite_file(tmp_path, twilio) -> None:
    store = "sqlite:" + str(tmp_path / "delivery.db")
    results = []
    for _ in range(2):
        with omni.Engine(engine_config(store)) as engine, \
                omni.Outbound(providers(twilio.url)) as outbound, \
                omni.Delivery(engine, outbound) as d:
            results.append(d.send(sms("corr-restart")))
    assert "duplicate" not in results[0]
    assert results[1]["duplicate"] is True
    assert results[1]["delivery"]["carrierMessageId"] == "SM0001"
    assert twilio.count() == 1


def test_deadline_waits_for_a_retry_inline(parts, twilio) -> None:
    _, _, d = parts
    twilio.push(503, {"code": 20503, "message": "Service unavailable", "status": 503})
    r = d.send(sms("corr-503"), {"deadlineMs": 5000})
    assert r["success"] is True and r["delivery"]["attempts"] == 2
    assert twilio.count() == 2


# ---- retries through tick ---------------------------------------------------------------


def test_rate_limited_send_is_pending_and_tick_sends_it_when_due(parts, twilio) -> None:
    _, _, d = parts
    twilio.push(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                {"Retry-After": "30"})
    r = d.send(sms("corr-429"))
    assert r["success"] is False
    assert r["delivery"]["status"] == "pending"
    assert r["delivery"]["nextAttemptAt"] == "2026-01-01T00:00:30.000Z"
    assert r["error"]["code"] == "RATE_LIMITED" and r["error"]["retryable"] is True

    early = d.tick(T0 + 29999)
    assert early["processed"] == 0
    assert early["nextDueAt"] == "2026-01-01T00:00:30.000Z"
    assert twilio.count() == 1
    assert d.tick()["processed"] == 0  # the engine's (frozen) clock
    due = d.tick("2026-01-01T00:00:30Z", limit=5)
    assert due["processed"] == 1 and due["sent"] == 1 and due["nextDueAt"] is None
    assert twilio.count() == 2
    rec = d.get(r["delivery"]["messageId"])
    assert rec["state"] == "delivered"
    assert [x["outcome"] for x in rec["attempts"]] == ["retry", "accepted"]


# ---- dead letters ---------------------------------------------------------------------------


def test_dead_letter_list_get_redrive_and_tick(parts, twilio) -> None:
    _, _, d = parts
    twilio.push(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
    r = d.send(sms("corr-400"))
    assert r["delivery"]["status"] == "failed"
    assert r["error"]["code"] == "INVALID_RECIPIENT" and r["error"]["retryable"] is False
    mid = r["delivery"]["messageId"]

    page = d.dlq_list()
    assert page["next"] is None
    assert [i["messageId"] for i in page["items"]] == [mid]
    item = page["items"][0]
    assert item["reason"]["code"] == "INVALID_RECIPIENT"
    assert item["carrier"] == "twilio" and item["correlationId"] == "corr-400"
    assert item["deadAt"] == "2026-01-01T00:00:00.000Z"
    assert item["event"]["correlationId"] == "corr-400"
    assert d.dlq_get(mid) == item

    red = d.dlq_redrive(mid)
    assert red["delivery"]["messageId"] == mid and red["delivery"]["status"] == "pending"
    assert d.dlq_list()["items"] == []
    t = d.tick()
    assert t["processed"] == 1 and t["sent"] == 1
    assert twilio.count() == 2
    assert d.get(mid)["state"] == "delivered"
    with pytest.raises(omni.OmniError) as e:
        d.dlq_get(mid)
    assert e.value.code == "NOT_FOUND" and e.value.status == omni.Status.ENOTFOUND


def test_dlq_pages_and_purge(parts, twilio) -> None:
    _, _, d = parts
    ids = []
    for i in range(3):
        twilio.push(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
        ids.append(d.send(sms("corr-p%d" % i))["delivery"]["messageId"])
    first = d.dlq_list(limit=2)
    assert len(first["items"]) == 2 and first["next"]
    second = d.dlq_list(limit=2, cursor=first["next"])
    assert len(second["items"]) == 1 and second["next"] is None
    assert sorted(i["messageId"] for i in first["items"] + second["items"]) == sorted(ids)
    assert d.dlq_purge(ids[0]) == 1
    with pytest.raises(omni.OmniError) as e:
        d.dlq_purge(ids[0])
    assert e.value.code == "NOT_FOUND"
    assert d.dlq_purge() == 2
    assert d.dlq_list() == {"items": [], "next": None}
    assert d.dlq_purge() == 0
    assert d.get(ids[1])["state"] == "dead"


# ---- the sans-I/O job API -------------------------------------------------------------------


def test_job_with_hand_fed_responses_without_a_transport(twilio) -> None:
    # An engine without a transport: the host sends the requests itself.
    with omni.Engine(engine_config(transport=False)) as engine, \
            omni.Outbound(providers(twilio.url)) as outbound, \
            omni.Delivery(engine, outbound, FAST) as d:
        with pytest.raises(omni.OmniError) as e:
            d.send(sms("corr-none"))
        assert e.value.code == "UNSUPPORTED"

        job = d.publish(sms("corr-job"), now_ms=T0)
        step = job.next(T0)
        assert isinstance(step, omni.JobStep)
        action, request, until = step
        assert action == "send" and until is None
        assert request["method"] == "POST"
        assert request["url"] == twilio.url + MESSAGES_PATH
        assert "Body=Hello+from+Python" in request["body"]
        assert job.result()["delivery"]["status"] == "sending"
        # a SEND must be fed before the next step
        with pytest.raises(omni.OmniError) as e:
            job.next(T0)
        assert e.value.code == "INVALID_ARGUMENT"

        job.feed(response={"status": 503, "headers": {"Content-Type": "application/json",
                                                      "Retry-After": "1"},
                           "body": '{"code":20503,"message":"Service unavailable"}'},
                 now_ms=T0)
        action, request, until = job.next(T0)
        assert action == "wait" and request is None
        assert until == T0 + 1000  # never before the provider's Retry-After
        assert job.next(until - 1) == ("wait", None, until)
        res = job.result()
        assert res["delivery"]["status"] == "pending"
        assert res["error"]["code"] == "PROVIDER_UNAVAILABLE"
        with pytest.raises(omni.OmniError) as e:
            job.feed(transport_error="TIMEOUT", now_ms=T0)  # nothing outstanding
        assert e.value.code == "INVALID_ARGUMENT"

        # at the due time: the retry, this time a transport error
        action, request, _ = job.next(until)
        assert action == "send" and request["url"].endswith(MESSAGES_PATH)
        job.feed(transport_error="TIMEOUT", now_ms=until)
        assert job.result()["error"]["code"] == "TIMEOUT"
        assert job.result()["delivery"]["status"] == "pending"
        until2 = job.result()["delivery"]["nextAttemptAt"]
        until2 = omni.time_parse(until2)
        assert until <= until2 <= until + 10  # full jitter within initialBackoff
        mid = job.result()["delivery"]["messageId"]
        job.close()

        # a new job for the stored message (as another process would)
        job = d.resume(mid, now_ms=until2)
        action, request, _ = job.next(until2)
        assert action == "send"
        job.feed(response={"status": 201, "headers": [["Content-Type", "application/json"]],
                           "body": b'{"sid":"SMhand","status":"queued"}'}, now_ms=until2)
        assert job.next(until2) == ("done", None, None)
        res = job.result()
        assert res["success"] is True and res["delivery"]["carrierMessageId"] == "SMhand"
        assert res["delivery"]["attempts"] == 3
        outcomes = [a["outcome"] for a in d.get(mid)["attempts"]]
        assert outcomes == ["retry", "retry", "accepted"]
        job.close()
        assert twilio.count() == 0  # nothing went through a transport


def test_job_driven_through_the_engines_transport(parts, twilio) -> None:
    engine, _, d = parts
    with d.publish(sms("corr-drive")) as job:
        action, request, _ = job.next()
        assert action == "send"
        assert engine.transport is not None
        job.feed(response=engine.transport.send(request))
        assert job.next()[0] == "done"
        assert job.result()["delivery"]["carrierMessageId"] == "SM0001"
    # a publish of the same event is a duplicate with nothing to send
    with d.publish(sms("corr-drive")) as job:
        assert job.next() == ("done", None, None)
        assert job.result()["duplicate"] is True
    assert twilio.count() == 1


def test_feed_transport_error_forms(parts) -> None:
    engine, outbound, _ = parts
    d = omni.Delivery(engine, outbound, {"circuitBreaker": {"failureThreshold": 1000}})
    forms = [omni.Status.ECONNECT, int(omni.Status.ETIMEOUT), "ETRANSPORT", "CONNECT_FAILED",
             omni.OmniError(int(omni.Status.ECONNECT), "CONNECT_FAILED", "refused")]
    codes = ["CONNECTION_FAILED", "TIMEOUT", "TRANSPORT_ERROR", "CONNECTION_FAILED",
             "CONNECTION_FAILED"]
    for i, (form, code) in enumerate(zip(forms, codes)):
        job = d.publish(sms("corr-f%d" % i))
        assert job.next()[0] == "send"
        job.feed(transport_error=form)
        assert job.result()["error"]["code"] == code, form
        job.close()
    job = d.publish(sms("corr-fx"))
    assert job.next()[0] == "send"
    with pytest.raises(omni.OmniError) as e:
        job.feed(transport_error="NO_SUCH_CODE")
    assert e.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError):
        job.feed(transport_error=0)
    with pytest.raises(TypeError):
        job.feed(transport_error=1.5)
    with pytest.raises(TypeError):
        job.feed()
    with pytest.raises(TypeError):
        job.feed(response={"status": 200}, transport_error="TIMEOUT")
    with pytest.raises(TypeError):
        job.feed(response="HTTP/1.1 200 OK")  # type: ignore[arg-type]
    with pytest.raises(omni.OmniError) as e:
        job.feed(response={"status": 99})
    assert e.value.code in ("INVALID_ARGUMENT", "INVALID_JSON")
    job.feed(response={"status": 201, "body": '{"sid":"SMok","status":"queued"}'})
    assert job.result()["success"] is True
    job.close()
    d.close()


# ---- errors and life cycle ----------------------------------------------------------------


def test_errors_raise_the_library_exception_types(parts, twilio) -> None:
    engine, outbound, d = parts

    def code(fn: Any, *args: Any, **kw: Any) -> str:
        with pytest.raises(omni.OmniError) as e:
            fn(*args, **kw)
        assert SECRET not in str(e.value)
        return e.value.code

    assert code(omni.Delivery, engine, outbound, {"colour": "blue"}) == "INVALID_CONFIG"
    assert code(omni.Delivery, engine, outbound,
                {"retryPolicy": {"maxRetries": 99}}) == "INVALID_CONFIG"
    assert code(omni.Delivery, engine, outbound,
                {"fallback": {"twilio": ["pigeon"]}}) == "INVALID_CONFIG"
    assert code(omni.Delivery, engine, outbound, "{oops") == "INVALID_JSON"
    with pytest.raises(TypeError):
        omni.Delivery("engine", outbound)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        omni.Delivery(engine, {"twilio": {}})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        d.send(42)  # type: ignore[arg-type]

    assert code(d.send, "{not json") == "INVALID_JSON"
    assert code(d.send, {"correlationId": "c"}) == "INVALID_ARGUMENT"
    assert code(d.send, sms(), {"deadlineMs": -1}) == "INVALID_ARGUMENT"
    assert code(d.publish, sms(), {"scheduledAt": "tomorrow"}) in ("INVALID_ARGUMENT",
                                                                    "INVALID_TIMESTAMP")
    assert code(d.get, "no-such-message") == "NOT_FOUND"
    assert code(d.dlq_get, "no-such-message") == "NOT_FOUND"
    assert code(d.dlq_redrive, "no-such-message") == "NOT_FOUND"
    assert code(d.resume, "no-such-message") == "NOT_FOUND"
    assert code(d.tick, T0, 0) == "INVALID_ARGUMENT"
    assert code(d.tick, T0, 1001) == "INVALID_ARGUMENT"
    assert code(d.tick, T0, -1) == "INVALID_ARGUMENT"
    assert code(d.tick, "yesterday") == "INVALID_TIMESTAMP"
    assert code(d.tick, 2**63) == "INVALID_ARGUMENT"
    assert code(d.dlq_list, 0) == "INVALID_ARGUMENT"
    with pytest.raises(TypeError):
        d.tick(True)
    with pytest.raises(TypeError):
        d.tick(T0, "10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        d.get(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        d.dlq_list(cursor=5)  # type: ignore[arg-type]
    assert twilio.count() == 0


def test_close_and_borrowed_objects(twilio) -> None:
    engine = omni.Engine(engine_config())
    outbound = omni.Outbound(providers(twilio.url))
    d = omni.Delivery(engine, outbound)
    assert d.engine is engine and d.outbound is outbound
    job = d.publish(sms("corr-life"))
    assert not d.closed and not job.closed
    outbound.close()
    assert d.closed and job.closed
    with pytest.raises(omni.OmniError, match="outbound is closed"):
        d.tick()
    with pytest.raises(omni.OmniError, match="outbound is closed"):
        job.next()
    engine.close()
    with pytest.raises(omni.OmniError, match="engine is closed"):
        d.get("x")
    job.close()
    job.close()
    with pytest.raises(omni.OmniError, match="delivery job is closed"):
        job.result()
    d.close()
    d.close()
    with pytest.raises(omni.OmniError, match="delivery is closed"):
        d.dlq_list()
    assert "closed" in repr(d)

    # the delivery keeps its engine and outbound alive
    def make() -> omni.Delivery:
        return omni.Delivery(omni.Engine(engine_config()), omni.Outbound(providers(twilio.url)))

    d2 = make()
    import gc

    gc.collect()
    assert d2.send(sms("corr-alive"))["success"] is True
    d2.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_is_a_pending_result() -> None:
    url = "http://127.0.0.1:%d" % free_port()
    with omni.Engine(engine_config()) as engine, omni.Outbound(providers(url)) as ob, \
            omni.Delivery(engine, ob, {"retryPolicy": {"initialBackoff": 1000}}) as d:
        r = d.send(sms("corr-down"))
        assert r["success"] is False and r["delivery"]["status"] == "pending"
        assert r["error"]["code"] == "CONNECTION_FAILED"


def test_every_delivery_function_has_a_prototype() -> None:
    import os

    from omni import _lib

    header = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni",
                          "delivery.h")
    with open(header, encoding="utf-8") as f:
        names = set(re.findall(r"OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(", f.read()))
    assert len(names) == 20
    assert sorted(names - set(_lib.PROTOTYPES)) == []
    for name in names:
        assert getattr(_lib.lib(), name).argtypes is not None

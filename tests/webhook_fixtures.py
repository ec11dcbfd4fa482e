#!/usr/bin/env python3
"""Writes the Twilio and WhatsApp webhook fixtures in tests/data/webhooks/
(request files {method, url, headers, body} as `omni webhook` reads them)
with real signatures.

Bodies follow the carriers' documentation: Twilio's Messaging webhook and
status callback parameters (application/x-www-form-urlencoded, '+' encoded
as %2B), Meta's WhatsApp Cloud API webhook payloads. Signatures use the test
secrets below and are computed here as the carriers do:

  Twilio  X-Twilio-Signature = base64(HMAC-SHA1(authToken, URL + the POST
          parameters' name+value sorted by name)); JSON bodies: the URL only,
          whose bodySHA256 query parameter is the hex SHA-256 of the body.
  Meta    X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(appSecret, body)).

The C tests (test_carrier_twilio.c, test_carrier_whatsapp.c) verify every
fixture through libomni and recompute the signatures independently.
Usage: python3 tests/webhook_fixtures.py
"""
import base64
import hashlib
import hmac
import json
import os
from urllib.parse import urlencode

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "webhooks")
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
WHATSAPP_SECRET = "test-app-secret-0123456789"
WHATSAPP_VERIFY_TOKEN = "test-verify-token"
HOST = "hooks.example.com"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
MSS = "MG0123456789abcdef0123456789abcdef"
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/" + ACCOUNT + "/Messages/"


def twilio_sign(url, params):
    s = url
    for name in sorted(set(k for k, _ in params)):
        for value in sorted(set(v for k, v in params if k == name)):
            s += name + value
    mac = hmac.new(TWILIO_TOKEN.encode(), s.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def write(carrier, name, req):
    os.makedirs(os.path.join(OUT, carrier), exist_ok=True)
    with open(os.path.join(OUT, carrier, name + ".json"), "w") as f:
        json.dump(req, f, indent=2, ensure_ascii=False)
        f.write("\n")


def twilio_form(name, path, params):
    url = "https://" + HOST + path
    headers = {
        "Host": HOST,
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": "4b6c2a63-3f1e-4a5e-9f7e-0d1c2b3a4f5e",
        "X-Twilio-Signature": twilio_sign(url, params),
    }
    write("twilio", name,
          {"method": "POST", "url": path, "headers": headers, "body": urlencode(params)})


def sms_params(sid, frm, to, body, **more):
    p = [("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", sid), ("NumMedia", "0"),
         ("ToCity", "SAN FRANCISCO"), ("FromZip", "94105"), ("SmsSid", sid),
         ("FromState", "CA"), ("SmsStatus", "received"), ("FromCity", "SAN FRANCISCO"),
         ("Body", body), ("FromCountry", "US"), ("To", to), ("MessagingServiceSid", MSS),
         ("ToZip", "94107"), ("NumSegments", "1"), ("MessageSid", sid),
         ("AccountSid", ACCOUNT), ("From", frm), ("ApiVersion", "2010-04-01")]
    for k, v in more.items():
        p = [(a, b) for a, b in p if a != k]
        p.append((k, v))
    return p


def wa_params(sid, message_type, body, wa_id="14155550199", **more):
    p = [("SmsMessageSid", sid), ("NumMedia", "0"), ("ProfileName", "Sheena Nelson"),
         ("MessageType", message_type), ("SmsSid", sid), ("WaId", wa_id),
         ("SmsStatus", "received"), ("Body", body), ("To", "whatsapp:+14155238886"),
         ("NumSegments", "1"), ("ReferralNumMedia", "0"), ("MessageSid", sid),
         ("AccountSid", ACCOUNT), ("From", "whatsapp:+" + wa_id),
         ("ApiVersion", "2010-04-01")]
    for k, v in more.items():
        p = [(a, b) for a, b in p if a != k]
        p.append((k, v))
    return p


def twilio():
    twilio_form("sms", "/twilio/sms?tenant=acme",
                sms_params("SM1f0e8ae6ade43cb3c0ce4525424e404f", "+14155550199",
                           "+14155550100", "Hello there! \U0001F44B Is the store open?"))
    mms = "MM5ef8732a3c49700934481addd5ce1659"
    twilio_form("mms", "/twilio/sms?tenant=acme", sms_params(
        mms, "+14155550199", "+14155550100", "Here are the photos", NumMedia="2",
        MediaContentType0="image/jpeg",
        MediaUrl0=MEDIA + mms + "/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        MediaContentType1="image/png",
        MediaUrl1=MEDIA + mms + "/Media/ME1b2c3d4e5f60718293a4b5c6d7e8f9a0"))
    twilio_form("short_code", "/twilio/sms?tenant=acme",
                sms_params("SM6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d", "+14155550199", "86753",
                           "STOP"))
    twilio_form("whatsapp_text", "/twilio/whatsapp", wa_params(
        "SM3c7f1d2e5a6b7c8d9e0f1a2b3c4d5e6f", "text", "Olá, quero saber do meu pedido",
        wa_id="5511987654321"))
    twilio_form("whatsapp_location", "/twilio/whatsapp", wa_params(
        "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "location", "", Latitude="37.7879277",
        Longitude="-122.4075102", Address="375 Beale St, San Francisco, CA 94105",
        Label="Twilio HQ"))
    twilio_form("whatsapp_button", "/twilio/whatsapp", wa_params(
        "SM0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "button", "Yes, confirm",
        ButtonText="Yes, confirm", ButtonPayload="confirm_order_1234",
        OriginalRepliedMessageSender="whatsapp:+14155238886",
        OriginalRepliedMessageSid="SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        MessagingServiceSid=MSS))
    vc = "MM2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"
    twilio_form("whatsapp_contact", "/twilio/whatsapp", wa_params(
        vc, "contacts", "", NumMedia="1", MediaContentType0="text/vcard",
        MediaUrl0=MEDIA + vc + "/Media/ME2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"))
    twilio_form("status_delivered", "/twilio/status?tenant=acme", [
        ("SmsSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"), ("SmsStatus", "delivered"),
        ("MessageStatus", "delivered"), ("To", "+14155550199"), ("MessagingServiceSid", MSS),
        ("MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"), ("AccountSid", ACCOUNT),
        ("From", "+14155550100"), ("ApiVersion", "2010-04-01"),
        ("RawDlrDoneDate", "2611220930")])
    twilio_form("status_undelivered", "/twilio/status?tenant=acme", [
        ("ErrorCode", "30003"), ("SmsSid", "SMb7c0a2ce80504485a6f653a7110836f5"),
        ("SmsStatus", "undelivered"), ("MessageStatus", "undelivered"),
        ("To", "+14155550142"), ("MessageSid", "SMb7c0a2ce80504485a6f653a7110836f5"),
        ("AccountSid", ACCOUNT), ("From", "+14155550100"), ("ApiVersion", "2010-04-01")])
    twilio_form("whatsapp_status_read", "/twilio/status", [
        ("ChannelPrefix", "whatsapp"),
        ("ChannelInstallSid", "XE0123456789abcdef0123456789abcdef"),
        ("ChannelStatusMessage", "Message read"),
        ("SmsSid", "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"), ("SmsStatus", "read"),
        ("MessageStatus", "read"), ("EventType", "READ"),
        ("ChannelToAddress", "+14155550199"), ("To", "whatsapp:+14155550199"),
        ("MessageSid", "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"), ("AccountSid", ACCOUNT),
        ("From", "whatsapp:+14155238886"), ("ApiVersion", "2010-04-01")])
    # Behind a TLS-terminating proxy: the app sees http://10.0.0.5:8080/twilio/sms;
    # Twilio signed https://hooks.example.com/twilio/sms (trustForwardedHeaders).
    prox = sms_params("SM2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b", "+447700900123", "+14155550100",
                      "Hi from London", FromCountry="GB", FromCity="", FromState="",
                      FromZip="")
    write("twilio", "proxied", {
        "method": "POST", "url": "/twilio/sms",
        "headers": {"Host": "10.0.0.5:8080", "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": HOST, "X-Forwarded-Port": "443",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": twilio_sign("https://" + HOST + "/twilio/sms", prox)},
        "body": urlencode(prox)})
    # The console URL had an explicit port: Twilio signed it with ":443".
    port = sms_params("SM7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a", "+14155550199", "+14155550100",
                      "Signed with the port")
    write("twilio", "signed_with_port", {
        "method": "POST", "url": "/twilio/sms",
        "headers": {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature":
                        twilio_sign("https://" + HOST + ":443/twilio/sms", port)},
        "body": urlencode(port)})
    # A GET webhook: the parameters are in the query; the URL alone is signed.
    path = "/twilio/sms-get?" + urlencode(sms_params(
        "SM8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b", "+14155550199", "+14155550100", "Sent by GET"))
    write("twilio", "get", {
        "method": "GET", "url": path,
        "headers": {"Host": HOST,
                    "X-Twilio-Signature": twilio_sign("https://" + HOST + path, [])}})
    # A JSON body: the URL (with bodySHA256) is signed alone.
    jb = json.dumps({"MessageSid": "SM9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c", "AccountSid": ACCOUNT,
                     "From": "+14155550199", "To": "+14155550100", "Body": "JSON hello",
                     "NumMedia": "0"}, separators=(",", ":"))
    path = "/twilio/json?bodySHA256=" + hashlib.sha256(jb.encode()).hexdigest()
    write("twilio", "json_body", {
        "method": "POST", "url": path,
        "headers": {"Host": HOST, "Content-Type": "application/json",
                    "X-Twilio-Signature": twilio_sign("https://" + HOST + path, [])},
        "body": jb})


def meta_write(name, payload, compact=True):
    if compact:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    else:
        body = json.dumps(payload, indent=2, ensure_ascii=False)
    key = WHATSAPP_SECRET.encode()
    headers = {"Host": HOST, "Content-Type": "application/json",
               "User-Agent": "facebookexternalua",
               "X-Hub-Signature": "sha1=" + hmac.new(key, body.encode(), hashlib.sha1).hexdigest(),
               "X-Hub-Signature-256":
                   "sha256=" + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}
    write("whatsapp", name,
          {"method": "POST", "url": "/whatsapp/webhook", "headers": headers, "body": body})


WABA = "102290129340398"
META = {"display_phone_number": "16505550100", "phone_number_id": "106540352242922"}


def envelope(value, field="messages"):
    v = {"messaging_product": "whatsapp", "metadata": META}
    v.update(value)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"value": v, "field": field}]}]}


def contact(name="Sheena Nelson", wa="16505551234"):
    return {"profile": {"name": name}, "wa_id": wa}


def msg(mid, typ, body, ts="1749416383", frm="16505551234", **more):
    m = {"from": frm, "id": mid, "timestamp": ts, "type": typ}
    if body is not None:
        m[typ] = body
    m.update(more)
    return m


def one(mid, typ, body, **more):
    return envelope({"contacts": [contact()], "messages": [msg(mid, typ, body, **more)]})


def ctx(n):
    return {"from": "16505550100", "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBJDT05URVhU" + n}


def whatsapp():
    pre = "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQ"
    meta_write("text", one("wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                           "text", {"body": "Does it come in another color?"}))
    meta_write("text_pretty", one(pre + "0QjVCNzZBQTBGRjE5MjE0NUYA", "text",
                                  {"body": "Pretty-printed body\nwith a newline"}),
               compact=False)
    meta_write("image", one(pre + "1QzZDODdCQjFHRzIwMzI1NkcA", "image", {
        "caption": "This is the one I want", "mime_type": "image/jpeg",
        "sha256": "Bs5UlGRk5HpUnySGKjRUOEjqc9Mv9hgjPlrU0lWQGbw=", "id": "1003383421387256"}))
    meta_write("audio", one(pre + "2RDdFOThDQzJISDMxNDM2N0gA", "audio", {
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": "0uO2Yz1SwwC9RS/HVfVH2iOe2e+LcA7jZ4TzCV8m4hU=", "id": "1027016289257045",
        "voice": True}))
    meta_write("video", one(pre + "3RThGQTlERDNJSTQyNTQ3OEkA", "video", {
        "caption": "Unboxing", "mime_type": "video/mp4",
        "sha256": "PdbiNYvyqHO/RBShqf1gf1ZmjV6o6B6qA93FPQq7lcM=", "id": "2024826871409387"}))
    meta_write("document", one(pre + "4RjlHQjBFRTRKSjUzNjU4OUoA", "document", {
        "caption": "Invoice for March", "filename": "invoice-2026-03.pdf",
        "mime_type": "application/pdf",
        "sha256": "8Mq+2GQsDfz7Zkz0Ab2XZk3Ho8F5ts7aTjz2G4XUUOw=", "id": "1482094832493058"}))
    meta_write("sticker", one(pre + "5RzBIQzFGRjVLSzY0NzY5MEsA", "sticker", {
        "mime_type": "image/webp", "sha256": "7fDEpBLMqRVTZ0M3mWkWfyeiC8Y4JtczV0YAQfYH21s=",
        "id": "1239457450352417", "animated": False}))
    meta_write("location", one(pre + "6SDFJRDJHRzZMTDc1ODcwMUwA", "location", {
        "address": "1 Hacker Way, Menlo Park, CA 94025", "latitude": 37.483307,
        "longitude": -122.148981, "name": "Meta Headquarters", "url": "https://www.meta.com"}))
    meta_write("contacts", one(pre + "7STJKRTNISDdNTTg2OTgxMk0A", "contacts", None, contacts=[{
        "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara",
                 "last_name": "Johnson", "middle_name": "Joana"},
        "phones": [{"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "HOME"}],
        "emails": [{"email": "bjohnson@example.com", "type": "WORK"}],
        "org": {"company": "Example, Inc.", "title": "Manager"}}]))
    meta_write("interactive_button_reply", one(pre + "8SjNLRjRJSThOTjk3MDkyM04A", "interactive", {
        "type": "button_reply", "button_reply": {"id": "change-button", "title": "Change"}},
        context=ctx("MQ==")))
    meta_write("interactive_list_reply", one(pre + "9SzRMRzVKSjlPTzA4MTAzNE8A", "interactive", {
        "type": "list_reply", "list_reply": {"id": "priority_express",
                                             "title": "Express Shipping",
                                             "description": "Next Day to 2 Days"}},
        context=ctx("Mg==")))
    meta_write("button", one(pre + "aTDVNSDZLSzBQUDE5MjE0NVAA", "button", {
        "payload": "STOP_PROMOTIONS", "text": "Stop promotions"}, context=ctx("Mw==")))
    meta_write("reaction", one(pre + "bTTZOSTdMTDFRUTIwMzI1NlEA", "reaction", {
        "message_id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBJHNTY3OEg5MEFCQ0RFRjEyMwA=",
        "emoji": "\U0001F44D"}))
    meta_write("unsupported", one(pre + "cTjdPSjhNTTJSUjMxNDM2N1IA", "unsupported", None, errors=[{
        "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."}}]))
    meta_write("batch", envelope({
        "contacts": [contact(), contact("Kai Mendes", "5511987654321")],
        "messages": [
            msg(pre + "dTzhQSzlOTjNTUzQyNTQ3OFMA", "text", {"body": "First"}, ts="1749416380"),
            msg("wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFElQOVFMME9PNFRUNTM2NTg5VAA=", "text",
                {"body": "Segunda mensagem"}, ts="1749416381", frm="5511987654321")]}))
    sent = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
    meta_write("statuses", envelope({"statuses": [
        {"id": sent, "status": "sent", "timestamp": "1749416390",
         "recipient_id": "16505551234",
         "conversation": {"id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
                          "expiration_timestamp": "1749502790",
                          "origin": {"type": "service"}},
         "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"}},
        {"id": sent, "status": "delivered", "timestamp": "1749416391",
         "recipient_id": "16505551234"},
        {"id": sent, "status": "read", "timestamp": "1749416400",
         "recipient_id": "16505551234"}]}))
    meta_write("status_failed", envelope({"statuses": [{
        "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI2RzUzNkI4NUcyNDE0NDU2M0IA",
        "status": "failed", "timestamp": "1749416500", "recipient_id": "16505551234",
        "errors": [{"code": 131047, "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {"details": "Message failed to send because more than 24 "
                                              "hours have passed since the customer last "
                                              "replied to this number."},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/"
                            "support/error-codes/"}]}]}))
    meta_write("account_update", envelope({"event": "VERIFIED_ACCOUNT"}, field="account_update"))
    write("whatsapp", "verify_get", {
        "method": "GET",
        "url": "/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444"
               "&hub.verify_token=" + WHATSAPP_VERIFY_TOKEN,
        "headers": {"Host": HOST, "User-Agent": "facebookplatform/1.0"}})


if __name__ == "__main__":
    twilio()
    whatsapp()

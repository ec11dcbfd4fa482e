"""Channel-aware text: SMS segments, template validation and locale-aware formatting."""

import datetime as dt
import math

import pytest

import omni

HINDI = "नमस्ते आशा, आपका ऑर्डर #4521 भेज दिया गया है और कल तक पहुँच जाएगा। धन्यवाद!"


def test_sms_gsm7_160_and_161() -> None:
    # 3GPP TS 23.038: 160 septets in one message, 153 per part of a concatenated one
    assert omni.sms_count("a" * 160) == ("GSM-7", 1, 160)
    r = omni.sms_segments("a" * 160)
    assert r == {"encoding": "GSM-7", "segments": 1, "units": 160, "parts": ["a" * 160]}
    r = omni.sms_segments("a" * 161)
    assert (r["encoding"], r["segments"], r["units"]) == ("GSM-7", 2, 161)
    assert r["parts"] == ["a" * 153, "a" * 8]
    assert omni.sms_count("a" * 161) == ("GSM-7", 2, 161)
    # extension characters count as two septets (the euro sign, braces, ...)
    assert omni.sms_count("€" * 80) == ("GSM-7", 1, 160)
    assert omni.sms_count("€" * 81)[1] == 2
    assert omni.sms_count("") == ("GSM-7", 1, 0)
    assert omni.sms_segments("")["parts"] == [""]


def test_sms_ucs2_70_and_71() -> None:
    assert omni.sms_count("ы" * 70) == ("UCS-2", 1, 70)
    r = omni.sms_segments("ы" * 71)
    assert (r["encoding"], r["segments"], r["units"]) == ("UCS-2", 2, 71)
    assert r["parts"] == ["ы" * 67, "ы" * 4]
    # characters outside the BMP are two UTF-16 units and never split
    assert omni.sms_count("😀" * 35) == ("UCS-2", 1, 70)
    r = omni.sms_segments("😀" * 36)
    assert r["segments"] == 2 and r["units"] == 72
    assert r["parts"] == ["😀" * 33, "😀" * 3]
    assert "".join(r["parts"]) == "😀" * 36


def test_sms_hindi() -> None:
    units = len(HINDI.encode("utf-16-le")) // 2
    assert units > 70  # Devanagari: UCS-2, all in the BMP
    r = omni.sms_segments(HINDI)
    assert r["encoding"] == "UCS-2"
    assert r["units"] == units
    assert r["segments"] == math.ceil(units / 67)
    assert "".join(r["parts"]) == HINDI
    assert all(len(p.encode("utf-16-le")) // 2 <= 67 for p in r["parts"])
    assert omni.sms_count(HINDI) == ("UCS-2", r["segments"], units)


def test_sms_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.sms_count(b"ok \xff")
    assert info.value.code == "INVALID_ENCODING"
    with pytest.raises(omni.OmniError) as info:
        omni.sms_segments("a" * (64 * 1024 + 1))
    assert info.value.code == "PAYLOAD_TOO_LARGE"


def codes(result: dict) -> set:
    return {f["code"] for f in result["findings"]}


def test_validate_findings() -> None:
    r = omni.template_validate("Hi {{name}}, <b>sale</b>", "sms", data={"name": "Asha"})
    assert r["valid"] is True and r["channel"] == "sms"
    assert codes(r) == {"HTML_IN_TEXT_CHANNEL"}
    assert r["sms"]["parts"] == ["Hi Asha, <b>sale</b>"]

    doc = {
        "templateId": "promo.1", "name": "Sale", "category": "promotional",
        "channels": ["sms"], "content": {"body": "Big sale {{pct}}% off " + "x" * 200},
        "variables": [{"name": "code", "required": True}],
    }
    r = omni.template_validate(doc, "sms", data={"pct": 20}, max_sms_segments=1)
    assert r["valid"] is False
    assert {"SMS_MISSING_OPT_OUT", "SMS_TOO_MANY_SEGMENTS", "MISSING_VARIABLE",
            "UNKNOWN_VARIABLE"} <= codes(r)
    assert all(f["severity"] in ("error", "warning") for f in r["findings"])

    r = omni.template_validate("Hi {{a}}, {{b}}", "whatsapp", whatsapp_parameters=3)
    assert codes(r) == {"WHATSAPP_PARAMETER_COUNT"}
    assert omni.template_validate("Hi {{a}}, {{b}}", "whatsapp",
                                  whatsapp_parameters=2)["valid"] is True

    r = omni.template_validate("Hi {{a}", "push")
    assert codes(r) == {"SYNTAX_ERROR"}
    r = omni.template_validate("{{x}}", "push", data={"x": "y" * 5000})
    assert "PAYLOAD_TOO_LARGE" in codes(r)
    assert r["push"]["apnsBytes"] > 4096

    r = omni.template_validate("Body only", "email")
    assert "MISSING_SUBJECT" in codes(r)
    # the same document as JSON text
    import json
    assert omni.template_validate(json.dumps(doc), "sms", data={"pct": 20},
                                  max_sms_segments=1)["findings"] == omni.template_validate(
        doc, "sms", data={"pct": 20}, max_sms_segments=1)["findings"]


def test_validate_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.template_validate("x", "fax")
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        omni.template_validate("x", "sms", max_sms_segments=0)
    assert info.value.code == "INVALID_ARGUMENT"


def test_format_number() -> None:
    assert omni.format_number(1234567.891) == "1,234,567.891"
    assert omni.format_number(1234567.891, "en-IN") == "12,34,567.891"
    assert omni.format_number(1234567.891, "hi", 2, 2) == "12,34,567.89"
    assert omni.format_number(1.005, "en", 2, 2) == "1.01"
    assert omni.format_number(5, "en", min_fraction=2) == "5.00"
    assert omni.format_number(-0.0) == "-0"
    assert omni.format_number(float("nan")) == "NaN"
    assert omni.format_number(float("-inf")) == "-∞"
    with pytest.raises(omni.OmniError) as info:
        omni.format_number(1, "en", 3, 1)
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError):
        omni.format_number(1, "not a locale!")


def test_format_currency() -> None:
    # Intl.NumberFormat(locale, {style: "currency", currency}) in node 20
    assert omni.format_currency(1234567.891, "INR", "en-IN") == "₹12,34,567.89"
    assert omni.format_currency(-1234.5, "USD", "en-US") == "-$1,234.50"
    assert omni.format_currency(1234.5, "USD", "en-GB") == "US$1,234.50"
    assert omni.format_currency(1234.5, "jpy") == "¥1,235"
    assert omni.format_currency(1234.5, "AED") == "AED\u00a01,234.50"
    with pytest.raises(omni.OmniError) as info:
        omni.format_currency(1, "RUPEE")
    assert info.value.code == "INVALID_ARGUMENT"


def test_format_date() -> None:
    when = "2026-03-08T07:05:00Z"
    assert omni.format_date(when) == "Mar 8, 2026"
    assert omni.format_date(when, "full") == "Sunday, March 8, 2026"
    assert omni.format_date(when, "long", locale="hi") == "8 मार्च 2026"
    assert omni.format_date(when, "EEEE, d MMMM yyyy 'at' h:mm a z", "America/New_York",
                            "en-GB") == "Sunday, 8 March 2026 at 3:05 am GMT-4"
    aware = dt.datetime(2026, 3, 8, 7, 5, tzinfo=dt.timezone.utc)
    assert omni.format_date(aware, "dd/MM/yyyy HH:mm", "Asia/Kolkata") == "08/03/2026 12:35"
    assert omni.format_date(omni.time_parse(when), "yyyy-MM-dd") == "2026-03-08"
    with pytest.raises(omni.OmniError) as info:
        omni.format_date(dt.datetime(2026, 3, 8), "short")
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError) as info:
        omni.format_date("yesterday")
    assert info.value.code == "INVALID_TIMESTAMP"
    with pytest.raises(omni.OmniError) as info:
        omni.format_date(when, "short", "Mars/Olympus")
    assert info.value.code == "NOT_FOUND"
    with pytest.raises(omni.OmniError) as info:
        omni.format_date(when, "QQQ")
    assert info.value.code == "INVALID_ARGUMENT"

"""The template store through an Engine: create, update (versions kept), get, list,
render with the locale fallback chain, delete."""

from typing import Any, Dict

import pytest

import omni

FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}


def shipped() -> Dict[str, Any]:
    return {
        "templateId": "order.shipped",
        "name": "Order shipped",
        "category": "order",
        "channels": ["sms", "email"],
        "content": {
            "subject": "Order {{orderId}} shipped",
            "body": "Hi {{name}}, order {{orderId}} shipped. "
                    "Total {{formatCurrency total \"INR\"}}",
            "htmlBody": "<p>Hi {{name}}, order <b>{{orderId}}</b> shipped.</p>",
        },
        "variables": [{"name": "name", "required": True}, {"name": "orderId"},
                      {"name": "total"}],
        "localizations": {
            "kn": {"body": "ನಮಸ್ಕಾರ {{name}}, ಆರ್ಡರ್ {{orderId}}: "
                           "{{formatCurrency total \"INR\"}}"},
            "hi": {"body": "नमस्ते {{name}}, ऑर्डर {{orderId}}: {{formatCurrency total \"INR\"}}"},
        },
    }


DATA = {"name": "Asha", "orderId": "A-17", "total": 1234567.5}


def test_round_trip() -> None:
    with omni.Engine(FIXED) as engine:
        created = engine.template_create(shipped())
        assert created["version"] == 1
        assert created["isActive"] is True
        assert created["defaultLocale"] == "en"
        assert created["createdAt"] == created["updatedAt"] == "2026-01-01T00:00:00.000Z"
        assert engine.template_get("order.shipped") == created

        with pytest.raises(omni.OmniError) as info:
            engine.template_create(shipped())
        assert info.value.code == "ALREADY_EXISTS"

        doc = shipped()
        doc["content"]["body"] = "v2: Hi {{name}}"
        updated = engine.template_update(doc)
        assert updated["version"] == 2
        assert updated["createdAt"] == created["createdAt"]
        # version 1 stays readable
        assert engine.template_get("order.shipped", version=1)["content"]["body"] == (
            shipped()["content"]["body"])
        assert engine.template_get("order.shipped")["content"]["body"] == "v2: Hi {{name}}"
        with pytest.raises(omni.OmniError) as info:
            engine.template_update(doc, expected_version=1)
        assert info.value.code == "VERSION_CONFLICT" and info.value.retryable
        assert engine.template_update(doc, expected_version=2)["version"] == 3
        with pytest.raises(omni.OmniError) as info:
            engine.template_get("order.shipped", version=9)
        assert info.value.code == "NOT_FOUND"

        # a second template and listing with a filter and a cursor
        pay = {"templateId": "payment.due", "name": "Payment due", "category": "payment",
               "channels": ["sms"], "content": {"body": "Pay {{amount}}"}}
        engine.template_create(pay)
        page = engine.template_list()
        assert [t["templateId"] for t in page["items"]] == ["order.shipped", "payment.due"]
        assert page["next"] is None
        page = engine.template_list(filter={"category": "payment"})
        assert [t["templateId"] for t in page["items"]] == ["payment.due"]
        page = engine.template_list(limit=1)
        assert len(page["items"]) == 1 and page["next"]
        page = engine.template_list(after=page["next"], limit=1)
        assert [t["templateId"] for t in page["items"]] == ["payment.due"]
        with pytest.raises(omni.OmniError) as info:
            engine.template_list(filter={"colour": "red"})
        assert info.value.code == "INVALID_ARGUMENT"

        engine.template_delete("payment.due")
        with pytest.raises(omni.OmniError) as info:
            engine.template_get("payment.due")
        assert info.value.code == "NOT_FOUND"
        with pytest.raises(omni.OmniError) as info:
            engine.template_delete("payment.due")
        assert info.value.code == "NOT_FOUND"


def test_render_with_locale_fallback() -> None:
    with omni.Engine(FIXED) as engine:
        engine.template_create(shipped())
        # kn-IN -> kn (a localization)
        r = engine.template_render("order.shipped", "kn-IN", channel="sms", data=DATA)
        assert r["locale"] == "kn"
        assert r["version"] == 1
        assert r["body"] == "ನಮಸ್ಕಾರ Asha, ಆರ್ಡರ್ A-17: ₹1,234,567.50"  # kn groups by threes
        assert r["sms"]["encoding"] == "UCS-2"
        # hi-IN -> hi, with Indian grouping
        r = engine.template_render("order.shipped", "hi-IN", data=DATA)
        assert (r["locale"], r["body"]) == ("hi", "नमस्ते Asha, ऑर्डर A-17: ₹12,34,567.50")
        # ta-IN -> ta -> (no account default) -> en, the content
        r = engine.template_render("order.shipped", "ta-IN", data=DATA)
        assert r["locale"] == "en"
        assert r["body"].startswith("Hi Asha, order A-17 shipped.")
        # the account's default locale comes before the template's
        r = engine.template_render("order.shipped", "fr", default_locale="kn", data=DATA)
        assert r["locale"] == "kn"
        # email: subject and HTML body (escaped), text body not escaped
        r = engine.template_render("order.shipped", "kn-IN", channel="email",
                                   data={**DATA, "orderId": "<A&17>"})
        assert r["locale"] == "kn"
        assert r["subject"] == "Order <A&17> shipped"  # the content's subject
        assert r["htmlBody"] == "<p>Hi Asha, order <b>&lt;A&amp;17&gt;</b> shipped.</p>"
        assert "sms" not in r
        # data as JSON text, and errors
        assert engine.template_render("order.shipped", "en", data='{"name":"R"}')["body"] == (
            "Hi R, order  shipped. Total ")
        with pytest.raises(omni.OmniError) as info:
            engine.template_render("order.shipped", "en", channel="push", data=DATA)
        assert info.value.code == "INVALID_ARGUMENT"  # not among its channels
        with pytest.raises(omni.OmniError) as info:
            engine.template_render("nope", "en")
        assert info.value.code == "NOT_FOUND"
        with pytest.raises(omni.OmniError) as info:
            engine.template_render("order.shipped", "en", data="{bad")
        assert info.value.code == "INVALID_JSON"


def test_validation_errors_on_create() -> None:
    with omni.Engine(FIXED) as engine:
        doc = shipped()
        doc["localizations"]["hi"]["body"] = "नमस्ते {{name"
        with pytest.raises(omni.OmniError) as info:
            engine.template_create(doc)
        assert info.value.code == "TEMPLATE_SYNTAX_ERROR"
        assert info.value.details["path"] == "localizations.hi.body"
        doc = shipped()
        doc["bogus"] = 1
        with pytest.raises(omni.OmniError) as info:
            engine.template_create(doc)
        assert info.value.code == "INVALID_ARGUMENT"
        assert info.value.details == {"path": "bogus"}
        with pytest.raises(omni.OmniError) as info:
            engine.template_create("{not json")
        assert info.value.code == "INVALID_JSON"
        with pytest.raises(omni.OmniError) as info:
            engine.template_update(shipped())
        assert info.value.code == "NOT_FOUND"
        with pytest.raises(ValueError):
            engine.template_get("order.shipped", version=-1)
    with pytest.raises(omni.OmniError) as info:
        engine.template_get("order.shipped")
    assert info.value.message == "engine is closed"

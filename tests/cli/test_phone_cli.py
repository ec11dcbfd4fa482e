"""omni phone: phone numbers to E.164, one JSON line per input."""
import json


def lines(r):
    return [json.loads(x) for x in r.text.splitlines()]


def test_numbers_as_arguments(omni):
    r = omni("phone", "--region", "US", "(415) 555-0100", "+44 (0)20 7946 0958 ext. 12",
             "tel:+49-30-1234567", "whatsapp:+5511987654321")
    assert r.code == 0, r.err
    out = lines(r)
    assert [o["e164"] for o in out] == ["+14155550100", "+442079460958", "+49301234567",
                                        "+5511987654321"]
    assert out[0] == {"input": "(415) 555-0100", "e164": "+14155550100", "countryCode": 1,
                      "region": "US", "nationalNumber": "4155550100"}
    assert out[1]["extension"] == "12"
    assert out[1]["region"] == "GB"
    assert out[3]["region"] == "BR"


def test_lines_from_stdin_skip_blank_lines(omni):
    r = omni("phone", "--region", "DE",
             input="030 1234567\r\n\n   \n0151 23456789\n+1 415 555 0100")
    assert r.code == 0, r.err
    assert [o["e164"] for o in lines(r)] == ["+49301234567", "+4915123456789", "+14155550100"]


def test_failures_are_reported_per_line_and_exit_1(omni):
    r = omni("phone", "+1 415 555 0100", "1-800-FLOWERS", "+999 1234", "0412 345 678")
    assert r.code == 1
    out = lines(r)
    assert out[0]["e164"] == "+14155550100"
    for o in out[1:]:
        assert o["error"]["code"] == "INVALID_IDENTIFIER"
        assert o["error"]["message"]
        assert "e164" not in o
    assert out[3]["input"] == "0412 345 678"
    assert "region" in out[3]["error"]["message"]  # a national number needs --region


def test_wa_id_and_region_forms(omni):
    r = omni("phone", "16505551234", "--", "-")  # "--" ends options; "-" is an input
    assert r.code == 1
    out = lines(r)
    assert out[0]["e164"] == "+16505551234"
    assert out[1]["error"]["code"] == "INVALID_IDENTIFIER"
    r = omni("phone", "--region=AR", "011 15 2345-6789")
    assert lines(r)[0]["e164"] == "+5491123456789"


def test_invalid_bytes_are_echoed_as_valid_json(omni):
    r = omni("phone", input=b"+1 415 \xff 0100\n")
    assert r.code == 1
    out = lines(r)
    assert out[0]["input"] == "+1 415 \ufffd 0100"


def test_usage_errors(omni):
    r = omni("phone", "--region", "ZZ", "+14155550100")
    assert r.code == 2
    assert r.error()["code"] == "INVALID_ARGUMENT"
    r = omni("phone", "--bogus", "1")
    assert r.code == 2
    r = omni("phone", "--region")
    assert r.code == 2
    r = omni("phone", "--help")
    assert r.code == 0
    assert "usage: omni phone" in r.text

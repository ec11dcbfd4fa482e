"""Encodings: base64 / base64url (RFC 4648), percent-encoding (RFC 3986), forms, UTF-8."""

import pytest

import omni

# RFC 4648 section 10 test vectors.
RFC4648 = [
    (b"", ""),
    (b"f", "Zg=="),
    (b"fo", "Zm8="),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg=="),
    (b"fooba", "Zm9vYmE="),
    (b"foobar", "Zm9vYmFy"),
]


@pytest.mark.parametrize("raw,text", RFC4648)
def test_base64_rfc4648_vectors(raw: bytes, text: str) -> None:
    assert omni.base64_encode(raw) == text
    assert omni.base64_decode(text) == raw
    assert omni.base64url_encode(raw) == text.rstrip("=")
    assert omni.base64url_decode(text.rstrip("=")) == raw
    assert omni.base64url_decode(text) == raw  # padding is optional


def test_base64_accepts_str_bytearray_memoryview() -> None:
    assert omni.base64_encode("foobar") == "Zm9vYmFy"
    assert omni.base64_encode(bytearray(b"foobar")) == "Zm9vYmFy"
    assert omni.base64_encode(memoryview(b"foobar")) == "Zm9vYmFy"
    assert omni.base64_decode(b"Zm9vYmFy") == b"foobar"
    with pytest.raises(TypeError):
        omni.base64_encode(123)  # type: ignore[arg-type]


def test_base64_alphabets() -> None:
    raw = bytes([0xFB, 0xFF, 0xBF])
    assert omni.base64_encode(raw) == "+/+/"
    assert omni.base64url_encode(raw) == "-_-_"
    assert omni.base64url_decode("-_-_") == raw
    # Binary round trip with NULs and every byte value.
    blob = bytes(range(256)) * 3
    assert omni.base64_decode(omni.base64_encode(blob)) == blob
    assert omni.base64url_decode(omni.base64url_encode(blob)) == blob


@pytest.mark.parametrize("bad", ["Zm9v!A==", "Zm9", "Zm9v YmFy", "Zg", "Zh=="])
def test_base64_decode_errors(bad: str) -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.base64_decode(bad)
    assert info.value.code == "INVALID_ENCODING"
    assert info.value.retryable is False


@pytest.mark.parametrize("bad", ["a+b", "a/b", "ab c"])
def test_base64url_decode_errors(bad: str) -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.base64url_decode(bad)
    assert info.value.code == "INVALID_ENCODING"


def test_url_encode_rfc3986() -> None:
    # RFC 3986 section 2.3: unreserved characters stay; everything else is %XX (upper-case).
    assert omni.url_encode("AZaz09-._~") == "AZaz09-._~"
    assert omni.url_encode("a b&c/d=e+f") == "a%20b%26c%2Fd%3De%2Bf"
    assert omni.url_encode("é") == "%C3%A9"
    assert omni.url_decode("a%20b%26c%2fd+e") == "a b&c/d+e"
    assert omni.url_decode("%C3%A9") == "é"
    assert omni.url_decode_bytes("%FF%00") == b"\xff\x00"


@pytest.mark.parametrize("bad", ["%", "%4", "%G0", "abc%zz"])
def test_url_decode_errors(bad: str) -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.url_decode(bad)
    assert info.value.code == "INVALID_ENCODING"


def test_form_encode_and_decode() -> None:
    assert omni.form_encode([("a", "1"), ("b", "x y"), ("a", "2")]) == "a=1&b=x+y&a=2"
    assert omni.form_encode({"q": "a&b=c", "n": "é"}) == "q=a%26b%3Dc&n=%C3%A9"
    assert omni.form_decode("a=1&b=x+y&a=2") == [("a", "1"), ("b", "x y"), ("a", "2")]
    assert omni.form_decode("a=1&&b") == [("a", "1"), ("b", "")]
    assert omni.form_decode("") == []
    pairs = [("To", "+15551234567"), ("Body", "Hi & bye = 100%")]
    assert omni.form_decode(omni.form_encode(pairs)) == pairs


def test_form_decode_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.form_decode("a=%ZZ")
    assert info.value.code == "INVALID_ENCODING"
    with pytest.raises(omni.OmniError) as info:
        omni.form_decode("a=%FF")  # decodes to bytes that are not UTF-8
    assert info.value.code == "INVALID_ENCODING"


def test_utf8_validate() -> None:
    omni.utf8_validate(b"")
    omni.utf8_validate("héllo wörld ✓ 😀")
    omni.utf8_validate(b"\xf4\x8f\xbf\xbf")  # U+10FFFF
    # RFC 3629: overlong forms, surrogates and code points above U+10FFFF are invalid.
    for bad, offset in [
        (b"ab\xc0\xafcd", 2),
        (b"\xed\xa0\x80", 0),
        (b"xyz\xf4\x90\x80\x80", 3),
        (b"ok\xff", 2),
        (b"abc\xe2\x82", 3),
    ]:
        with pytest.raises(omni.OmniError) as info:
            omni.utf8_validate(bad)
        assert info.value.code == "INVALID_ENCODING"
        assert info.value.offset == offset  # type: ignore[attr-defined]

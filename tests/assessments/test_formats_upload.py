"""Decoding uploaded question files: UTF-8, BOMs, GBK/GB18030 and rejected files."""

import codecs

import pytest

from assessments.formats import FormatError, decode_upload, parse_gift

TEXT = "::职责::辅导员的首要职责是什么？{=思想政治教育 ~宿舍维修}\n"


def test_utf8():
    decoded = decode_upload(TEXT.encode("utf-8"))
    assert decoded == TEXT
    assert decoded.encoding == "utf-8"


def test_utf8_with_bom():
    decoded = decode_upload(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert decoded == TEXT
    assert not decoded.startswith("\ufeff")
    assert decoded.encoding == "utf-8-sig"


def test_gbk():
    decoded = decode_upload(TEXT.encode("gbk"))
    assert decoded == TEXT
    assert decoded.encoding == "gb18030"
    [question] = parse_gift(decoded)
    assert question.stem == "辅导员的首要职责是什么？"


def test_gb18030_four_byte_characters():
    # U+20B9F is outside GBK and needs GB18030's four-byte form.
    text = "生僻字\U00020b9f与欧元符号€\n"
    decoded = decode_upload(text.encode("gb18030"))
    assert decoded == text
    assert decoded.encoding == "gb18030"


def test_utf16_with_bom():
    decoded = decode_upload(TEXT.encode("utf-16"))
    assert decoded == TEXT
    assert decoded.encoding == "utf-16"


def test_undecodable_bytes_name_their_line():
    raw = "第一行\n".encode() + b"second \x81\x20 line\n"
    with pytest.raises(FormatError) as caught:
        decode_upload(raw)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (2, "file")
    assert "neither UTF-8 nor GBK/GB18030" in str(problem.message)


def test_broken_utf8_after_bom():
    with pytest.raises(FormatError) as caught:
        decode_upload(codecs.BOM_UTF8 + b"ok\n\xff\n")
    assert caught.value.problems[0].line == 2


def test_word_document_is_rejected():
    with pytest.raises(FormatError) as caught:
        decode_upload(b"PK\x03\x04\x14\x00\x06\x00word/document.xml")
    assert "ZIP archive" in str(caught.value)


def test_binary_control_characters_are_rejected():
    with pytest.raises(FormatError) as caught:
        decode_upload(b"line one\nline\x00two\n")
    [problem] = caught.value.problems
    assert problem.line == 2
    assert "U+0000" in str(problem.message)

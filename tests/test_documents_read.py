"""The document reader (issue 21): generated reports with known title pages, a scan, and each bad document
the issue names. Each bad one becomes a status, the reader goes on to the next, and none is held past the cap."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

import pdfs
from reposync.documents import DocumentReader, Limits, read_document

REPORTS = pdfs.reports()


@pytest.fixture(scope="module")
def reader():
    with DocumentReader(Limits(memory_mb=512)) as shared:
        yield shared


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_reports_read_as_expected(reader, name):
    data, expected = REPORTS[name]
    result = reader.read(data, "application/pdf")
    assert {key: getattr(result, key) for key in expected} == expected
    assert result.bytes == len(data) and len(result.sha256) == 64


def test_text_keeps_every_page_apart():
    data, _ = REPORTS["long-report"]
    result = read_document(data)
    assert result.text.count("\f") == 59  # 60 pages
    assert "Page 60" in result.text and "60.39 The review considered" in result.text


def test_same_bytes_same_sha256_whatever_the_name(reader):
    data, _ = REPORTS["scr-baby-t"]
    assert reader.read(data).sha256 == reader.read(io.BytesIO(data)).sha256


def test_scan_is_counted_not_guessed(reader):
    result = reader.read(REPORTS["scan"][0])
    assert (result.status, result.pages, result.title_read) == ("no-text", 3, None)
    assert result.text.strip() == ""


# --- bad documents --------------------------------------------------------------------------------

def test_truncated_pdf(reader):
    data = pdfs.truncated(REPORTS["cspr-child-k"][0])
    result = reader.read(data, "application/pdf")
    assert result.status == "error" and result.reason.startswith("truncated")
    assert result.sha256 and result.bytes == len(data)


def test_html_error_page_served_as_pdf(reader):
    result = reader.read(pdfs.HTML_ERROR_PAGE, "application/pdf; charset=utf-8")
    assert result.status == "not-a-pdf"
    assert result.reason == "an HTML page, served as application/pdf"


@pytest.mark.parametrize("as_path", [True, False])
def test_300_mb_refused_unread(tmp_path, as_path):
    huge = tmp_path / "huge.pdf"
    with open(huge, "wb") as handle:
        handle.write(b"%PDF-1.4\n")
        handle.truncate(300 * 1024 * 1024)  # sparse: no 300 MB on disk or in memory
    tracemalloc.start()
    if as_path:
        result = read_document(huge)
    else:
        with open(huge, "rb") as handle:
            result = read_document(handle, limits=Limits(max_bytes=1024 * 1024))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.status == "too-big" and result.sha256 is None
    assert result.bytes == (300 * 1024 * 1024 if as_path else 1024 * 1024 + 1)  # a stream: read to cap + 1
    assert peak < 4 * 1024 * 1024


def test_bytes_over_the_cap_are_too_big():
    data, _ = REPORTS["long-report"]
    result = read_document(data, limits=Limits(max_bytes=len(data) - 1))
    assert (result.status, result.bytes, result.text) == ("too-big", len(data), None)


def test_encrypted_pdf(reader):
    data = pdfs.build([pdfs.title_page("Serious Case Review", "Child S")], user_password="secret")
    result = reader.read(data)
    assert result.status == "encrypted" and result.text is None


def test_page_tree_that_contains_itself(reader):
    result = reader.read(pdfs.page_tree_loop())
    assert result.status == "error" and "pages could be loaded" in result.reason


def test_a_million_nested_arrays(reader):
    result = reader.read(pdfs.deep_nesting())
    assert result.pages == 1 and "Nested without end" in result.text


@pytest.mark.parametrize("make", [pdfs.million_page_claim, pdfs.million_pages])
def test_a_million_pages(reader, make):
    result = reader.read(make())
    assert result.status == "error" and result.reason == "1,000,000 pages claimed (the limit is 3,000)"


def test_deflate_bomb_hits_the_memory_limit_and_the_next_document_reads(reader):
    result = reader.read(pdfs.deflate_bomb(1024**3))
    assert result.status == "error" and "memory limit of 512 MB" in result.reason
    data, expected = REPORTS["scr-baby-t"]
    assert reader.read(data).title_read == expected["title_read"]  # a new worker took over


def test_a_document_that_takes_too_long_is_stopped_and_the_night_goes_on():
    limits = Limits(seconds=1.0, max_pages=2_000_000)
    with DocumentReader(limits) as reader:
        started = time.monotonic()
        result = reader.read(pdfs.million_pages())
        assert result.status == "error" and result.reason == "took longer than 1 s"
        assert time.monotonic() - started < 10
        data, expected = REPORTS["cspr-child-k"]
        assert reader.read(data).published_read == expected["published_read"]


# --- Word -----------------------------------------------------------------------------------------

def test_word_with_a_dtd_is_refused(reader):
    data = pdfs.docx(["Serious Case Review", "Child Q"],
                     doctype=b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>')
    result = reader.read(data)
    assert (result.status, result.kind) == ("error", "docx") and "DTD" in result.reason


def test_word_97_is_marked_not_read(reader):
    result = reader.read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "application/msword")
    assert result.status == "not-a-pdf" and result.reason.startswith("a Word 97-2003 (.doc)")


def test_a_zip_that_is_not_word(reader):
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    result = reader.read(out.getvalue(), "application/pdf")
    assert result.status == "not-a-pdf" and result.reason.startswith("a zip that is not a Word document")

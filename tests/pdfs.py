"""A small PDF writer for the document reader's tests and bench: text pages with known title pages, an
image-only page (a scan without a text layer), and each bad document issue 21 names, made at test time
so no binary fixture is committed.

Hand-rolled rather than reportlab or fpdf2: the hostile cases (a page tree that loops, a /Count that lies,
a million nested arrays, a deflate bomb, RC4 encryption) need control over every object, and no library
writes them.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
FILE_ID = bytes.fromhex("5a1c0c2b9d8e4f3a8b7c6d5e4f3a2b1c")


@dataclass
class Page:
    """Lines of text from the top of the page down, each at a font size; or an image filling the page."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    image: bool = False


def text_page(*lines: str, size: float = 11) -> Page:
    return Page([(size, line) for line in lines])


def title_page(*lines: str) -> Page:
    return Page([(20, line) for line in lines])


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")  # WinAnsiEncoding: the em dash and curly quotes included
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content(page: Page) -> bytes:
    if page.image:
        return b"q 468 0 0 648 72 72 cm /Im1 Do Q\n"
    out = [b"BT"]
    y = 760.0
    for size, line in page.lines:
        y -= size * 1.6
        out.append(b"/F1 %g Tf 1 0 0 1 72 %g Tm %s Tj" % (size, y, _pdf_string(line)))
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


class _Encryption:
    """The standard security handler, revision 2 (RC4, 40-bit key): PDF 1.7 section 7.6.3, algorithms 2-4."""

    def __init__(self, user: str, owner: str):
        permissions = -44  # printing and copying refused: what an owner password alone is for
        self.p = permissions
        owner_key = hashlib.md5((owner.encode() + _PAD)[:32]).digest()[:5]
        self.o = _rc4(owner_key, (user.encode() + _PAD)[:32])
        digest = hashlib.md5((user.encode() + _PAD)[:32] + self.o + permissions.to_bytes(4, "little", signed=True)
                             + FILE_ID).digest()
        self.key = digest[:5]
        self.u = _rc4(self.key, _PAD)

    def dictionary(self) -> bytes:
        return b"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <%s> /U <%s> /P %d >>" % (
            self.o.hex().encode(), self.u.hex().encode(), self.p)

    def seal(self, number: int, data: bytes) -> bytes:
        key = hashlib.md5(self.key + number.to_bytes(3, "little") + b"\0\0").digest()[:10]
        return _rc4(key, data)


def _hex_string(data: bytes) -> bytes:
    return b"<" + data.hex().encode() + b">"


def build(pages: list[Page], *, title: str | None = None, user_password: str | None = None,
          owner_password: str = "owner", compress: bool = True) -> bytes:
    """A valid PDF of ``pages`` (Helvetica, US Letter). ``user_password`` encrypts it: "" gives a PDF any
    reader opens but whose permissions an owner password restricts; anything else must be typed to open it."""
    enc = _Encryption(user_password, owner_password) if user_password is not None else None
    objects: dict[int, bytes] = {}
    kids = []
    number = 4
    for page in pages:
        page_no, content_no = number, number + 1
        number += 2
        resources = b"/Font << /F1 3 0 R >>"
        if page.image:
            image_no = number
            number += 1
            pixels = bytes((x * 7 + y * 3) % 256 for y in range(64) for x in range(64))
            objects[image_no] = _stream(image_no, b"/Type /XObject /Subtype /Image /Width 64 /Height 64 "
                                        b"/ColorSpace /DeviceGray /BitsPerComponent 8", pixels, compress, enc)
            resources += b" /XObject << /Im1 %d 0 R >>" % image_no
        objects[page_no] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << %s >> "
                            b"/Contents %d 0 R >>" % (resources, content_no))
        objects[content_no] = _stream(content_no, b"", _content(page), compress, enc)
        kids.append(page_no)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    trailer = b""
    if title is not None:
        info_no = number
        number += 1
        raw = title.encode("utf-16-be")
        value = enc.seal(info_no, b"\xfe\xff" + raw) if enc else b"\xfe\xff" + raw
        objects[info_no] = b"<< /Title %s /Producer (reposync tests) >>" % _hex_string(value)
        trailer += b" /Info %d 0 R" % info_no
    if enc:
        objects[number] = enc.dictionary()
        trailer += b" /Encrypt %d 0 R" % number
    return assemble(objects, trailer)


def _stream(number: int, head: bytes, data: bytes, compress: bool, enc: _Encryption | None) -> bytes:
    if compress:
        data = zlib.compress(data)
        head += b" /Filter /FlateDecode"
    if enc:
        data = enc.seal(number, data)
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (head.strip(), len(data), data)


def assemble(objects: dict[int, bytes], trailer_extra: bytes = b"", *, root: int = 1) -> bytes:
    """Objects (number -> body) into a file with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    size = max(objects) + 1
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R /ID [%s %s]%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, root, _hex_string(FILE_ID), _hex_string(FILE_ID), trailer_extra, xref)
    return bytes(out)


# --- the bad documents ------------------------------------------------------------------------------

def truncated(pdf: bytes, fraction: float = 0.6) -> bytes:
    """A download cut off part way: no cross-reference table, no trailer, the last object unfinished."""
    return pdf[: int(len(pdf) * fraction)]


HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>Page not found</title></head><body>"
                   b"<h1>Sorry, we can't find that page</h1><p>The document may have been moved or removed.</p>"
                   b"</body></html>\n")


def page_tree_loop() -> bytes:
    """A page tree whose node lists itself among its kids: objects that nest without end."""
    return assemble({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 2 >>",
    })


def deep_nesting(depth: int = 1_000_000) -> bytes:
    """A page whose resources hold ``depth`` arrays each inside the last: a recursive parser's stack."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> "
           b"/Deep " + b"[" * depth + b"]" * depth + b" >> /Contents 4 0 R >>",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    body = b"BT /F1 12 Tf 72 700 Td (Nested without end) Tj ET"
    objects[4] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body)
    return assemble(objects)


def million_page_claim(count: int = 1_000_000) -> bytes:
    """A one-page document whose page tree says it has ``count`` pages."""
    body = b"BT /F1 12 Tf 72 700 Td (One page, a million claimed) Tj ET"
    return assemble({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
           b"/Contents 4 0 R >>",
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    })


def million_pages(count: int = 1_000_000) -> bytes:
    """A page tree that really lists ``count`` pages (the same page object each time): about 7 MB."""
    body = b"BT /F1 12 Tf 72 700 Td (The same page again) Tj ET"
    return assemble({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b"3 0 R " * count + b"] /Count %d >>" % count,
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
           b"/Contents 4 0 R >>",
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    })


def deflate_bomb(expanded: int = 2 * 1024**3) -> bytes:
    """One page whose content stream is about 2 MB deflated and ``expanded`` bytes (2 GiB) inflated. The
    deflate stream repeats one full-flushed block, so making it costs a checksum, not 2 GiB of compression."""
    prefix = b"BT /F1 12 Tf 72 700 Td (Bomb) Tj ET\n"
    chunk = b" " * (1 << 20)
    packer = zlib.compressobj(9)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    final_block = packer.flush()[:-4]  # the last (empty) block, without the checksum of what it saw
    count = expanded >> 20
    checksum = zlib.adler32(prefix)
    for _ in range(count):
        checksum = zlib.adler32(chunk, checksum)
    data = head + block * count + final_block + checksum.to_bytes(4, "big")
    return assemble({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
           b"/Contents 4 0 R >>",
        4: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    })


# --- Word ------------------------------------------------------------------------------------------

def docx(paragraphs: list[str], *, pages: int | None = None, doctype: bytes = b"") -> bytes:
    """A minimal .docx: the parts Word needs to open it, one run per paragraph."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    document = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype +
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                + body.encode() + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
                         'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                         '</Types>')
        archive.writestr("word/document.xml", document)
        if pages is not None:
            archive.writestr("docProps/app.xml", f"<Properties><Pages>{pages}</Pages></Properties>")
    return out.getvalue()


# --- reports with known title pages -----------------------------------------------------------------

BODY = ("The review considered the involvement of agencies with the family over the two years before the "
        "incident, and the learning for the partnership about how practitioners share information.")


def body_pages(count: int, *, words: str = BODY, lines: int = 40) -> list[Page]:
    """``count`` pages of report text, numbered, each ``lines`` lines of about 90 characters."""
    return [text_page(*[f"{number}.{line} {words[:80]}" for line in range(lines)], f"Page {number}", size=9)
            for number in range(2, count + 2)]


def reports() -> dict[str, tuple[bytes, dict]]:
    """Named report documents and what the reader must say of each."""
    found: dict[str, tuple[bytes, dict]] = {}

    def add(name: str, data: bytes, **expected) -> None:
        found[name] = (data, expected)

    add("cspr-child-k", build([
        title_page("Northshire Safeguarding Children Partnership",
                   "Child Safeguarding Practice Review \u2014 Child K", "Published: March 2023"),
        *body_pages(3)], title="Microsoft Word - CSPR K v3 FINAL.docx"),
        status="ok", pages=4, title_read="Child Safeguarding Practice Review \u2014 Child K",
        review_type_read="lcspr", pseudonym_read="Child K",
        partnership_read="Northshire Safeguarding Children Partnership",
        published_read="2023-03", published_precision="month")
    add("scr-baby-t", build([
        title_page("Southvale Local Safeguarding Children Board", "Serious Case Review", "Baby T", "October 2013"),
        *body_pages(5)]),
        status="ok", pages=6, title_read="Serious Case Review \u2014 Baby T", review_type_read="scr",
        pseudonym_read="Baby T", partnership_read="Southvale Local Safeguarding Children Board",
        published_read="2013-10", published_precision="month")
    # The type's name broken over two lines, a day-precision labelled date, "Working Together 2018" below.
    add("lcspr-split-title", build([
        title_page("LOCAL CHILD SAFEGUARDING", "PRACTICE REVIEW", "Child LR", "Final report",
                   "Date of publication: 18 February 2021",
                   "Completed under Working Together to Safeguard Children 2018"),
        *body_pages(2)]),
        status="ok", pages=3, title_read="Local Child Safeguarding Practice Review \u2014 Child LR",
        review_type_read="lcspr", pseudonym_read="Child LR", partnership_read=None,
        published_read="2021-02-18", published_precision="day")
    add("thematic-year", build([
        title_page("Eastmoor Safeguarding Partnership", "Thematic Review: Adolescents at risk of exploitation",
                   "2019"),
        *body_pages(2)]),
        status="ok", pages=3, title_read="Thematic Review \u2014 Adolescents at risk of exploitation",
        review_type_read="thematic", pseudonym_read=None, partnership_read="Eastmoor Safeguarding Partnership",
        published_read="2019", published_precision="year")
    # Dates inside sentences are no publication date; a quoted name is the pseudonym.
    add("scr-jack-undated", build([
        title_page("Serious Case Review", "Child \u2018Jack\u2019"),
        text_page("Jack died in November 2016 at the age of four months.",
                  "This review followed Working Together 2015."),
        *body_pages(2)]),
        status="ok", pages=4, title_read="Serious Case Review \u2014 Child \u2018Jack\u2019",
        review_type_read="scr", pseudonym_read="Child \u2018Jack\u2019", published_read=None,
        published_precision=None)
    # A labelled date wins over a date alone on its line (the month the review was signed off, say).
    add("labelled-wins", build([
        title_page("Westfield Children's Safeguarding Partnership", "Safeguarding Practice Review",
                   "Family A", "January 2021", "Published 6th July 2021"),
        *body_pages(2)]),
        status="ok", pages=3, title_read="Safeguarding Practice Review \u2014 Family A", review_type_read="lcspr",
        partnership_read="Westfield Children's Safeguarding Partnership",
        published_read="2021-07-06", published_precision="day")
    # A cover that is a picture: the title is read from page two.
    add("image-cover", build([
        Page(image=True),
        title_page("Child Safeguarding Practice Review", "Children A and B", "Published: May 2022"),
        *body_pages(2)]),
        status="ok", pages=4, title_read="Child Safeguarding Practice Review \u2014 Children A and B",
        published_read="2022-05", published_precision="month")
    add("scan", build([Page(image=True), Page(image=True), Page(image=True)]),
        status="no-text", pages=3, title_read=None, published_read=None)
    add("long-report", build([title_page("Serious Case Review", "Child M", "Published: June 2016"),
                              *body_pages(59)]),
        status="ok", pages=60, title_read="Serious Case Review \u2014 Child M", published_read="2016-06")
    # Permissions restricted by an owner password, no password to open: readable.
    add("owner-password", build([title_page("Serious Case Review", "Child F", "Published: 2017"),
                                 *body_pages(1)], user_password=""),
        status="ok", pages=2, title_read="Serious Case Review \u2014 Child F", published_read="2017",
        published_precision="year")
    add("word", docx(["Northshire Safeguarding Children Partnership", "Local Child Safeguarding Practice Review",
                      "Child P", "Published: September 2024", *[BODY] * 30], pages=12),
        status="ok", kind="docx", pages=12, title_read="Local Child Safeguarding Practice Review \u2014 Child P",
        partnership_read="Northshire Safeguarding Children Partnership",
        published_read="2024-09", published_precision="month")
    return found

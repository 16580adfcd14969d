"""Report documents: what the PDFs (and Word files) the entries link to say (issue 21).

In: a document's bytes (or a file, or a stream) as fetched, with the content type the server declared,
under a size cap (``Limits.max_bytes``, 50 MB by default; more is refused before it is held).

Out: a ``DocumentRead``: ``sha256``, ``bytes``, ``kind`` (pdf or docx), ``pages``, ``text`` (pages joined
by form feeds), what the first pages say (``title_read`` such as "Child Safeguarding Practice Review —
Child K", ``review_type_read``, ``pseudonym_read``, ``partnership_read``, ``published_read`` at its
``published_precision``: year, month or day), and ``status``: ``ok``, ``no-text`` (a scan without a text
layer: counted, no OCR), ``not-a-pdf`` (an HTML error page, a Word 97 file), ``too-big``, ``encrypted``
(a password is needed to open it), or ``error`` with the reason. A bad document never raises.

PDFs are read with pypdfium2 in a worker process under an address-space limit and a deadline per document
(``worker.py``); Word files with the standard library (``docx.py``). Nothing here fetches, stores or
writes the catalogue: the sync wires the stage in (the ``documents`` table, FTS, evidence, the pack zip).
"""

from .read import STATUSES, DocumentRead, DocumentReader, read_document
from .worker import Limits

__all__ = ["STATUSES", "DocumentRead", "DocumentReader", "Limits", "read_document"]

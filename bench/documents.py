"""Reading report documents: pypdfium2 and pypdf side by side on the same generated PDFs, then
reposync's own reader (pypdfium2 in its worker process, plus the title page), then each bad document.

    .venv/bin/pip install pypdf==7.1.1      # the comparison only: pypdf is no reposync dependency
    .venv/bin/python bench/documents.py                 # 1,500 documents of 1-12 pages, then the bad ones
    .venv/bin/python bench/documents.py --docs 300 --max-pages 40
    .venv/bin/python bench/documents.py --skip-bad

Each library reads in a child process of its own (every page's text, as the reader keeps it), so its peak
memory is its own: ru_maxrss of that child, beside the same child's before it reads anything. The
documents are written to bench/out/documents/ once (git-ignored) and read from files, one at a time.
Figures are ratios in the same run: the machine is shared and noisy, no absolute time means much.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import pdfs  # noqa: E402  tests/pdfs.py: the same generator as the tests

OUT = ROOT / "bench" / "out" / "documents"


def generate(docs: int, max_pages: int) -> list[Path]:
    """``docs`` reports: the tests' title pages in turn, 0 to ``max_pages - 1`` body pages each (seeded)."""
    folder = OUT / f"{docs}x{max_pages}"
    paths = [folder / f"{n:05d}.pdf" for n in range(docs)]
    if all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(21)
    titles = [("Serious Case Review", f"Child {chr(65 + n % 26)}", f"Published: {month} {year}")
              for n, (month, year) in enumerate((m, y) for y in range(2010, 2025)
                                                 for m in ("March", "June", "October"))]
    for n, path in enumerate(paths):
        body = pdfs.body_pages(rng.randrange(max_pages))
        path.write_bytes(pdfs.build([pdfs.title_page(*titles[n % len(titles)]), *body]))
    return paths


# --- in the child ------------------------------------------------------------------------------------

def _pdfium(data: bytes) -> tuple[int, int]:
    import pypdfium2 as pdfium
    document = pdfium.PdfDocument(data)
    try:
        chars = 0
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
        return len(document), chars
    finally:
        document.close()


def _pypdf(data: bytes) -> tuple[int, int]:
    import pypdf
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise PermissionError("a password is needed")
    return len(reader.pages), sum(len(page.extract_text()) for page in reader.pages)


def _reposync_reader():
    from reposync.documents import DocumentReader
    reader = DocumentReader()

    def read(data: bytes) -> tuple[int, int]:
        result = reader.read(data)
        if result.status not in ("ok", "no-text"):
            raise RuntimeError(f"{result.status}: {result.reason}")
        return result.pages, len(result.text)
    return read, reader


def child_read(library: str, listing: str) -> None:
    """Read every file named in ``listing``; print one JSON line of figures."""
    paths = Path(listing).read_text().split("\n")
    closer = None
    if library == "pypdfium2":
        read = _pdfium
        import pypdfium2  # noqa: F401  imported before the baseline is taken, as for pypdf
    elif library == "pypdf":
        read = _pypdf
        import pypdf  # noqa: F401
    else:
        read, closer = _reposync_reader()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pages = chars = failed = 0
    started = time.perf_counter()
    for path in paths:
        data = Path(path).read_bytes()
        try:
            n, c = read(data)
            pages += n
            chars += c
        except Exception:
            failed += 1
    seconds = time.perf_counter() - started
    if closer:
        closer.close()
    print(json.dumps({"seconds": seconds, "pages": pages, "chars": chars, "failed": failed,
                      "base_kb": before, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "worker_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))


BAD = {
    "truncated": lambda: pdfs.truncated(pdfs.build([pdfs.title_page("Serious Case Review", "Child K"),
                                                    *pdfs.body_pages(3)])),
    "html-as-pdf": lambda: pdfs.HTML_ERROR_PAGE,
    "encrypted": lambda: pdfs.build([pdfs.title_page("Serious Case Review")], user_password="secret"),
    "page-tree-loop": pdfs.page_tree_loop,
    "nested-1e6": pdfs.deep_nesting,
    "claims-1e6-pages": pdfs.million_page_claim,
    "lists-1e6-pages": pdfs.million_pages,
    "deflate-bomb-2GiB": pdfs.deflate_bomb,
}


def child_bad(library: str, case: str) -> None:
    """One bad document, one library, under a 4 GiB address-space limit (what the library would do to
    a sync process without one, short of eating the machine)."""
    data = BAD[case]()
    limit = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.perf_counter()
    if library == "reposync":
        from reposync.documents import read_document
        result = read_document(data, "application/pdf")
        outcome = f"{result.status}: {result.reason or ''}"[:70]
    else:
        try:
            pages, chars = (_pdfium if library == "pypdfium2" else _pypdf)(data)
            outcome = f"read: {pages} pages, {chars} chars"
        except BaseException as error:  # noqa: BLE001  what the library raises is the figure
            outcome = f"{type(error).__name__}: {error}"[:70]
    print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


# --- the parent --------------------------------------------------------------------------------------

def _child(*args: str, timeout: float) -> dict:
    command = [sys.executable, __file__, "--child", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": f"still running after {timeout:g} s (killed)", "seconds": timeout, "peak_kb": 0}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"outcome": f"process died (exit {done.returncode})", "seconds": float("nan"), "peak_kb": 0}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--max-pages", type=int, default=12)
    parser.add_argument("--skip-bad", action="store_true")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        kind, what = args.child
        if what in BAD:
            child_bad(kind, what)
        else:
            child_read(kind, what)
        return

    paths = generate(args.docs, args.max_pages)
    listing = OUT / f"{args.docs}x{args.max_pages}.txt"
    listing.write_text("\n".join(str(p) for p in paths))
    size = sum(p.stat().st_size for p in paths)
    import platform
    print(f"{args.docs} documents, 1-{args.max_pages} pages, {size / 1e6:.1f} MB; Python {platform.python_version()}, "
          f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(f"{'reader':24} {'docs/s':>8} {'pages/s':>8} {'seconds':>8} {'peak MB':>8} {'base MB':>8} "
          f"{'worker MB':>9} {'failed':>6}")
    rows = {}
    for library in ("pypdfium2", "pypdf", "reposync"):
        got = _child(library, str(listing), timeout=3600)
        if "outcome" in got:
            print(f"{library:24} {got['outcome']}")
            continue
        rows[library] = got
        name = library if library != "reposync" else "reposync (pdfium worker)"
        print(f"{name:24} {args.docs / got['seconds']:8.1f} {got['pages'] / got['seconds']:8.0f} "
              f"{got['seconds']:8.1f} {got['peak_kb'] / 1024:8.0f} {got['base_kb'] / 1024:8.0f} "
              f"{got['worker_peak_kb'] / 1024:9.0f} {got['failed']:6d}")
    if "pypdfium2" in rows and "pypdf" in rows:
        a, b = rows["pypdfium2"], rows["pypdf"]
        print(f"pypdfium2 / pypdf: {b['seconds'] / a['seconds']:.1f}x the documents per second; "
              f"peak {a['peak_kb'] / b['peak_kb']:.2f}x the memory; same pages: {a['pages'] == b['pages']}")
    if args.skip_bad:
        return
    print(f"\n{'bad document':20} {'reader':10} {'seconds':>8} {'peak MB':>8}  outcome")
    for case in BAD:
        for library in ("pypdfium2", "pypdf", "reposync"):
            got = _child(library, case, timeout=180)
            print(f"{case:20} {library:10} {got['seconds']:8.2f} {got['peak_kb'] / 1024:8.0f}  {got['outcome']}")


if __name__ == "__main__":
    main()

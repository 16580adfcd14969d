"""A second night, made from the bundled snapshots: what the two-night and crash tests replay.

Night 2 (SYNTHETIC edits of the real pages, for tests only): York adds an
entry (Child S, invented), corrects a title (the thematic review), moves a PDF
link (Child B) and drops an entry (Messages from reviews, expired); the
recently-published rolling page rolls (Gabriel rolls off).
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from conftest import CONFIG, SNAPSHOTS
from reposync.archive.snapshots import Archive

NIGHT_TWO_FETCHED = "2026-11-27T02:10:00+00:00"


def source_url(source_id: str) -> str:
    return next(s["url"] for s in tomllib.loads(CONFIG.read_text(encoding="utf-8"))["source"] if s["id"] == source_id)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, f"the snapshot no longer holds {old!r}: update tests/nights.py"
    return text.replace(old, new, 1)


def york_night_two(html: str) -> str:
    html = re.sub(r"\s*<tr>\s*<td><a [^>]*>Messages from reviews</a>.*?</tr>", "", html, count=1, flags=re.S)
    html = _edit(html, ">Thematic review of child neglect</a>", ">Thematic review of child neglect in York</a>")
    html = _edit(html, 'href="/assets/Child%20B%20SCR', 'href="/documents/Child%20B%20SCR')
    # Child S joins the list of reviews (the table after class="doclist"), as a new row of it.
    start = html.index('class="doclist"')
    end = html.index("</table>", start)
    row = ('  <tr>\n          <!-- synthetic: an invented entry for the two-night test -->\n'
           '          <td><a href="/assets/Child%20S%20SPR.pdf">Child S</a> (published 20/11/26)</td>\n'
           "        </tr>\n      ")
    return html[:end] + row + html[end:]


def recent_night_two(html: str) -> str:
    """The rolling page as it moves on: the Gabriel entry rolls off."""
    rolled, count = re.subn(r"<h3>[^<]*Gabriel</h3>.*?(?=<h3>)", "", html, count=1, flags=re.S)
    assert count == 1 and "Gabriel" not in rolled, "could not roll Gabriel off the rolling page: update tests/nights.py"
    return rolled


def make_night_two(destination: Path, *, rolling: bool = True) -> Path:
    """A copy of the bundled archive with night 2's pages fetched after night 1's."""
    shutil.copytree(SNAPSHOTS, destination)
    archive = Archive(destination)
    edits = [("york", york_night_two)] + ([("nspcc-recent", recent_night_two)] if rolling else [])
    for source_id, edit in edits:
        url = source_url(source_id)
        row = archive.latest(url)
        assert row is not None, f"no snapshot of {source_id}"
        body = edit(archive.body(row.sha256).decode("utf-8")).encode("utf-8")
        archive.add(url, body, fetched_at=NIGHT_TWO_FETCHED, content_type=row.content_type)
    return destination

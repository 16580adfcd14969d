"""NSPCC yearly lists on nspcc.org.uk, 2012-2018.

2012-2013 on the old "Inform" site (``/Inform/resourcesforprofessionals/scrs/``),
2014-2018 on the newer site (``/preventing-abuse/.../case-reviews/2014/``).
A list heading (``Case reviews published in 2013``), an intro, then newest
first one heading per review: ``December 2013 - Derbyshire - BDS12`` (month
and year, 2013-14) or ``2016 – Anonymous – Child BS`` (year only, from 2016),
with rendering faults such as ``2012Ceredigion – Child J``. The body: a
summary, ``Background:``, ``Learning:`` / ``Key issues:`` / ``Issues
identified include:``, ``Recommendations:``, optional ``Model:``, keywords
(with no label at all in 2012-13) and a report link, on the Inform site often
the heading itself.

meta: ``list_heading``. The page is single: ``next_url`` is always None.
"""

from __future__ import annotations

from ..models import ParseResult
from .nspcc_list import read_list


def parse(html: str, url: str) -> ParseResult:
    return read_list(html, url)

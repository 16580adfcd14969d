"""NSPCC rolling pages on learning.nspcc.org.uk.

``recently-published-case-reviews`` and ``monthly-case-reviews-update`` show,
at one URL, whichever list is current (2018, 2019, 2022, 2025 ...): a title,
``Last updated: 04 Sep 2018``, a list heading (``Case reviews published in
2018``, sometimes twice, or ``New in the collection``), an intro, from 2022 a
helpline notice, then one heading ``YYYY - Area - Title`` per review with its
summary, labelled sections, keywords and a link to the report.

meta: ``last_updated`` (as written) and ``list_heading``. The page is single:
``next_url`` is always None.
"""

from __future__ import annotations

from ..models import ParseResult
from .nspcc_list import read_list


def parse(html: str, url: str) -> ParseResult:
    return read_list(html, url)

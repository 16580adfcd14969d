"""Blocking: the national records a local entry is scored against, found by dict lookups (``_Index``), never
by comparing all pairs; ``Linker.candidates`` reads them (passes A, A', B and C)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from .records import Record


class _Index:
    """National records by area, name and title word: where a local entry's candidates are looked up."""

    def __init__(self, records: Iterable[Record], national_count: int) -> None:
        records = records if isinstance(records, list) else list(records)
        self.by_code_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self.by_code_name: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self.by_code_undated: dict[str, list[Record]] = defaultdict(list)
        self.anon_by_name_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self.anon_by_token_year: dict[tuple[str, int], list[Record]] = defaultdict(list)
        token_df: Counter = Counter()
        for record in records:
            if not record.codes and not record.names:
                token_df.update(record.tokens)
        # A title word is rare when few anonymous nameless records use it (of the whole national collection).
        rare_limit = max(3, national_count // 200)
        for record in records:
            if record.codes:
                for code in record.codes:
                    if record.start is None:
                        self.by_code_undated[code].append(record)
                    for year in record.years():
                        self.by_code_year[(code, year)].append(record)
                    for name in record.names:
                        self.by_code_name[(code, name)].append(record)
            elif record.names:
                for name in record.names:
                    for year in record.years():
                        self.anon_by_name_year[(name, year)].append(record)
            else:
                for token in record.tokens:
                    if token_df[token] <= rare_limit:
                        for year in record.years():
                            self.anon_by_token_year[(token, year)].append(record)

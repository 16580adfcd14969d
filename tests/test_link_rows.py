"""The linker reads the catalogue once (``catalogue.LinkRows``), keeps its national records in a temporary file
read one area at a time, and gives what linking every record at once gives."""

from __future__ import annotations

import importlib.util
import random
import sys

import pytest
import sqlite_utils

from conftest import ROOT
from reposync import catalogue, link


def _bench():
    spec = importlib.util.spec_from_file_location("bench_linkage_rows", ROOT / "bench" / "linkage.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_linkage_rows"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gold_db(tmp_path_factory) -> tuple[sqlite_utils.Database, list[dict]]:
    """The gold set's rows in a catalogue, in an order of their own (rowids are not the gold order)."""
    bench = _bench()
    # Without the held-back halves (blind, final, last, check): each is linked once, at the end, by
    # bench/linkage.py.
    rows = bench.gold_rows(bench.without_blind(bench.load_gold()))
    random.Random(15).shuffle(rows)
    db = catalogue.open_db(tmp_path_factory.mktemp("link-rows") / "catalogue.db")
    db["entries"].insert_all(rows)
    stored = list(db.query(f"{catalogue.LINK_ROWS_SQL} ORDER BY rowid"))
    return db, stored


def test_link_rows_reads_every_row_in_rowid_order(gold_db) -> None:
    db, stored = gold_db
    assert list(catalogue.LinkRows(db)) == stored


def test_linking_through_sql_equals_linking_the_rows_held(gold_db) -> None:
    db, stored = gold_db
    local = [r["id"] for r in stored if r["kind"] == "local"][:6]
    national = [r["id"] for r in stored if r["kind"] == "national"][:6]
    decisions = [link.Decision(a, b, "accepted" if n % 2 else "rejected", "2026-01-01T00:00:00Z")
                 for n, (a, b) in enumerate(zip(local, national))]
    for given in ([], decisions):
        through_sql = link.link_all(catalogue.LinkRows(db), given)
        held = link.link_all(stored, given)
        assert through_sql == held
        assert through_sql.links  # the gold set links: the comparison is not of two empty results


def test_the_area_by_area_dedupe_groups_as_a_dedupe_of_every_record_at_once(gold_db) -> None:
    db, stored = gold_db
    records = [link.Record.from_row(r) for r in stored if r["kind"] == "national"]
    weights = link.Weights.from_records(records)  # counted in memory, not in the linker's temporary database
    at_once = sorted(sorted(records[i].id for i in group) for group in link.dedupe(records, weights))
    linkage = link.link_all(catalogue.LinkRows(db))
    assert linkage.national_groups == at_once
    assert any(len(group) > 1 for group in at_once)


def test_a_record_read_back_from_the_temporary_file_is_the_record_written(gold_db) -> None:
    from reposync.link.records import _STATE, SpilledRecords

    _, stored = gold_db
    records = [link.Record.from_row(r) for r in stored]
    spilled = SpilledRecords()
    for record in records:
        spilled.append(record)
    wanted = [0, 1, 7, len(records) - 1]
    assert [_STATE(r) for r in spilled.read(wanted)] == [_STATE(records[i]) for i in wanted]
    # the rows are read once: a generator of them links as the list does
    assert link.link_all(iter(stored)) == link.link_all(stored)

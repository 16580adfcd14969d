"""A run's rows between the walk and the apply: in memory up to a budget, then on disk; spill() moves them."""

from __future__ import annotations

import threading

from reposync.archive.spool import Spooler


def rows(n: int, tag: str) -> list[dict]:
    return [{"id": f"{tag}:{i}", "n": i} for i in range(n)]


def test_rows_come_back_in_order_across_memory_and_disk() -> None:
    spooler = Spooler(in_memory=3)
    first = spooler.spool(rows(5, "a"))  # 3 in memory, 2 on disk
    second = spooler.spool(rows(2, "b"))  # the budget is spent: both on disk
    assert list(first) == rows(5, "a") and list(second) == rows(2, "b")
    assert len(first) == 5 and first.spilled and second.spilled and spooler.room == 0


def test_spill_moves_the_rows_in_memory_to_disk_and_gives_their_room_back() -> None:
    spooler = Spooler(in_memory=10)
    spool = spooler.spool(rows(4, "a"))
    assert not spool.spilled and spooler.room == 6
    spool.spill()
    assert spool.spilled and spooler.room == 10 and len(spool) == 4
    assert list(spool) == rows(4, "a") and list(spool) == rows(4, "a")  # read back as often as wanted
    partly = spooler.spool(rows(15, "b"))  # 10 in memory, 5 on disk
    partly.spill()
    assert list(partly) == rows(15, "b") and spooler.room == 10
    spool.close()
    assert list(spool) == [] and list(partly) == rows(15, "b")


def test_spools_of_several_threads_share_one_budget_and_database() -> None:
    spooler = Spooler(in_memory=100)
    spools = [spooler.spool() for _ in range(8)]

    def fill(n: int) -> None:
        for row in rows(200, f"t{n}"):
            spools[n].append(row)
        spools[n].flush()

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [list(s) for s in spools] == [rows(200, f"t{n}") for n in range(8)]
    assert spooler.room == 0 and sum(not s.spilled for s in spools) == 0

"""The register of every partnership in England (config/partnerships.toml, issue 20).

Every English area of config/areas.toml belongs to exactly one partnership or is listed as unassigned with a
reason; names resolve through areas.toml so ONS codes follow; every address says where it was found; the
configured partnerships agree with the register; config/england.toml is what the register gives and loads
beside sources.toml, but is not read by default.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path


from conftest import CONFIG, ROOT, copy_bundled_config
from reposync.normalise.areas import load_areas
from reposync.config import load_config

REGISTER_PATH = ROOT / "config" / "partnerships.toml"
ENGLAND = ROOT / "config" / "england.toml"
AREAS_PATH = ROOT / "config" / "areas.toml"
REGISTER = tomllib.loads(REGISTER_PATH.read_text(encoding="utf-8"))
PARTNERSHIPS = REGISTER["partnership"]
UNASSIGNED = REGISTER.get("unassigned", [])
AREAS = load_areas(AREAS_PATH)
ENGLISH = [a["name"] for a in tomllib.loads(AREAS_PATH.read_text(encoding="utf-8"))["area"] if a["nation"] == "england"]
FOUND = re.compile(r"^(https?://\S+|bundled: .+|not verified: .+)$")

# Targets of issue 20 (count of partnerships, home pages, pages of reviews).
ALL_PARTNERSHIPS, HOME_PAGES, REVIEW_PAGES = 130, 120, 60


def counts() -> str:
    homes = sum("home" in p for p in PARTNERSHIPS)
    reviews = sum("reviews" in p for p in PARTNERSHIPS)
    stored = sum(p.get(key, "").startswith("http") for p in PARTNERSHIPS for key in ("home_found", "reviews_found"))
    return (f"{len(PARTNERSHIPS)} partnerships, {homes} home pages, {reviews} pages of reviews, "
            f"{stored} addresses found on stored pages, {len(UNASSIGNED)} areas unassigned")


def members(partnership: dict) -> list[str]:
    return partnership.get("members", [partnership["area"]])


def test_ids_are_unique_and_source_ids() -> None:
    ids = Counter(p["id"] for p in PARTNERSHIPS)
    assert [i for i, n in ids.items() if n > 1] == [], counts()
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", i) for i in ids), counts()


def test_every_name_resolves_through_areas_toml() -> None:
    unknown = [(p["id"], name) for p in PARTNERSHIPS for name in [p["area"], *members(p)] if AREAS.lookup(name) is None]
    unknown += [("unassigned", u["area"]) for u in UNASSIGNED if AREAS.lookup(u["area"]) is None]
    assert unknown == [], f"{len(unknown)} names not in areas.toml; {counts()}"
    # A partnership's own name means its area too (national records name the partnership, not the council).
    wrong = [(p["id"], p["name"]) for p in PARTNERSHIPS
             if (AREAS.lookup(p["name"]) or AREAS.lookup(p["area"])).name != AREAS.lookup(p["area"]).name
             or AREAS.lookup(p["name"]) is None]
    assert wrong == [], f"{len(wrong)} partnership names resolve to no area or another; {counts()}"


def test_a_joint_partnerships_area_carries_every_members_codes() -> None:
    short = [(p["id"], m) for p in PARTNERSHIPS for m in members(p)
             if not set(AREAS.lookup(m).codes) <= set(AREAS.lookup(p["area"]).codes)]
    assert short == [], counts()
    assert all(len(p["members"]) > 1 for p in PARTNERSHIPS if "members" in p)


def test_every_english_area_belongs_to_exactly_one_partnership_or_says_why_not() -> None:
    owners: dict[str, list[str]] = {}
    for p in PARTNERSHIPS:
        for name in {AREAS.lookup(n).name for n in [p["area"], *members(p)]}:
            owners.setdefault(name, []).append(p["id"])
    for u in UNASSIGNED:
        assert u.get("why", "").strip(), f"unassigned {u['area']} says no why"
        owners.setdefault(AREAS.lookup(u["area"]).name, []).append("unassigned")
    nowhere = [n for n in ENGLISH if n not in owners]
    twice = {n: owners[n] for n in ENGLISH if len(owners.get(n, [])) > 1}
    assert nowhere == [] and twice == {}, (
        f"{len(ENGLISH)} English areas: {len(nowhere)} in no partnership {nowhere}, "
        f"{len(twice)} in more than one {twice}; {counts()}")
    assert not any(AREAS.lookup(n).nation != "england" for n in owners), "the register is England's"


def test_every_address_is_http_and_says_where_it_was_found() -> None:
    problems = []
    for p in PARTNERSHIPS:
        for key in ("home", "reviews"):
            if key in p:
                if not re.match(r"^https?://[^\s/]+", p[key]):
                    problems.append((p["id"], key, p[key]))
                if not FOUND.match(p.get(f"{key}_found", "")):
                    problems.append((p["id"], f"{key}_found", p.get(f"{key}_found")))
            elif f"{key}_found" in p:
                problems.append((p["id"], f"{key}_found without {key}"))
    assert problems == [], f"{len(problems)} problems; {counts()}"


def test_targets_partnerships_and_home_pages() -> None:
    assert len(PARTNERSHIPS) >= ALL_PARTNERSHIPS, counts()
    assert sum("home" in p for p in PARTNERSHIPS) >= HOME_PAGES, counts()


def test_target_pages_of_reviews() -> None:
    assert sum("reviews" in p for p in PARTNERSHIPS) >= REVIEW_PAGES, counts()


def test_the_configured_partnerships_agree_with_the_register() -> None:
    by_id = {p["id"]: p for p in PARTNERSHIPS}
    config = load_config(CONFIG)
    local = [s for s in config.sources if s.kind == "local"]
    assert local, "sources.toml has local sources"
    for source in local:
        partnership = by_id.get(source.id)
        assert partnership is not None, f"{source.id} is configured but not in the register"
        assert partnership.get("reviews") == source.url, f"{source.id}: the register's page of reviews differs"
        assert set(source.area.codes) <= set(AREAS.lookup(partnership["area"]).codes), source.id


def test_england_toml_is_what_the_register_gives() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "config" / "make_england.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    england = tomllib.loads(ENGLAND.read_text(encoding="utf-8"))["source"]
    configured = {s.id for s in load_config(CONFIG).sources}
    with_reviews = {p["id"] for p in PARTNERSHIPS if "reviews" in p}
    assert {s["id"] for s in england} == with_reviews - configured


def test_england_toml_is_off_by_default_and_loads_when_turned_on(tmp_path: Path) -> None:
    assert not (ROOT / "config" / "sources.d" / "england.toml").exists()  # the offline bundle stays as it is
    default = load_config(CONFIG)
    england_ids = {s["id"] for s in tomllib.loads(ENGLAND.read_text(encoding="utf-8"))["source"]}
    assert not england_ids & {s.id for s in default.sources}
    config = copy_bundled_config(tmp_path / "config")
    (config.parent / "sources.d").mkdir()
    shutil.copy(ENGLAND, config.parent / "sources.d" / "england.toml")  # the README's one step
    turned_on = load_config(config)
    added = {s.id for s in turned_on.sources} - {s.id for s in default.sources}
    assert len(added) == len(tomllib.loads(ENGLAND.read_text(encoding="utf-8"))["source"]) > 0
    by_id = {p["id"]: p for p in PARTNERSHIPS}
    for source in turned_on.sources:
        if source.id in added:  # each with its partnership's area codes, every member's for a joint one
            assert set(source.area.codes) == set(AREAS.lookup(by_id[source.id]["area"]).codes), source.id
    berkshire = next(s for s in default.sources if s.id == "berkshire-west")  # bundled since issue 20's pages
    assert set(berkshire.area.codes) == {"E06000037", "E06000038", "E06000041"}  # Reading, West Berkshire, Wokingham

"""config/areas.toml: area and board names resolve to the right ONS codes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from reposync.normalise.areas import Area, AreaIndex, load_areas
from reposync.errors import ConfigError

AREAS_TOML = Path(__file__).resolve().parent.parent / "config" / "areas.toml"

# Codes of authorities that no longer exist (or were recoded); every other E06/E08/E09/E10 code is current.
FORMER_CODES = {
    "E06000028",  # Bournemouth, to BCP 2019
    "E06000029",  # Poole, to BCP 2019
    "E06000048",  # Northumberland, recoded 2013
    "E08000020",  # Gateshead, recoded 2013
    "E08000016",  # Barnsley, recoded after 2021
    "E08000019",  # Sheffield, recoded after 2021
    "E10000002",  # Buckinghamshire county, unitary 2020
    "E10000006",  # Cumbria, split 2023
    "E10000009",  # Dorset county, unitary 2019
    "E10000021",  # Northamptonshire, split 2021
    "E10000023",  # North Yorkshire county, unitary 2023
    "E10000027",  # Somerset county, unitary 2023
}
ENGLISH_UPPER_TIER = ("E06", "E08", "E09", "E10")


@pytest.fixture(scope="module")
def index() -> AreaIndex:
    # load_areas raises ConfigError on a bad code or a name that resolves to two areas.
    return load_areas(AREAS_TOML)


def _resolve(index: AreaIndex, name: str) -> Area:
    area = index.lookup(name)
    assert area is not None, f"{name!r} does not resolve"
    return area


def _single_authority(index: AreaIndex) -> list[Area]:
    """Areas that are one authority: not a partnership or umbrella whose codes strictly contain another area's."""
    areas = list(index.areas.values())
    return [a for a in areas if not any(set(b.codes) < set(a.codes) for b in areas if b is not a)]


YORK_NAMES = [
    "York",
    "City of York",
    "CYSCB",
    "CYSCP",
    "City of York Safeguarding Children Board",
    "City of York Safeguarding Children Partnership",
]


@pytest.mark.parametrize("name", YORK_NAMES)
def test_york_names_resolve_to_york(index: AreaIndex, name: str) -> None:
    area = _resolve(index, name)
    assert area.name == "York"
    assert area.codes == ("E06000014",)
    assert area.nation == "england"


@pytest.mark.parametrize(
    ("name", "codes", "nation"),
    [
        # names as national records give them (SOURCES.md section 4)
        ("Norfolk Safeguarding Children Board", {"E10000020"}, "england"),
        ("Tower Hamlets Safeguarding Children Board", {"E09000030"}, "england"),
        ("Bradford Safeguarding Children Board", {"E08000032"}, "england"),
        ("Derbyshire", {"E10000007"}, "england"),
        ("East Sussex", {"E10000011"}, "england"),
        ("Blackpool", {"E06000009"}, "england"),
        ("Birmingham", {"E08000025"}, "england"),
        ("Cambridgeshire and Peterborough", {"E10000003", "E06000031"}, "england"),
        ("City of London and Hackney", {"E09000001", "E09000012"}, "england"),
        ("Ceredigion", {"W06000008"}, "wales"),
        ("Northamptonshire", {"E10000021", "E06000061", "E06000062"}, "england"),
        ("North Northamptonshire", {"E06000061"}, "england"),
        ("West Northamptonshire", {"E06000062"}, "england"),
        ("Dorset", {"E06000059", "E10000009"}, "england"),
        ("Cumberland", {"E06000063"}, "england"),
        ("Westmorland and Furness", {"E06000064"}, "england"),
        ("Cumbria", {"E10000006", "E06000063", "E06000064"}, "england"),
        ("North Yorkshire", {"E06000065", "E10000023"}, "england"),
        ("Somerset", {"E06000066", "E10000027"}, "england"),
        ("Sutton", {"E09000029"}, "england"),
        ("Suffolk", {"E10000029"}, "england"),
        ("Lincolnshire", {"E10000019"}, "england"),
        ("Rochdale", {"E08000005"}, "england"),
        ("Oxfordshire", {"E10000025"}, "england"),
        ("Bexley", {"E09000004"}, "england"),
        ("Cheshire East", {"E06000049"}, "england"),
        ("Lancashire", {"E10000017"}, "england"),
        ("City of London", {"E09000001"}, "england"),
        ("Isles of Scilly", {"E06000053"}, "england"),
        ("Bournemouth", {"E06000028"}, "england"),
        ("Poole", {"E06000029"}, "england"),
        ("Bournemouth, Christchurch and Poole", {"E06000058"}, "england"),
        ("Barnsley", {"E08000038", "E08000016"}, "england"),
    ],
)
def test_national_names_resolve_with_codes(index: AreaIndex, name: str, codes: set[str], nation: str) -> None:
    area = _resolve(index, name)
    assert set(area.codes) == codes
    assert area.nation == nation


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("Hull", "Kingston upon Hull"),
        ("Kingston upon Hull", "Kingston upon Hull"),
        ("Kingston upon Hull, City of", "Kingston upon Hull"),
        ("Bristol", "Bristol"),
        ("City of Bristol", "Bristol"),
        ("County of Herefordshire", "Herefordshire"),
        ("Durham", "County Durham"),
        ("Durham Safeguarding Children Partnership", "County Durham"),
        ("Telford & Wrekin", "Telford and Wrekin"),
        ("St. Helens", "St Helens"),
        ("St Helens Safeguarding Children Board", "St Helens"),
        ("Southend", "Southend-on-Sea"),
        ("Brighton & Hove", "Brighton and Hove"),
        ("Kingston", "Kingston upon Thames"),
        ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
        ("Richmond", "Richmond upon Thames"),
        ("BCP", "Bournemouth, Christchurch and Poole"),
        ("Blackburn with Darwen", "Blackburn with Darwen"),
        ("Stoke on Trent", "Stoke-on-Trent"),
        ("Newcastle", "Newcastle upon Tyne"),
        ("City of Westminster", "Westminster"),
        ("North Somerset Safeguarding Children Partnership", "North Somerset"),
        ("BaNES", "Bath and North East Somerset"),
        ("Bath & North East Somerset Council", "Bath and North East Somerset"),
        ("Isle of Wight LSCB", "Isle of Wight"),
        ("Redcar & Cleveland", "Redcar and Cleveland"),
        ("London Borough of Barking and Dagenham", "Barking and Dagenham"),
        ("Tri-borough", "Hammersmith and Fulham, Kensington and Chelsea and Westminster"),
        ("Pan-Dorset Safeguarding Children Partnership", "Pan-Dorset"),
        ("Berkshire West Safeguarding Children Partnership", "Berkshire West"),
        ("City and Hackney Safeguarding Children Board", "City of London and Hackney"),
        ("CYSUR", "Mid and West Wales"),
        ("Glasgow Child Protection Committee", "Glasgow City"),
        ("Belfast Trust", "Belfast HSC Trust"),
        # Issue 25: Welsh regional boards and the partnerships' own names.
        ("Cardiff and Vale of Glamorgan Regional Safeguarding Board", "Cardiff and Vale of Glamorgan"),
        ("Powys Regional Safeguarding Board", "Powys"),
        ("Kent Safeguarding Children Multi-Agency Partnership", "Kent"),
        ("Milton Keynes Together", "Milton Keynes"),
        ("Wolverhampton Safeguarding Together", "Wolverhampton"),
        ("Leicester, Leicestershire and Rutland", "Leicester, Leicestershire and Rutland"),
        ("Leicester, Leicestershire and Rutland Safeguarding Children Partnership",
         "Leicester, Leicestershire and Rutland"),
        ("Southend, Essex and Thurrock", "Southend, Essex and Thurrock"),
        ("Southend, Essex & Thurrock Safeguarding Children Board", "Southend, Essex and Thurrock"),
    ],
)
def test_alternative_forms_resolve(index: AreaIndex, alias: str, canonical: str) -> None:
    assert _resolve(index, alias).name == canonical


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("Berkshire West", {"Reading", "West Berkshire", "Wokingham"}),
        ("Cambridgeshire and Peterborough", {"Cambridgeshire", "Peterborough"}),
        ("City of London and Hackney", {"City of London", "Hackney"}),
        ("Pan-Dorset", {"Bournemouth, Christchurch and Poole", "Dorset"}),
        ("Kingston and Richmond", {"Kingston upon Thames", "Richmond upon Thames"}),
        ("Northamptonshire", {"North Northamptonshire", "West Northamptonshire"}),
        ("Cumbria", {"Cumberland", "Westmorland and Furness"}),
        ("Leicester, Leicestershire and Rutland", {"Leicester", "Leicestershire", "Rutland"}),
        ("Southend, Essex and Thurrock", {"Southend-on-Sea", "Essex", "Thurrock"}),
    ],
)
def test_partnerships_carry_their_members_codes(index: AreaIndex, name: str, members: set[str]) -> None:
    partnership = set(_resolve(index, name).codes)
    for member in members:
        assert set(_resolve(index, member).codes) <= partnership, member


def test_unknown_name_returns_none(index: AreaIndex) -> None:
    assert index.lookup("Atlantis Safeguarding Children Board") is None
    assert index.lookup("Newcastle-under-Lyme") is None  # a district, not a children's services authority
    assert index.lookup("") is None


@pytest.mark.parametrize(
    "name",
    [
        "Anonymous",
        "NSPCC on behalf of unnamed LSCB",
        "Unnamed LSCB",
        "Unnamed local safeguarding children board",
        "Unnamed partnership",
        "Not named",
    ],
)
def test_withheld_names_are_anonymous_and_no_area(index: AreaIndex, name: str) -> None:
    assert index.is_anonymous(name)
    assert index.lookup(name) is None


def test_real_areas_are_not_anonymous(index: AreaIndex) -> None:
    assert not any(index.is_anonymous(name) for name in index.by_key)
    assert not index.is_anonymous("York")


def test_every_current_english_authority_is_present(index: AreaIndex) -> None:
    """63 unitaries, 36 metropolitan districts, 33 London boroughs and the City, 21 counties (since April 2023)."""
    current: dict[str, list[str]] = defaultdict(list)
    for area in _single_authority(index):
        if area.nation != "england":
            continue
        codes = [c for c in area.codes if c.startswith(ENGLISH_UPPER_TIER) and c not in FORMER_CODES]
        assert len(codes) <= 1, f"{area.name} has two current codes {codes}"
        for code in codes:
            current[code].append(area.name)
    assert len(current) >= 153
    by_prefix = defaultdict(int)
    for code in current:
        by_prefix[code[:3]] += 1
    assert by_prefix == {"E06": 63, "E08": 36, "E09": 33, "E10": 21}


def test_each_code_belongs_to_one_single_authority_area(index: AreaIndex) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for area in _single_authority(index):
        for code in area.codes:
            owners[code].append(area.name)
    shared = {code: names for code, names in owners.items() if len(names) > 1}
    assert not shared


def test_every_partnership_code_belongs_to_a_known_authority(index: AreaIndex) -> None:
    single_codes = {c for a in _single_authority(index) for c in a.codes}
    # Northamptonshire and Cumbria are umbrellas over their successors; their own county codes are listed nowhere else.
    umbrella_only = {"E10000021", "E10000006"}
    for area in index.areas.values():
        unknown = set(area.codes) - single_codes - umbrella_only
        assert not unknown, f"{area.name}: {sorted(unknown)}"


def test_codes_match_their_nation(index: AreaIndex) -> None:
    prefixes = {"england": "E", "wales": "W", "scotland": "S", "northern-ireland": "N"}
    for area in index.areas.values():
        assert area.nation in prefixes, area.name
        assert all(code.startswith(prefixes[area.nation]) for code in area.codes), area.name


def test_nation_counts(index: AreaIndex) -> None:
    singles = _single_authority(index)
    wales = {c for a in singles if a.nation == "wales" for c in a.codes}
    scotland = {c for a in singles if a.nation == "scotland" for c in a.codes if c.startswith("S12")}
    northern_ireland = {c for a in singles if a.nation == "northern-ireland" for c in a.codes}
    assert len(wales) == 22
    assert len([a for a in singles if a.nation == "scotland"]) == 32 and len(scotland) >= 32
    assert len(northern_ireland) == 11


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "areas.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_code_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[area]]\nname = "York"\ncodes = ["E6000014"]\n')
    with pytest.raises(ConfigError, match="codes"):
        load_areas(path)


def test_alias_naming_two_areas_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[area]]\nname = "York"\ncodes = ["E06000014"]\naliases = ["City of York"]\n\n'
        '[[area]]\nname = "North Yorkshire"\ncodes = ["E06000065"]\naliases = ["City of York Council"]\n',
    )
    with pytest.raises(ConfigError, match="also names 'York'"):
        load_areas(path)


def test_invalid_toml_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_areas(_write(tmp_path, '[[area]\nname = "York"\n'))


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_areas(tmp_path / "nowhere.toml")

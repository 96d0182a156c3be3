"""Hotlist importers with the documented example lines (HOTLIST_FORMATS.md) and broken ones."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from console.importers.hotlists import (
    clew_kind,
    parse_clew,
    parse_csv,
    parse_hotlist,
    parse_ncic,
)
from console.model.alpr import HotlistEntryIn, normalize_plate

NCIC_EXAMPLE = "V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK"
NCIC_HEADER = "NCIC LPR EXTRACT 20240604 1200"
CLEW_EXAMPLE = "ABC1234 CA1220190515"


def _issues(result) -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in result.errors]


# --- NCIC ---------------------------------------------------------------------------------

def test_ncic_documented_example() -> None:
    r = parse_ncic(f"{NCIC_HEADER}\n{NCIC_EXAMPLE}\n")
    assert r.errors == [] and r.header == NCIC_HEADER
    (e,) = r.entries
    assert (e.plate, e.state, e.list_type, e.category) == ("AB123456", "CA", "V",
                                                           "Stolen vehicle")
    assert (e.nic, e.ori, e.entered_date) == ("V123456789", "LA0570200", date(2019, 5, 9))
    assert (e.vehicle_year, e.make, e.model, e.color) == (2009, "YAMA", "CYL", "BLK")
    assert e.extra == {"plate_year": "2009", "plate_type": "MC", "style": "MC"}


def test_ncic_state_zero_is_read_as_letter_o() -> None:
    line = NCIC_EXAMPLE.replace("CA2009", "0H2009").replace("V1234", "F1234")
    (e,) = parse_ncic(f"{NCIC_HEADER}\n{line}").entries
    assert (e.state, e.list_type, e.category) == ("OH", "F", "Felony vehicle")


def test_ncic_without_header_keeps_the_first_record() -> None:
    r = parse_ncic(NCIC_EXAMPLE + "\n" + NCIC_EXAMPLE.replace("AB123456", "ZZ9     "))
    assert r.header is None and [e.plate for e in r.entries] == ["AB123456", "ZZ9"]


def test_ncic_washington_variant_is_shifted_by_two() -> None:
    (e,) = parse_ncic(f"{NCIC_HEADER}\nWA{NCIC_EXAMPLE}", shift=2).entries
    assert (e.plate, e.nic) == ("AB123456", "V123456789")


def test_ncic_bad_lines_are_named_and_skipped() -> None:
    bad_type = "Q" + NCIC_EXAMPLE[1:]
    bad_date = NCIC_EXAMPLE.replace("20190509", "20191332")
    no_plate = NCIC_EXAMPLE.replace("AB123456", "        ")
    bad_state = NCIC_EXAMPLE.replace("CA2009", "C12009")
    short = NCIC_EXAMPLE[:30]
    lines = [NCIC_HEADER, bad_type, NCIC_EXAMPLE, bad_date, no_plate, "", bad_state, short]
    text = "\n".join(lines)
    r = parse_ncic(text, source="VEHEXTRT.txt")
    assert [e.plate for e in r.entries] == ["AB123456"]
    assert _issues(r) == [(2, "nic"), (4, "incident_date"), (5, "plate"), (7, "state"),
                          (8, "line")]
    assert r.errors[0].source == "VEHEXTRT.txt"
    assert "'Q'" in r.errors[0].message and "20191332" in r.errors[1].message


# --- CLEW ---------------------------------------------------------------------------------

def _clew(*records: str, total: int | None = None) -> str:
    n = len(records) if total is None else total
    return "\n".join(["DATE07/02/2018 09:00", *records, f"TOTAL RECORD {n:07d}"]) + "\n"


def test_clew_documented_example() -> None:
    r = parse_clew(_clew(CLEW_EXAMPLE), source="/lists/sfr.tbl")
    assert r.errors == [] and r.header == "DATE07/02/2018 09:00"
    (e,) = r.entries
    assert (e.plate, e.state, e.entered_date) == ("ABC1234", "CA", date(2019, 5, 15))
    assert (e.list_type, e.category, e.extra) == ("F", "Felony vehicle", {"county": "12"})


@pytest.mark.parametrize(("name", "letter"), [("svs.tbl", "V"), ("SLR.TBL", "P"),
                                              ("other.tbl", "")])
def test_clew_kind_from_the_file_name(name: str, letter: str) -> None:
    (e,) = parse_clew(_clew(CLEW_EXAMPLE), source=name).entries
    assert e.list_type == letter
    assert clew_kind(name) == (name[:3].lower() if letter else None)


def test_clew_trailer_count_is_checked() -> None:
    r = parse_clew(_clew(CLEW_EXAMPLE, "XYZ987  CA0120200101", total=72), source="svs.tbl")
    assert len(r.entries) == 2
    assert _issues(r) == [(4, "total")]
    assert "72" in r.errors[0].message and "2" in r.errors[0].message


def test_clew_missing_trailer_and_bad_header() -> None:
    r = parse_clew(f"HELLO\n{CLEW_EXAMPLE}\n", source="svs.tbl")
    assert [(i.line, i.field) for i in r.errors] == [(1, "header"), (1, "line"), (3, "trailer")]
    assert [e.plate for e in r.entries] == ["ABC1234"]


def test_clew_hand_typed_six_character_plates_are_refused_with_line_numbers() -> None:
    # the repository's sample sfr.tbl: 6-character plates and one space, so columns slip
    r = parse_clew(_clew("ABC123 CA1220190515", CLEW_EXAMPLE, "AB 1-2  CA1220190515"),
                   source="sfr.tbl")
    assert _issues(r) == [(2, "state")]
    assert [e.plate for e in r.entries] == ["ABC1234", "AB12"]


def test_clew_bad_date_and_text_after_trailer() -> None:
    text = _clew("ABC1234 CA1220191399", CLEW_EXAMPLE) + "ZZZ\n"
    r = parse_clew(text, source="svs.tbl")
    assert _issues(r) == [(2, "date_of_loss"), (5, "line")]
    assert len(r.entries) == 1


# --- CSV ----------------------------------------------------------------------------------

CSV_HEADER = ("plate,state,list_type,reason,nic,ori,entered_date,expires,vehicle_year,make,"
              "model,color")


def test_csv_full_row() -> None:
    text = (f"{CSV_HEADER}\nab-123 456,ca,v,Stolen 2024-01-02,V123456789,LA0570200,2024-01-02,"
            "2030-06-30,2009,YAMA,CYL,BLK\n")
    (e,) = parse_csv(text).entries
    assert (e.plate, e.state, e.list_type, e.category) == ("AB123456", "CA", "V",
                                                           "Stolen vehicle")
    assert e.entered_date == date(2024, 1, 2)
    assert e.expires is not None and e.expires.date() == date(2030, 6, 30)
    assert e.expires.tzinfo is not None and e.vehicle_year == 2009


def test_csv_minimal_columns_and_datetime_expiry() -> None:
    r = parse_csv("Plate,Expires,Extra\n7abc123,2030-01-01T12:00:00,ignored\n")
    assert r.errors == []
    (e,) = r.entries
    assert e.plate == "7ABC123" and e.state is None
    assert e.expires == datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_csv_bad_rows_are_named_and_skipped() -> None:
    rows = ["OK1,CA,V,,,,,,,,,", "BAD!,CA,V,,,,,,,,,", "OK2,CAL,V,,,,,,,,,",
            "OK3,CA,Q,,,,,,,,,", "OK4,CA,V,,,,2024-13-01,,,,,", "OK5,CA,V,,,,,soon,,,,",
            "OK6,CA,V,,,,,,19,,,", "OK7,CA", "OK8,NV,P,,,,,,,,,"]
    r = parse_csv("\n".join([CSV_HEADER, *rows]), source="list.csv")
    assert [e.plate for e in r.entries] == ["OK1", "OK8"]
    assert _issues(r) == [(3, "plate"), (4, "state"), (5, "list_type"), (6, "entered_date"),
                          (7, "expires"), (8, "vehicle_year"), (9, "line")]
    assert all(i.source == "list.csv" for i in r.errors)


def test_nul_characters_are_refused_per_line() -> None:
    r = parse_csv(f"{CSV_HEADER}\nOK1,CA,V,,,,,,,,,\nOK2,CA,V,x\x00y,,,,,,,,\n")
    assert [e.plate for e in r.entries] == ["OK1"] and _issues(r) == [(3, "line")]
    r = parse_clew(_clew(CLEW_EXAMPLE, "AB\x00    CA1220190515"), source="svs.tbl")
    assert _issues(r) == [(3, "line")] and len(r.entries) == 1


def test_csv_without_plate_column_is_refused() -> None:
    r = parse_csv("state,reason\nCA,x\n")
    assert r.entries == [] and _issues(r) == [(1, "header")]


def test_dispatch_and_unknown_format() -> None:
    assert len(parse_hotlist("clew", _clew(CLEW_EXAMPLE), "svs.tbl").entries) == 1
    assert len(parse_hotlist("ncic", NCIC_EXAMPLE, "x").entries) == 1
    with pytest.raises(ValueError, match="'xml'"):
        parse_hotlist("xml", "", "x")


@pytest.mark.parametrize(("raw", "plate"), [("ab 123", "AB123"), ("7-ABC-123", "7ABC123")])
def test_normalize_plate(raw: str, plate: str) -> None:
    assert normalize_plate(raw) == plate == HotlistEntryIn(plate=raw).plate


@pytest.mark.parametrize("raw", ["", "  ", "AB_12", "ABCDEFGHIJK"])
def test_normalize_plate_refuses(raw: str) -> None:
    with pytest.raises(ValueError, match="plate"):
        normalize_plate(raw)


def test_the_demo_hotlist_imports_cleanly():
    # the demo's reasons hold commas; every line must still import (it once lost 8 of 40)
    from console.importers.hotlists import parse_csv
    from console.server.sim.alpr import demo_hotlist_csv, demo_hotlist_plates
    plates = demo_hotlist_plates()
    result = parse_csv(demo_hotlist_csv(plates), "demo_hotlist.csv")
    assert result.errors == []
    assert sorted(e.plate for e in result.entries) == sorted(plates)

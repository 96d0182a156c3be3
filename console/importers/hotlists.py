"""ALPR hotlist importers: NCIC LPR extract, California DOJ CLEW ``.tbl``, neutral CSV.

Pure functions over the file's text (no server, no I/O). Each returns an ``ImportResult``:
the entries of the good lines and one ``HotlistImportIssue`` per bad line naming
``source:line`` and the field; a bad line is skipped, the rest still import.
Layouts: ../shared/data/HOTLIST_FORMATS.md (facts from public documentation).

* **NCIC** fixed width, one header line. Columns (0-based): NIC 0-9 (first letter = record
  type), ORI 10-18, incident date 19-26 (YYYYMMDD), plate 27-36, state 37-38, plate year
  39-42, plate type 43-44, vehicle year 45-48, make 49-52, model 53-55, style 56-57,
  colour 58-. A ``0`` in the state is read as ``O`` (a known quirk of the extract: ``0H``).
  The Washington variant is the same layout shifted by 2 characters (``shift=2``).
* **CLEW** ``svs.tbl`` (stolen vehicles), ``sfr.tbl`` (felony vehicles), ``slr.tbl``
  (stolen plates): header ``DATEMM/DD/YYYY HH:MM``; records with plate 0-7, state 8-9,
  county 10-11, date of loss YYYYMMDD from 12; trailer ``TOTAL RECORD nnnnnnn`` whose count
  must equal the number of record lines.
* **CSV** with a header naming any of ``CSV_COLUMNS`` (``plate`` is required). Dates are
  ISO ``YYYY-MM-DD``; ``expires`` is an ISO date (end of that day, UTC) or date-time.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from pydantic import ValidationError

from console.model.alpr import (
    NCIC_CATEGORIES,
    HotlistEntryIn,
    HotlistFormat,
    HotlistImportIssue,
)

__all__ = ["CLEW_KINDS", "CSV_COLUMNS", "ImportResult", "LineError", "clew_kind", "parse_clew",
           "parse_csv", "parse_hotlist", "parse_ncic"]

# CLEW file kind -> NCIC record type letter of the same meaning
CLEW_KINDS: dict[str, str] = {"svs": "V", "sfr": "F", "slr": "P"}
CSV_COLUMNS = ("plate", "state", "list_type", "reason", "nic", "ori", "entered_date",
               "expires", "vehicle_year", "make", "model", "color")

_NCIC_MIN = 39  # a record must reach the end of the state column
_CLEW_MIN = 10
_CLEW_HEADER = re.compile(r"^DATE(\d\d/\d\d/\d{4} \d\d:\d\d)\s*$")
_CLEW_TRAILER = re.compile(r"^TOTAL RECORD\s*(\S*)\s*$")


@dataclass
class ImportResult:
    entries: list[HotlistEntryIn] = field(default_factory=list)
    errors: list[HotlistImportIssue] = field(default_factory=list)
    header: str | None = None  # the header line, when the format has one

    def error(self, source: str, line: int, fld: str, message: str) -> None:
        self.errors.append(HotlistImportIssue(source=source, line=line, field=fld,
                                              message=message))


class LineError(ValueError):
    """One bad field of one line."""

    def __init__(self, fld: str, message: str) -> None:
        super().__init__(f"{fld}: {message}")
        self.field = fld
        self.message = message


def _ymd(text: str, fld: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise LineError(fld, f"{text!r} is not a date YYYYMMDD") from None


def _year(text: str, fld: str) -> int | None:
    text = text.strip()
    if not text or set(text) == {"0"}:
        return None
    if not text.isdigit() or not 1900 <= int(text) <= 2100:
        raise LineError(fld, f"{text!r} is not a year")
    return int(text)


def _entry(values: dict) -> HotlistEntryIn:
    """Build the entry; pydantic's complaint becomes a LineError naming the field."""
    try:
        return HotlistEntryIn(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "line"
        msg = err["msg"].removeprefix("Value error, ")
        raise LineError(loc, msg) from None


def _no_nul(text: str) -> None:
    if "\x00" in text:
        raise LineError("line", "contains a NUL character (binary data?)")


def _lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, line without its end) for the non-blank lines."""
    text = text.removeprefix("\ufeff")
    return [(n, ln.rstrip("\r\n")) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]


def _ncic_record(line: str, shift: int) -> HotlistEntryIn:
    _no_nul(line)
    rec = line[shift:]
    if len(rec.rstrip()) < _NCIC_MIN:
        raise LineError("line", f"{len(rec.rstrip())} characters; a record needs at least "
                                f"{_NCIC_MIN + shift} (through the plate state)")

    def col(a: int, b: int | None = None) -> str:
        return rec[a:b].strip()

    nic = col(0, 10)
    kind = nic[:1].upper()
    if kind not in NCIC_CATEGORIES:
        raise LineError("nic", f"{nic!r}: record type {kind!r} is not one of "
                               f"{''.join(sorted(NCIC_CATEGORIES))}")
    extra = {k: v for k, v in (("plate_year", col(39, 43)), ("plate_type", col(43, 45)),
                               ("style", col(56, 58))) if v}
    return _entry({
        "plate": col(27, 37), "state": col(37, 39).replace("0", "O"),
        "list_type": kind, "category": NCIC_CATEGORIES[kind], "nic": nic, "ori": col(10, 19),
        "entered_date": _ymd(col(19, 27), "incident_date"),
        "vehicle_year": _year(col(45, 49), "vehicle_year"), "make": col(49, 53),
        "model": col(53, 56), "color": col(58), "extra": extra})


def parse_ncic(text: str, source: str = "VEHEXTRT.txt", shift: int = 0) -> ImportResult:
    """The NCIC LPR extract. The first line is the header unless it parses as a record
    (a file without header then loses nothing)."""
    out = ImportResult()
    lines = _lines(text)
    if lines:
        try:
            _ncic_record(lines[0][1], shift)
        except LineError:
            out.header = lines[0][1]
            lines = lines[1:]
    for n, line in lines:
        try:
            out.entries.append(_ncic_record(line, shift))
        except LineError as exc:
            out.error(source, n, exc.field, exc.message)
    return out


def _clew_record(line: str, kind: str | None) -> HotlistEntryIn:
    _no_nul(line)
    if len(line.rstrip()) < _CLEW_MIN:
        raise LineError("line", f"{len(line.rstrip())} characters; a record needs at least "
                                f"{_CLEW_MIN} (plate 0-7, state 8-9)")
    county, loss = line[10:12].strip(), line[12:20].strip()
    letter = CLEW_KINDS.get(kind or "", "")
    return _entry({
        "plate": line[0:8].strip(), "state": line[8:10], "list_type": letter,
        "category": NCIC_CATEGORIES.get(letter, ""),
        "entered_date": _ymd(loss, "date_of_loss") if loss else None,
        "extra": {"county": county} if county else {}})


def clew_kind(source: str) -> str | None:
    """``svs``/``sfr``/``slr`` from a file name such as ``/x/SFR.tbl``."""
    stem = source.replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0].lower()
    return stem if stem in CLEW_KINDS else None


def parse_clew(text: str, source: str = "svs.tbl", kind: str | None = None) -> ImportResult:
    """A CLEW hotlist; ``kind`` (svs/sfr/slr) defaults to the one in ``source``'s name and
    sets the category. The trailer's count is checked against the record lines."""
    kind = kind or clew_kind(source)
    if kind is not None and kind not in CLEW_KINDS:
        raise ValueError(f"CLEW kind {kind!r}: expected one of {', '.join(CLEW_KINDS)}")
    out = ImportResult()
    lines = _lines(text)
    if not lines:
        out.error(source, 1, "header", "empty file: expected a header line DATEMM/DD/YYYY HH:MM")
        return out
    first_n, first = lines[0]
    m = _CLEW_HEADER.match(first)
    if m is None:
        out.error(source, first_n, "header",
                  f"{first[:30]!r}: expected DATEMM/DD/YYYY HH:MM; reading it as a record")
    else:
        try:
            datetime.strptime(m.group(1), "%m/%d/%Y %H:%M")
            out.header = first
        except ValueError:
            out.error(source, first_n, "header", f"{m.group(1)!r} is not a date MM/DD/YYYY HH:MM")
        lines = lines[1:]
    trailer: tuple[int, str] | None = None
    records = 0
    for n, line in lines:
        if trailer is not None:
            out.error(source, n, "line", f"text after the trailer on line {trailer[0]}")
            continue
        if line.startswith("TOTAL RECORD"):
            trailer = (n, line)
            continue
        records += 1
        try:
            out.entries.append(_clew_record(line, kind))
        except LineError as exc:
            out.error(source, n, exc.field, exc.message)
    if trailer is None:
        last = lines[-1][0] if lines else first_n
        out.error(source, last + 1, "trailer",
                  f"missing trailer TOTAL RECORD nnnnnnn ({records} record lines read)")
    else:
        n, line = trailer
        count = _CLEW_TRAILER.match(line).group(1)  # type: ignore[union-attr]  # prefix checked
        if not count.isdigit():
            out.error(source, n, "total", f"{count!r} is not a record count")
        elif int(count) != records:
            out.error(source, n, "total", f"trailer says {int(count)} records, "
                                          f"the file has {records}")
    return out


def _csv_date(text: str, fld: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LineError(fld, f"{text!r} is not a date YYYY-MM-DD") from None


def _csv_expires(text: str) -> datetime | None:
    if not text:
        return None
    try:
        if len(text) == 10:  # a date: valid through that whole day
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise LineError("expires", f"{text!r} is not an ISO date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _csv_record(row: dict[str, str]) -> HotlistEntryIn:
    _no_nul("".join(row.values()))
    letter = row.get("list_type", "").upper()
    if letter and letter not in NCIC_CATEGORIES:
        raise LineError("list_type", f"{letter!r} is not an NCIC record type "
                                     f"({''.join(sorted(NCIC_CATEGORIES))}) or empty")
    year = row.get("vehicle_year", "")
    return _entry({
        "plate": row.get("plate", ""), "state": row.get("state") or None, "list_type": letter,
        "category": NCIC_CATEGORIES.get(letter, ""), "reason": row.get("reason", ""),
        "nic": row.get("nic", ""), "ori": row.get("ori", ""),
        "entered_date": _csv_date(row.get("entered_date", ""), "entered_date"),
        "expires": _csv_expires(row.get("expires", "")),
        "vehicle_year": _year(year, "vehicle_year") if year else None,
        "make": row.get("make", ""), "model": row.get("model", ""),
        "color": row.get("color", "")})


def parse_csv(text: str, source: str = "hotlist.csv") -> ImportResult:
    """The neutral CSV; columns other than ``CSV_COLUMNS`` are ignored."""
    out = ImportResult()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        out.error(source, 1, "header", "empty file: expected a header line naming the columns")
        return out
    if "plate" not in header:
        out.error(source, 1, "header", f"no 'plate' column; columns are {', '.join(CSV_COLUMNS)}")
        return out
    out.header = ",".join(header)
    for row in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            out.error(source, n, "line", f"{len(row)} fields, the header has {len(header)}")
            continue
        try:
            out.entries.append(_csv_record({h: c.strip() for h, c in zip(header, row,
                                                                          strict=True)}))
        except LineError as exc:
            out.error(source, n, exc.field, exc.message)
    return out


_PARSERS: dict[HotlistFormat, Callable[..., ImportResult]] = {
    HotlistFormat.ncic: parse_ncic, HotlistFormat.clew: parse_clew, HotlistFormat.csv: parse_csv}


def parse_hotlist(fmt: HotlistFormat | str, text: str, source: str,
                  **options: object) -> ImportResult:
    """Dispatch on the format (``ncic``, ``clew``, ``csv``); ``options`` go to the parser
    (``shift`` for NCIC, ``kind`` for CLEW)."""
    try:
        parser = _PARSERS[HotlistFormat(fmt)]
    except (KeyError, ValueError):
        raise ValueError(f"hotlist format {fmt!r}: expected one of "
                         f"{', '.join(f.value for f in _PARSERS)}") from None
    return parser(text, source, **options)

"""Derive ALPR read timing statistics from the real Seattle PD read log -> alpr_timing.json.

The log (one week, 2021-10-01..08, 93,490 reads by 9 patrol-car units; plates are one-way
hashes) comes from a GPL-3.0 repository: it is read here, at build time only, and never
shipped. Only aggregate numbers go into the JSON, which the ALPR simulator
(``console.server.sim.alpr``) reads:

* ``gap_quantiles_s``: the empirical quantile function (0, 1, ..., 100 %) of the time
  between consecutive reads of one unit while it is working (gaps up to ``session_gap_s``).
* ``idle_gap_fraction``: the share of gaps longer than that (the unit stopped reading).
* ``hourly_profile``: reads per local hour of day, scaled to a mean of 1.0.
* ``repeat_read_ratio``: the share of reads whose plate the same unit read within the
  previous ``repeat_window_s`` (a car passed twice, or read by two lanes' cameras).
* ``reads_per_active_hour``: reads of a unit per hour it read anything (median over units).
* ``distinct_plate_ratio``: distinct plates / reads over the week.

Usage: python resources/demo/build_alpr_timing.py [SOURCE_CSV] [OUT_JSON]
"""
from __future__ import annotations

import csv
import json
import statistics
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "data" / \
    "alpr_reads_seattle_spd_2021-10-01_to_10-08.csv"
DEFAULT_OUT = HERE / "alpr_timing.json"
SESSION_GAP_S = 600.0   # a longer pause means the unit stopped reading
REPEAT_WINDOW_S = 300.0


def quantiles(values: list[float], steps: int = 100) -> list[float]:
    """Empirical quantiles at 0, 1/steps, ..., 1 (linear interpolation)."""
    v = sorted(values)
    out = []
    for i in range(steps + 1):
        pos = (len(v) - 1) * i / steps
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        out.append(round(v[lo] + (v[hi] - v[lo]) * (pos - lo), 3))
    return out


def derive(source: Path) -> dict:
    by_unit: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    with source.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            when = datetime.strptime(row["dt"], "%m/%d/%Y - %H:%M:%S")
            by_unit[row["device"]].append((when, row["plate_hash"]))
    total = sum(len(v) for v in by_unit.values())
    plates: set[str] = set()
    gaps: list[float] = []
    idle = 0
    repeats = 0
    hours = [0] * 24
    per_active_hour: list[float] = []
    for reads in by_unit.values():
        reads.sort()
        last_seen: dict[str, datetime] = {}
        active_hours = {r[0].replace(minute=0, second=0) for r in reads}
        per_active_hour.append(len(reads) / len(active_hours))
        for i, (when, plate) in enumerate(reads):
            plates.add(plate)
            hours[when.hour] += 1
            seen = last_seen.get(plate)
            if seen is not None and (when - seen).total_seconds() <= REPEAT_WINDOW_S:
                repeats += 1
            last_seen[plate] = when
            if i:
                gap = (when - reads[i - 1][0]).total_seconds()
                if gap <= SESSION_GAP_S:
                    gaps.append(gap)
                else:
                    idle += 1
    mean_hour = total / 24
    return {
        "note": "derived by resources/demo/build_alpr_timing.py from the Seattle PD ALPR "
                "read log 2021-10-01..08 (UWCHR/spd-alpr, GPL-3.0; the log is not shipped, "
                "only these aggregates); see SOURCES.md",
        "source_reads": total,
        "source_units": len(by_unit),
        "session_gap_s": SESSION_GAP_S,
        "gap_quantiles_s": quantiles(gaps),
        "gap_mean_s": round(statistics.fmean(gaps), 3),
        "idle_gap_fraction": round(idle / (len(gaps) + idle), 5),
        "hourly_profile": [round(h / mean_hour, 4) for h in hours],
        "repeat_window_s": REPEAT_WINDOW_S,
        "repeat_read_ratio": round(repeats / total, 5),
        "reads_per_active_hour": round(statistics.median(per_active_hour), 1),
        "distinct_plate_ratio": round(len(plates) / total, 5),
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    stats = derive(source)
    out.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    sys.stderr.write(f"{out}: {stats['source_reads']} reads, {stats['source_units']} units, "
                     f"mean gap {stats['gap_mean_s']} s, repeat ratio "
                     f"{stats['repeat_read_ratio']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

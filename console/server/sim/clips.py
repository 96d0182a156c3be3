"""Short H.264 clips for the simulated cameras, generated once with ffmpeg and cached.

Each clip is a solid background in the camera's colour (so a tile's dominant colour identifies
the camera), a small moving test pattern (pixels change every frame), the camera's label and a
running pts clock. MP4 (H.264 baseline, no B-frames, keyframe every second, no audio) because
qtdemux supports the segment seeks the RTSP simulator uses to loop without timestamp jumps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("rtcc.sim")

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PROFILES = ("main", "sub")
# Bump when the recipe below changes so cached clips are regenerated.
_RECIPE_VERSION = 2
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

Resolution = tuple[int, int, int]  # width, height, fps


@dataclass(frozen=True)
class SimCameraSpec:
    camera_id: str
    label: str
    color: str  # "#rrggbb"
    main: Resolution = (1280, 720, 15)
    sub: Resolution = (640, 360, 15)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.camera_id):
            raise ValueError(
                f"SimCameraSpec.camera_id {self.camera_id!r}: must match {_ID_RE.pattern}"
            )
        if not _COLOR_RE.match(self.color):
            raise ValueError(
                f"SimCameraSpec({self.camera_id}).color {self.color!r}: expected '#rrggbb'"
            )
        for name in PROFILES:
            w, h, fps = getattr(self, name)
            if w < 64 or h < 64 or w % 2 or h % 2 or not 1 <= fps <= 60:
                raise ValueError(
                    f"SimCameraSpec({self.camera_id}).{name} {(w, h, fps)}: need even w,h >= 64 and 1 <= fps <= 60"
                )

    def resolution(self, profile: str) -> Resolution:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
        return getattr(self, profile)


def clip_path(spec: SimCameraSpec, profile: str, cache_dir: Path, seconds: int) -> Path:
    """The cache file for one clip; its name carries a hash of everything that shapes it."""
    recipe = {
        "v": _RECIPE_VERSION,
        "spec": asdict(spec),
        "profile": profile,
        "seconds": seconds,
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[
        :12
    ]
    return cache_dir / f"{spec.camera_id}_{profile}_{digest}.mp4"


def _filtergraph(spec: SimCameraSpec, profile: str, label_file: Path) -> str:
    w, h, fps = spec.resolution(profile)
    box_w, box_h = max(32, (w // 8) & ~1), max(18, (h // 8) & ~1)
    big, small = max(12, h // 14), max(10, h // 20)
    font = f"fontfile={FONT}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4"
    return (
        f"color=c=0x{spec.color[1:]}:s={w}x{h}:r={fps}[bg];"
        f"testsrc2=s={box_w}x{box_h}:r={fps}[mover];"
        # The pattern slides along the bottom edge: every frame differs, the colour still dominates.
        f"[bg][mover]overlay=x='mod(t*{w // 6},W-w)':y=H-h-{h // 20}:eval=frame,"
        f"drawtext={font}:textfile='{label_file}':x={w // 40}:y={h // 30}:fontsize={big},"
        f"drawtext={font}:text='%{{pts\\:hms}}':x={w // 40}:y={h // 30 + big * 3 // 2}:fontsize={small}"
    )


def _encode(
    spec: SimCameraSpec, profile: str, out: Path, seconds: int, ffmpeg: str
) -> None:
    _, _, fps = spec.resolution(profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{out.stem}.", suffix=".tmp.mp4", dir=out.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    label_file = tmp.with_suffix(".label.txt")
    try:
        # textfile= avoids drawtext escaping rules for arbitrary labels.
        label_file.write_text(spec.label, encoding="utf-8")
        cmd = [
            ffmpeg, "-nostdin", "-y", "-loglevel", "error",
            "-filter_complex", _filtergraph(spec, profile, label_file),
            "-t", str(seconds), "-an",
            "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
            "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0", "-bf", "0",
            # No SEI NALs: x264's version SEI on the first frame made RTSP receivers split that
            # frame into two packets with one timestamp at every loop point.
            "-bsf:v", "filter_units=remove_types=6",
            "-threads", "1", "-movflags", "+faststart", "-f", "mp4", str(tmp),
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=300, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"ffmpeg failed generating clip {out.name} (exit {proc.returncode}): {proc.stderr.strip()[-800:]}"
            )
        tmp.chmod(0o644)
        os.replace(tmp, out)  # atomic: other processes see no file or the whole file
    finally:
        tmp.unlink(missing_ok=True)
        label_file.unlink(missing_ok=True)


def ensure_clips(
    specs: list[SimCameraSpec],
    cache_dir: Path,
    seconds: int = 20,
    *,
    ffmpeg: str = "ffmpeg",
    parallel: int = 2,
) -> dict[tuple[str, str], Path]:
    """Return {(camera_id, profile): clip path}, generating only the clips missing from cache_dir."""
    if seconds < 1:
        raise ValueError(f"ensure_clips: seconds must be >= 1, got {seconds}")
    ids = [s.camera_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"ensure_clips: duplicate camera_id in specs: {sorted(i for i in ids if ids.count(i) > 1)}"
        )
    cache_dir = Path(cache_dir)
    result: dict[tuple[str, str], Path] = {}
    todo: list[tuple[SimCameraSpec, str, Path]] = []
    for spec in specs:
        for profile in PROFILES:
            path = clip_path(spec, profile, cache_dir, seconds)
            result[(spec.camera_id, profile)] = path
            if not path.exists():
                todo.append((spec, profile, path))
    if todo:
        log.info("generating %d clip(s) into %s", len(todo), cache_dir)
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = [
                pool.submit(_encode, spec, prof, path, seconds, ffmpeg)
                for spec, prof, path in todo
            ]
            for f in futures:
                f.result()
    return result

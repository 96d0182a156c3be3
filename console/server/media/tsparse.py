"""MPEG-TS packet helpers: alignment, header fields, PAT/PMT, H.264 keyframe detection."""

from __future__ import annotations

from dataclasses import dataclass, field

PACKET = 188
SYNC = 0x47
PAT_PID = 0
H264_STREAM_TYPE = 0x1B
_NON_IDR_SLICE, _IDR, _SPS = 1, 5, 7


def find_sync(
    buf: bytes | bytearray | memoryview, start: int = 0, confirm: int = 3
) -> int:
    """Offset of the first position where `confirm` consecutive packets start with 0x47, or -1."""
    n = len(buf)
    i = start
    while i < n:
        if buf[i] == SYNC:
            ok = True
            for k in range(1, confirm):
                j = i + k * PACKET
                if j >= n:
                    break  # not enough data to confirm further; accept what we could check
                if buf[j] != SYNC:
                    ok = False
                    break
            if ok:
                return i
        i += 1
    return -1


def pid(pkt: bytes | memoryview) -> int:
    return ((pkt[1] & 0x1F) << 8) | pkt[2]


def pusi(pkt: bytes | memoryview) -> bool:
    return bool(pkt[1] & 0x40)


def continuity(pkt: bytes | memoryview) -> int:
    return pkt[3] & 0x0F


def has_payload(pkt: bytes | memoryview) -> bool:
    return bool(pkt[3] & 0x10)


def random_access(pkt: bytes | memoryview) -> bool:
    """The adaptation field's random_access_indicator."""
    return bool(pkt[3] & 0x20) and pkt[4] > 0 and bool(pkt[5] & 0x40)


def payload(pkt: bytes | memoryview) -> bytes:
    if not has_payload(pkt):
        return b""
    start = 4
    if pkt[3] & 0x20:
        start += 1 + pkt[4]
    return bytes(pkt[start:PACKET]) if start < PACKET else b""


def _section(pkt: bytes | memoryview) -> bytes:
    """The PSI section of a packet that starts one (pointer_field skipped)."""
    data = payload(pkt)
    if not data or not pusi(pkt):
        return b""
    return data[1 + data[0] :]


def pat_pmt_pids(pkt: bytes | memoryview) -> list[int]:
    """PMT PIDs listed in a PAT packet (program 0, the NIT, excluded)."""
    sec = _section(pkt)
    if len(sec) < 8 or sec[0] != 0x00:
        return []
    end = min(len(sec), 3 + (((sec[1] & 0x0F) << 8) | sec[2])) - 4  # minus CRC
    out = []
    for i in range(8, end - 3, 4):
        program = (sec[i] << 8) | sec[i + 1]
        if program != 0:
            out.append(((sec[i + 2] & 0x1F) << 8) | sec[i + 3])
    return out


def pmt_streams(pkt: bytes | memoryview) -> dict[int, int]:
    """{elementary PID: stream_type} from a PMT packet."""
    sec = _section(pkt)
    if len(sec) < 12 or sec[0] != 0x02:
        return {}
    end = min(len(sec), 3 + (((sec[1] & 0x0F) << 8) | sec[2])) - 4
    i = 12 + (((sec[10] & 0x0F) << 8) | sec[11])
    out: dict[int, int] = {}
    while i + 5 <= end:
        out[((sec[i + 1] & 0x1F) << 8) | sec[i + 2]] = sec[i]
        i += 5 + (((sec[i + 3] & 0x0F) << 8) | sec[i + 4])
    return out


def h264_nal_types(data: bytes) -> list[int]:
    """NAL unit types after each Annex-B start code in data."""
    out = []
    i = data.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(data):
        out.append(data[i + 3] & 0x1F)
        i = data.find(b"\x00\x00\x01", i + 3)
    return out


def pes_es_data(pkt: bytes | memoryview) -> bytes:
    """Elementary-stream bytes of a packet that starts a PES (header skipped), else b""."""
    data = payload(pkt)
    if not pusi(pkt) or len(data) < 9 or data[:3] != b"\x00\x00\x01":
        return b""
    return data[9 + data[8] :]


def h264_random_access_data(es: bytes) -> bool:
    """True when Annex-B data from a PES start holds an IDR or SPS before any non-IDR slice."""
    for t in h264_nal_types(es):
        if t in (_IDR, _SPS):
            return True
        if t == _NON_IDR_SLICE:
            return False
    return False


def keyframe_at(
    chunk: bytes | memoryview, off: int, video_pid: int, scan_bytes: int = 4096
) -> bool:
    """Whether the video packet at `off` in chunk starts a PES holding an H.264 random-access picture.

    Either signal counts: ffmpeg's muxer sets random_access_indicator on key packets, and an IDR
    or SPS NAL near the PES start catches muxers that do not. The NAL scan follows the PES into
    later packets of the same chunk, because an encoder SEI can fill the first packet."""
    pkt = chunk[off : off + PACKET]
    if not pusi(pkt):
        return False
    if random_access(pkt):
        return True
    es = pes_es_data(pkt)
    o = off + PACKET
    while len(es) < scan_bytes and o + PACKET <= len(chunk):
        nxt = chunk[o : o + PACKET]
        if pid(nxt) == video_pid:
            if pusi(nxt):
                break
            es += payload(nxt)
        o += PACKET
    return h264_random_access_data(es)


def is_h264_keyframe_start(pkt: bytes | memoryview) -> bool:
    """keyframe_at for a lone packet."""
    return keyframe_at(pkt, 0, pid(pkt))


@dataclass
class ProgramInfo:
    """Tracks which PIDs carry the PMT and the H.264 video, from PAT/PMT as they pass."""

    pmt_pids: set[int] = field(default_factory=set)
    video_pid: int | None = None

    def update(self, pkt: bytes | memoryview) -> str | None:
        """Feed a packet; return "pat" or "pmt" when it is one, else None."""
        p = pid(pkt)
        if p == PAT_PID:
            pids = pat_pmt_pids(pkt)
            if pids:
                self.pmt_pids = set(pids)
            return "pat"
        if p in self.pmt_pids:
            streams = pmt_streams(pkt)
            video = [es for es, st in streams.items() if st == H264_STREAM_TYPE]
            if video:
                self.video_pid = video[0]
            return "pmt"
        return None

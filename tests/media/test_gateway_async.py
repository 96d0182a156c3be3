"""MediaGateway driven directly in its own event loop (no HTTP)."""

import asyncio
import logging

import psutil
import pytest

from console.server.media import MediaGateway, StreamUnavailable, UnknownStream
from console.server.sim.cameras import SimCameraServer

from .conftest import CAM_PASSWORD, with_password


def all_gone(pids: set[int]) -> bool:
    """None of these processes is still running (the gateway has reaped them)."""
    return not any(psutil.pid_exists(p) for p in pids)


def test_a_viewer_that_never_reads_does_not_stall_another(sim: SimCameraServer) -> None:
    async def scenario() -> tuple[int, str | None, dict, int]:
        gw = MediaGateway(linger_s=0.5, viewer_queue_bytes=32 * 1024)
        gw.set_source("cam01", "main", sim.url("cam01", "main"))
        await gw.start()
        try:
            stuck = await gw.subscribe(
                "cam01", "main", first_data_timeout=30
            )  # never iterated
            # generous: under load the simulator can stall a session, and the gateway then needs
            # its own 10 s no-data restart; this test is about a stuck viewer, not start-up time
            reader = await gw.subscribe("cam01", "main", first_data_timeout=30)
            received = 0
            async for chunk in reader:
                received += len(chunk)
                # read well past the stuck viewer's 32 KiB budget
                if received > 3 * 32 * 1024 and stuck.end_reason is not None:
                    break
            stats = gw.stats()["cam01/main"]
            reader.close()
            return received, stuck.end_reason, stats, stats["pid"]
        finally:
            await gw.stop()

    received, stuck_reason, stats, pid = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert received > 3 * 32 * 1024
    assert stuck_reason == "too slow"
    assert stats["viewers"] == 1  # the stuck one was dropped, the reader remains
    assert pid is not None and all_gone({pid})


def test_credentials_never_reach_the_log(
    sim: SimCameraServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rtcc.media")
    bad = with_password(sim.url("cam01", "sub").replace("/cam01/", "/missing/"))

    async def scenario() -> None:
        gw = MediaGateway(linger_s=0.5)
        gw.set_source("cam01", "sub", with_password(sim.url("cam01", "sub")))
        gw.set_source("missing", "sub", bad)
        await gw.start()
        try:
            ok = await gw.subscribe("cam01", "sub", first_data_timeout=10)
            assert len(await ok.__anext__()) > 0
            ok.close()
            with pytest.raises(StreamUnavailable):
                await gw.subscribe("missing", "sub", first_data_timeout=10)
        finally:
            await gw.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    messages = [r.getMessage() for r in caplog.records]
    assert any("Server returned 404" in m and "rtsp://***@" in m for m in messages), (
        messages
    )
    assert not [m for m in messages if CAM_PASSWORD in m or "viewer:" in m]


def test_unknown_stream_and_stop_idempotent() -> None:
    async def scenario() -> None:
        gw = MediaGateway()
        await gw.start()
        with pytest.raises(UnknownStream):
            await gw.subscribe("nope", "main")
        await gw.stop()
        await gw.stop()

    asyncio.run(scenario())


def test_stop_kills_every_upstream(sim: SimCameraServer) -> None:
    async def scenario() -> None:
        gw = MediaGateway()
        for cam in ("cam01", "cam02"):
            gw.set_source(cam, "sub", sim.url(cam, "sub"), always_on=True)
        await gw.start()
        for _ in range(200):
            pids = {s["pid"] for s in gw.stats().values()} - {None}
            if len(pids) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(pids) == 2 and not all_gone(pids)
        await gw.stop()
        assert all_gone(pids)
        assert not any(s["running"] or s["pid"] for s in gw.stats().values())

    asyncio.run(asyncio.wait_for(scenario(), 30))

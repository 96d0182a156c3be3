import logging

import pytest

from console.logsafe import SecretMaskFilter, mask_text, mask_url, url_secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "rtsp://admin:hunter2@10.0.0.5:554/Streaming/101",
            "rtsp://***@10.0.0.5:554/Streaming/101",
        ),
        ("rtsp://admin@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://10.0.0.5:554/live", "rtsp://10.0.0.5:554/live"),
        ("http://h/x.ts?token=abc.def&channel=1", "http://h/x.ts?token=***&channel=1"),
        (
            "http://h/x?Password=1&API_KEY=2&auth=3&name=ok",
            "http://h/x?Password=***&API_KEY=***&auth=***&name=ok",
        ),
        (
            "/api/v1/media/cam01/main.ts?token=abc",
            "/api/v1/media/cam01/main.ts?token=***",
        ),
        ("rtsp://u:p%40ss@h:554/a?secret=z", "rtsp://***@h:554/a?secret=***"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_mask_url_never_raises_on_garbage() -> None:
    assert mask_url("http://user:pw@[::1/x") == "http://***@[::1/x"
    assert mask_url("not a url") == "not a url"


def test_mask_text_masks_urls_inside_lines_and_literal_secrets() -> None:
    url = "rtsp://admin:hunter2@cam:554/a"
    line = f"{url}: Server returned 401 Unauthorized (password hunter2)"
    masked = mask_text(line, *url_secrets(url))
    assert "hunter2" not in masked
    assert masked.startswith("rtsp://***@cam:554/a: Server returned 401")


def test_url_secrets_include_decoded_forms() -> None:
    assert {"p%40ss", "p@ss", "tok"} <= set(
        url_secrets("rtsp://user:p%40ss@h/x?token=tok")
    )


def test_filter_masks_uvicorn_style_access_args(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.access")
    f = SecretMaskFilter()
    logger.addFilter(f)
    try:
        with caplog.at_level(logging.INFO, logger="test.access"):
            logger.info(
                '%s - "%s %s HTTP/%s" %d',
                "127.0.0.1:5",
                "GET",
                "/m.ts?token=SEKRIT",
                "1.1",
                200,
            )
            logger.info("opening rtsp://a:SEKRIT2@h/x")
    finally:
        logger.removeFilter(f)
    text = caplog.text
    assert "SEKRIT" not in text and "token=***" in text and "rtsp://***@h/x" in text

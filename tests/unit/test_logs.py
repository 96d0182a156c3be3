import io
import logging

from console.logs import install_masking


def test_every_handler_masks_credentials_and_tokens_whoever_logs():
    stream = io.StringIO()
    logger = logging.getLogger("rtcc.test.masking")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        install_masking(logger)
        install_masking(logger)  # idempotent
        assert len(handler.filters) == 1
        logger.warning("upstream %s lost", "rtsp://admin:Hunter2@10.0.0.7/stream1")
        logger.warning('GET /api/v1/media/c1/sub.ts?token=abc.DEF-123 "HTTP/1.1" 200')
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "Hunter2" not in out and "abc.DEF-123" not in out
    assert "10.0.0.7/stream1" in out and "/api/v1/media/c1/sub.ts" in out

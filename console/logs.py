"""Logging set-up: named categories (rtcc.*) and credential masking on every record.

The masking runs as a handler filter, so a URL with ``user:pass@`` or ``?token=``
is masked whatever code logged it (our own, uvicorn's access log, libraries).
"""
from __future__ import annotations

import logging

from console.logsafe import SecretMaskFilter


def install_masking(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, SecretMaskFilter) for f in handler.filters):
            handler.addFilter(SecretMaskFilter())


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_masking()

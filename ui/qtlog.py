"""Route Qt's own messages (qDebug/qWarning/...) into Python logging under "rtcc.qt"."""
from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("rtcc.qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = context.category or "default"
    logging.getLogger(f"rtcc.qt.{category}" if category != "default" else "rtcc.qt").log(
        _LEVELS.get(kind, logging.WARNING), "%s", message)


def install() -> None:
    """Install once, before the QApplication is created, so start-up messages are caught too."""
    qInstallMessageHandler(_handler)


def uninstall() -> None:
    qInstallMessageHandler(None)

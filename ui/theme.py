"""The dark theme: a dark QPalette (for widgets the style sheet does not reach) + dark.qss."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

log = logging.getLogger("rtcc.ui")

QSS = Path(__file__).resolve().parent.parent / "resources" / "theme" / "dark.qss"

_COLOURS = {
    QPalette.ColorRole.Window: "#1e2126",
    QPalette.ColorRole.WindowText: "#d8dde3",
    QPalette.ColorRole.Base: "#16181c",
    QPalette.ColorRole.AlternateBase: "#23272d",
    QPalette.ColorRole.ToolTipBase: "#2b3038",
    QPalette.ColorRole.ToolTipText: "#e8ecf0",
    QPalette.ColorRole.Text: "#d8dde3",
    QPalette.ColorRole.Button: "#2b3038",
    QPalette.ColorRole.ButtonText: "#d8dde3",
    QPalette.ColorRole.BrightText: "#ff5c5c",
    QPalette.ColorRole.Highlight: "#2f6fb3",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6aa9ff",
    QPalette.ColorRole.PlaceholderText: "#7c858f",
}


def dark_palette() -> QPalette:
    pal = QPalette()
    for role, colour in _COLOURS.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b737c"))
    return pal


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    try:
        app.setStyleSheet(QSS.read_text(encoding="utf-8"))
    except OSError as exc:
        log.warning("dark theme style sheet not loaded (%s): %s", QSS, exc)

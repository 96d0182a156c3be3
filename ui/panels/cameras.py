"""The camera tree: grouped by division then owner agency, live search, drag a camera out."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.catalog import CameraCatalog
from ui.wall.tile import CAMERA_MIME, camera_mime

ID_ROLE = Qt.ItemDataRole.UserRole


class _CameraTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # type: ignore[override]
        ids = [i.data(0, ID_ROLE) for i in items if i.data(0, ID_ROLE)]
        return camera_mime(ids[0]) if ids else QMimeData()


class CameraTreePanel(QWidget):
    camera_activated = Signal(str)

    def __init__(self, catalog: CameraCatalog, parent: QWidget | None = None,
                 *, search_delay_ms: int = 120) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.search = QLineEdit(self, placeholderText="Search cameras, divisions, agencies…")
        self.search.setClearButtonEnabled(True)
        self.tree = _CameraTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(4)
        box.addWidget(self.search)
        box.addWidget(self.tree, 1)
        # coalesce keystrokes: a 10k-camera tree is rebuilt once per pause in typing
        self._debounce = QTimer(self, singleShot=True, interval=search_delay_ms)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        catalog.events.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        text = self.search.text()
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        for division, owners in self.catalog.grouped(text):
            div_item = QTreeWidgetItem([division])
            div_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for owner, cameras in owners:
                owner_item = QTreeWidgetItem([f"{owner} ({len(cameras)})"])
                owner_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                for cam in cameras:
                    item = QTreeWidgetItem([cam.name])
                    item.setData(0, ID_ROLE, cam.id)
                    item.setToolTip(0, f"{cam.id} · {cam.owner_agency}")
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsDragEnabled)
                    owner_item.addChild(item)
                div_item.addChild(owner_item)
            self.tree.addTopLevelItem(div_item)
        if text.strip():
            self.tree.expandAll()
        self.tree.setUpdatesEnabled(True)

    def camera_items(self) -> list[QTreeWidgetItem]:
        out = []
        for d in range(self.tree.topLevelItemCount()):
            div = self.tree.topLevelItem(d)
            for o in range(div.childCount()):
                owner = div.child(o)
                out += [owner.child(c) for c in range(owner.childCount())]
        return out

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        camera_id = item.data(0, ID_ROLE)
        if camera_id:
            self.camera_activated.emit(camera_id)

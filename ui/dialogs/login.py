"""Login dialog: server URL, user name, password, and whether to keep the password in
the OS keyring. It only collects input; the caller does the network call."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)


@dataclass(frozen=True)
class LoginInput:
    server_url: str
    username: str
    password: str
    remember: bool


class LoginDialog(QDialog):
    def __init__(self, server_url: str = "", username: str = "", message: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("RTCC Console — sign in")
        self._server = QLineEdit(server_url)
        self._user = QLineEdit(username)
        self._password = QLineEdit()
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._remember = QCheckBox("Keep the password in the system keyring")
        self._message = QLabel(message)
        self._message.setWordWrap(True)
        self._message.setObjectName("loginMessage")
        form = QFormLayout()
        form.addRow("Server", self._server)
        form.addRow("User", self._user)
        form.addRow("Password", self._password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self._message)
        box.addLayout(form)
        box.addWidget(self._remember)
        box.addWidget(buttons)
        (self._password if username else self._user).setFocus()

    def value(self) -> LoginInput:
        return LoginInput(self._server.text().strip(), self._user.text().strip(),
                          self._password.text(), self._remember.isChecked())

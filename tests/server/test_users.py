"""Admin user management over HTTP."""
from __future__ import annotations

from console.model import Role, User
from tests.server.conftest import Server


def test_user_create_login_delete(server: Server) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/users", json={"username": "new.op", "role": "operator",
                                          "display_name": "New Op", "password": "long-enough-1"})
        assert r.status_code == 201
        assert User.model_validate(r.json()) == User(username="new.op", role=Role.operator,
                                                     display_name="New Op")
        assert "password" not in r.text and "hash" not in r.text
        assert c.post("/api/v1/users", json={"username": "new.op", "role": "operator",
                                             "password": "long-enough-1"}).status_code == 409
        listed = c.get("/api/v1/users").json()
        assert "new.op" in [u["username"] for u in listed]
        assert all(set(u) == {"username", "role", "display_name"} for u in listed)

        token = server.login("new.op", "long-enough-1").json()["access_token"]
        assert c.delete("/api/v1/users/new.op").status_code == 204
        assert c.delete("/api/v1/users/new.op").status_code == 404
    with server.client(token=token) as gone:
        assert gone.get("/api/v1/auth/me").status_code == 401  # its sessions went with it
    assert server.login("new.op", "long-enough-1").status_code == 401


def test_user_validation_names_the_field(server: Server) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/users", json={"username": "x", "role": "chief", "password": "long-enough-1"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]
        r = c.post("/api/v1/users", json={"username": "x", "role": "operator", "password": "tiny7"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "password"]
        assert "tiny7" not in r.text


def test_admin_cannot_delete_itself(server: Server) -> None:
    with server.client("admin") as c:
        r = c.delete("/api/v1/users/admin")
    assert r.status_code == 400

"""The hash-chained audit log on both backends: what gets recorded, the API, concurrent
appends, and tamper detection (edit, remove, reorder) by the API and by
``rtcc-console audit verify``."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import HTTPException
from sqlalchemy import Engine, delete, select, update

from console.audit_cli import audit_verify_main
from console.cli import main as cli_main
from console.model import Role, User
from console.server import audit, db
from console.server.tables_events import audit_log
from tests.server.conftest import Server, password_of

ALICE = User(username="alice", role=Role.operator)


@pytest.fixture
def fresh(server: Server, new_db_url: Callable[[str], str]) -> Iterator[tuple[str, Engine]]:
    """A separate database on the same backend, so tampering never breaks the shared one."""
    url = new_db_url(server.backend)
    db.upgrade(url)
    engine = db.make_engine(url)
    yield url, engine
    engine.dispose()


def _append(engine: Engine, n: int, user: User = ALICE) -> list[int]:
    ids = []
    for i in range(n):
        with engine.begin() as conn:
            ids.append(audit.record(conn, user=user, action="alpr.search", target=f"plate/{i}",
                                    reason_code="investigation", case_number="DR-2025-0001",
                                    detail={"i": i, "partial": True, "ratio": 0.1}))
    return ids


def _verify(engine: Engine):
    with engine.connect() as conn:
        return audit.verify(conn)


def test_login_success_and_failure_are_audited(server: Server) -> None:
    assert server.login("operator", password_of("operator")).status_code == 200
    assert server.login("operator", "wrong-password").status_code == 401
    assert server.login("nobody-such", "x").status_code == 401
    with server.client(Role.auditor) as c:
        rows = c.get("/api/v1/audit", params={"action": "auth.login", "limit": 3}).json()
    assert [(r["username"], r["role"], r["outcome"]) for r in rows] == [
        ("nobody-such", None, "denied"), ("operator", None, "denied"),
        ("operator", "operator", "ok")]


def test_audit_api_filters_and_verifies(server: Server) -> None:
    with server.engine.begin() as conn:
        before = db.utcnow()
        rid = audit.record(conn, user=User(username="supervisor", role=Role.supervisor),
                           action="ptz.takeover", target="camera/cam-1",
                           reason_code="active-incident", case_number="DR-2025-0042",
                           detail={"from": "operator"})
    with server.client(Role.auditor) as c:
        rows = c.get("/api/v1/audit", params={"user": "supervisor", "action": "ptz.takeover",
                                              "since": (before - timedelta(seconds=1))
                                              .isoformat()}).json()
        assert rows[0]["id"] == rid and rows[0]["case_number"] == "DR-2025-0042"
        assert rows[0]["reason_code"] == "active-incident" and rows[0]["role"] == "supervisor"
        def ids(**params: str) -> list[int]:
            return [r["id"] for r in c.get("/api/v1/audit", params={
                "action": "ptz.takeover", **params}).json()]
        assert rid not in ids(until=before.isoformat())
        assert rid in ids(until=(db.utcnow() + timedelta(seconds=5)).isoformat())
        assert len(c.get("/api/v1/audit", params={"limit": 1}).json()) == 1
        verdict = c.get("/api/v1/audit/verify").json()
    assert verdict["ok"] is True and verdict["records"] >= 1 and verdict["first_bad_id"] is None
    with server.client(Role.operator) as c:
        assert c.get("/api/v1/audit").status_code == 403
        assert c.get("/api/v1/audit/verify").status_code == 403


def test_concurrent_appends_form_one_chain(fresh: tuple[str, Engine]) -> None:
    _url, engine = fresh
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _append(engine, 20)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    result = _verify(engine)
    assert result.ok and result.records == 80, result


def test_a_rolled_back_action_leaves_no_audit_record(fresh: tuple[str, Engine]) -> None:
    _url, engine = fresh
    _append(engine, 2)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit.record(conn, user=ALICE, action="export", target="clip/1")
        raise RuntimeError("the action failed")
    _append(engine, 1)
    assert _verify(engine).ok and _verify(engine).records == 3


def _tamper_edit(engine: Engine, ids: list[int]) -> int:
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2]).values(target="plate/X"))
    return ids[2]


def _tamper_edit_and_rehash(engine: Engine, ids: list[int]) -> int:
    with engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.id == ids[2])).one()
        values = {**row._mapping, "outcome": "denied"}
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2]).values(
            outcome="denied", hash=audit.chain_hash(row.prev_hash, row.id, values)))
    return ids[3]  # its link to the rewritten record no longer holds


def _tamper_remove(engine: Engine, ids: list[int]) -> int:
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[2]))
    return ids[3]


def _tamper_reorder(engine: Engine, ids: list[int]) -> int:
    cols = [c.name for c in audit_log.c if c.name != "id"]
    with engine.begin() as conn:
        a, b = (conn.execute(select(audit_log).where(audit_log.c.id == i)).one()
                for i in (ids[1], ids[2]))
        conn.execute(update(audit_log).where(audit_log.c.id == ids[1])
                     .values({c: getattr(b, c) for c in cols}))
        conn.execute(update(audit_log).where(audit_log.c.id == ids[2])
                     .values({c: getattr(a, c) for c in cols}))
    return ids[1]


@pytest.mark.parametrize("tamper", [_tamper_edit, _tamper_edit_and_rehash, _tamper_remove,
                                    _tamper_reorder], ids=lambda f: f.__name__.split("_", 2)[2])
def test_verify_names_the_first_bad_record(
        fresh: tuple[str, Engine], tamper: Callable[[Engine, list[int]], int],
        capsys: pytest.CaptureFixture[str]) -> None:
    url, engine = fresh
    ids = _append(engine, 6)
    assert audit_verify_main(url) == 0
    assert "intact: 6 records" in capsys.readouterr().out
    bad = tamper(engine, ids)
    result = _verify(engine)
    assert not result.ok and result.first_bad_id == bad, result
    assert cli_main(["audit", "verify", "--db", url]) == 1
    assert f"BROKEN at record {bad}:" in capsys.readouterr().err


def test_verify_cli_refuses_a_missing_database(tmp_path, capsys) -> None:
    assert audit_verify_main(f"sqlite:///{tmp_path}/none.db") == 2
    assert "no database file" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(("reason", "case", "field"), [
    (None, "DR-2025-1", "reason"), ("curiosity", "DR-2025-1", "reason"),
    ("investigation", None, "case"), ("investigation", "dr 1", "case"),
    ("investigation", "X", "case")])
def test_justification_names_the_bad_field(reason: str | None, case: str | None,
                                           field: str) -> None:
    with pytest.raises(HTTPException) as err:
        audit.justification(reason, case)
    assert err.value.status_code == 422 and err.value.detail[0]["loc"] == ["query", field]


def test_justification_accepts_a_valid_pair() -> None:
    j = audit.justification("hotlist-hit", "LA-25-000123", where="body")
    assert (j.reason.value, j.case) == ("hotlist-hit", "LA-25-000123")

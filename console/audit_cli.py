"""``rtcc-console audit verify [--db URL]``: check the server's audit hash chain offline.

Exit status 0 when the chain is intact, 1 naming the first bad record when a record was
edited, removed or reordered, 2 when the database cannot be read. The result lines are
this command's documented output (stdout / stderr), not log lines.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError


def audit_verify_main(db_url: str | None) -> int:
    from console.server import audit, db
    from console.server.settings import ServerSettings

    url = db_url or ServerSettings.from_env().db_url
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        print(f"audit verify: --db: {exc}", file=sys.stderr)
        return 2
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        print(f"audit verify: no database file at {shown}", file=sys.stderr)
        return 2
    try:
        engine = db.make_engine(url)
    except (SQLAlchemyError, ImportError) as exc:
        print(f"audit verify: cannot open {shown}: {exc}", file=sys.stderr)
        return 2
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("audit_log"):
                print(f"audit verify: {shown} has no audit log (not a server database?)",
                      file=sys.stderr)
                return 2
            result = audit.verify(conn)
    except SQLAlchemyError as exc:
        print(f"audit verify: cannot read the audit log of {shown}: "
              f"{type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if result.ok:
        print(f"audit chain intact: {result.records} records ({shown})")
        return 0
    print(f"audit chain BROKEN at record {result.first_bad_id}: {result.problem}",
          file=sys.stderr)
    return 1

"""One router per resource; see ``console.server.app.create_app``."""
from __future__ import annotations

from fastapi import HTTPException, status


def field_error(loc: tuple[str | int, ...], msg: str,
                code: int = status.HTTP_422_UNPROCESSABLE_CONTENT) -> HTTPException:
    """An error shaped like FastAPI's validation errors, naming the field."""
    return HTTPException(code, [{"loc": list(loc), "msg": msg, "type": "value_error"}])

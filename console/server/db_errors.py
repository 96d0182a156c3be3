"""Values the database cannot store are the client's error (422), not a server error.

Path/query integers are unbounded in the OpenAPI, but PostgreSQL ``integer`` columns hold
32 bits and SQLite 64: an id like 4465332578431622184960 raised OverflowError (SQLite) or
DataError "integer out of range" (PostgreSQL), a 500. Likewise a string longer than its
``VARCHAR(n)`` is a DataError on PostgreSQL (SQLite ignores lengths). These handlers turn
both into 422 naming the parameter when it can be found.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

log = logging.getLogger("rtcc.server")

INT32_MAX = 2**31 - 1


def _out_of_range_param(request: Request) -> list[str | int] | None:
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            try:
                number = int(str(value))
            except ValueError:
                continue
            if not -INT32_MAX - 1 <= number <= INT32_MAX:
                return [where, name]
    return None


def _reply(request: Request, msg: str) -> JSONResponse:
    loc = _out_of_range_param(request)
    if loc is not None:
        msg = f"{loc[1]} is out of range (at most {INT32_MAX})"
    log.info("%s %s: refused a value the database cannot store: %s", request.method,
             request.url.path, msg)
    return JSONResponse({"detail": [{"loc": loc or ["body"], "msg": msg,
                                     "type": "value_error"}]},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    return _reply(request, "a number is out of the storable range")


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    orig = getattr(exc, "orig", None)
    first = str(orig or exc).splitlines()[0][:200]
    return _reply(request, f"a value cannot be stored: {first}")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(DataError, _data_error)

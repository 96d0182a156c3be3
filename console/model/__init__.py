"""Pydantic wire models shared by the console and the reference server, one module per
area (core: users, cameras, stations, layouts; later alerts, alpr, ptz, bookmarks, audit).
Everything is re-exported here: ``from console.model import Camera``."""
from console.model.core import *  # noqa: F403
from console.model.core import __all__ as _core

__all__ = list(_core)

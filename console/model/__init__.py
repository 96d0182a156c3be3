"""Pydantic wire models shared by the console and the reference server, one module per
area (core: users, cameras, stations, layouts; later alerts, alpr, ptz, bookmarks, audit).
Everything is re-exported here: ``from console.model import Camera``."""
from console.model.core import *  # noqa: F403
from console.model.core import __all__ as _core

__all__ = list(_core)
from console.model.events import *  # noqa: E402,F403
from console.model.events import __all__ as _events  # noqa: E402
__all__ += _events
from console.model.audit import *  # noqa: E402,F403
from console.model.audit import __all__ as _audit  # noqa: E402
__all__ += _audit
from console.model.alerts import *  # noqa: E402,F403
from console.model.alerts import __all__ as _alerts  # noqa: E402
__all__ += _alerts
from console.model.alpr import *  # noqa: E402,F403
from console.model.alpr import __all__ as _alpr  # noqa: E402
__all__ += _alpr
from console.model.ptz import *  # noqa: E402,F403
from console.model.ptz import __all__ as _ptz  # noqa: E402
__all__ += _ptz
from console.model.bookmarks import *  # noqa: E402,F403
from console.model.bookmarks import __all__ as _bookmarks  # noqa: E402
__all__ += _bookmarks
from console.model.recordings import *  # noqa: E402,F403
from console.model.recordings import __all__ as _recordings  # noqa: E402
__all__ += _recordings

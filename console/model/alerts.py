"""Wire models of alerts (``/api/v1/alerts``): created by the simulator and integrations,
worked by operators through the transitions acknowledge, assign, escalate and close.

State machine (``ALERT_TRANSITIONS``)::

    new ──acknowledge──> acknowledged ──assign──> assigned ──escalate──> escalated
     │  └───────assign / escalate──────────────────────^          │
     └──────────── close (from any open state) ──> closed <───────┘

``holder`` is who works the alert now: the acknowledging user, or the assignee.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from console.model.core import Wire

__all__ = ["ALERT_TRANSITIONS", "Alert", "AlertAction", "AlertHistoryEntry", "AlertIn",
           "AlertReason", "AlertState", "AlertTransition"]


class AlertState(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    assigned = "assigned"
    escalated = "escalated"
    closed = "closed"


class AlertAction(StrEnum):
    acknowledge = "acknowledge"
    assign = "assign"
    escalate = "escalate"
    close = "close"


_OPEN = frozenset({AlertState.new, AlertState.acknowledged, AlertState.assigned,
                   AlertState.escalated})

# action -> (states it may start from, state it leads to)
ALERT_TRANSITIONS: dict[AlertAction, tuple[frozenset[AlertState], AlertState]] = {
    AlertAction.acknowledge: (frozenset({AlertState.new}), AlertState.acknowledged),
    AlertAction.assign: (_OPEN, AlertState.assigned),
    AlertAction.escalate: (frozenset({AlertState.new, AlertState.acknowledged,
                                      AlertState.assigned}), AlertState.escalated),
    AlertAction.close: (_OPEN, AlertState.closed),
}


class AlertReason(StrEnum):
    """Controlled reasons for alert transitions."""

    reviewing = "reviewing"                  # operator is looking at it
    units_dispatched = "units-dispatched"
    handover = "handover"                    # shift change / passing to a colleague
    needs_supervisor = "needs-supervisor"
    confirmed = "confirmed"                  # verified on camera
    resolved = "resolved"
    false_alarm = "false-alarm"
    duplicate = "duplicate"
    no_action_needed = "no-action-needed"
    training = "training"


class AlertIn(Wire):
    """What the simulator or an integration posts."""

    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    priority: int = Field(default=3, ge=1, le=5)  # 1 most urgent
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=4000)
    division: int | None = Field(default=None, ge=1, le=21)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    camera_ids: list[str] = Field(default_factory=list, max_length=32)


class AlertTransition(Wire):
    """Body of ``POST /alerts/{id}/{action}``; ``assignee`` only (and required) for assign."""

    reason: AlertReason
    note: str = Field(default="", max_length=1000)
    assignee: str | None = Field(default=None, min_length=1, max_length=128)


class AlertHistoryEntry(Wire):
    at: datetime
    by: str
    action: str  # "create" or an AlertAction
    from_state: AlertState | None = None
    to_state: AlertState
    reason: str | None = None
    note: str = ""
    holder: str | None = None


class Alert(AlertIn):
    id: int
    state: AlertState = AlertState.new
    holder: str | None = None
    created_by: str = ""
    created_at: datetime
    updated_at: datetime
    history: list[AlertHistoryEntry] = Field(default_factory=list)

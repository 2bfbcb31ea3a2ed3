"""CDS Hooks cards from alerts (cds-hooks.hl7.org/2.0/#card-attributes)."""

from __future__ import annotations

import uuid

from .engine import Alert
from .medications import Medication

INDICATOR = {"contraindicated": "critical", "major": "warning", "moderate": "info", "monitoring": "info"}
RULE_SYSTEM = "https://github.com/fhir-medication-server/rules"
OVERRIDE_SYSTEM = "https://github.com/fhir-medication-server/override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk"},
    {"system": OVERRIDE_SYSTEM, "code": "will-monitor", "display": "Will monitor as advised"},
    {"system": OVERRIDE_SYSTEM, "code": "cross-taper", "display": "Planned cross-taper or switch"},
    {"system": OVERRIDE_SYSTEM, "code": "patient-not-taking", "display": "Patient no longer takes the other drug"},
]


def card(alert: Alert, draft_ids: set[str]) -> dict:
    """One card; a draft order in the alert can be removed as the suggestion (a delete action)."""
    rule = alert.rule
    body = {
        "uuid": str(uuid.uuid4()),
        "summary": alert.summary,
        "indicator": INDICATOR[rule.severity],
        "detail": _detail(alert),
        "source": {
            "label": rule.source.label,
            "url": rule.source.url,
            "topic": {"system": RULE_SYSTEM, "code": rule.id, "display": rule.id},
        },
        "overrideReasons": OVERRIDE_REASONS,
    }
    removable = [m for m in (alert.subject, alert.other) if m is not None and m.reference in draft_ids]
    if removable and rule.severity in ("contraindicated", "major") or removable and rule.family == "duplicate":
        order = removable[0]
        body["suggestions"] = [
            {
                "label": f"Remove the draft order for {order.display}",
                "uuid": str(uuid.uuid4()),
                "isRecommended": rule.severity == "contraindicated",
                "actions": [
                    {
                        "type": "delete",
                        "description": f"Remove the draft order for {order.display}",
                        "resourceId": order.reference,
                    }
                ],
            }
        ]
        body["selectionBehavior"] = "at-most-one"
    return body


def _detail(alert: Alert) -> str:
    rule = alert.rule
    lines = [
        f"**Severity:** {rule.severity}",
        "",
        f"**Mechanism:** {rule.mechanism}",
        "",
        f"**Effect:** {rule.effect}",
        "",
        f"**What to do:** {rule.management}",
        "",
        f"**Medications:** {_where(alert.subject)}" + (f"; {_where(alert.other)}" if alert.other else ""),
        "",
        f"Source: [{rule.source.label}]({rule.source.url})",
    ]
    return "\n".join(lines)


def _where(medication: Medication) -> str:
    return f"{medication.display} ({medication.reference})"


def unchecked_card(medications: list[Medication]) -> dict:
    """One info card for the medications that are not coded in RxNorm (or not in the knowledge)."""
    names = ", ".join(sorted({m.display for m in medications}))
    summary = f"Not checked for interactions: {names}"
    if len(summary) > 139:
        summary = summary[:138] + "…"
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": "info",
        "detail": "These medications carry no RxNorm code this service knows, so they could not be checked for "
        "interactions, duplicate therapy, contraindications or dose limits:\n\n"
        + "\n".join(f"- {_where(m)}" for m in medications),
        "source": {"label": "FHIR medication server medication-safety rules", "url": RULE_SYSTEM},
    }

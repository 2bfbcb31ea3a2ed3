"""The population operations' clinical side: which codes count, and the $pdc answer as Parameters."""

from __future__ import annotations

from datetime import date

from ..fhir.bundles import Bundle
from ..fhir.outcomes import BadRequest
from ..interactions import populations
from ..interactions.context import RequestContext
from .adherence import MIN_FILLS, THRESHOLD
from .knowledge import Knowledge


def codes_of(knowledge: Knowledge, ingredients) -> tuple[list[str], list[str]]:
    """Every RxCUI (IN, PIN, SCD, SBD) standing for one of the ingredients, with the ingredient it stands for."""
    pairs = [(code, drug) for code, drugs in knowledge.codes.items() for drug in drugs if drug in ingredients]
    return [c for c, _ in pairs], [d for _, d in pairs]


def follow_up_gaps(
    ctx: RequestContext,
    knowledge: Knowledge,
    started_within: int,
    follow_up_within: int | None,
    count: int,
    path: str,
    pairs: list,
    cursor: str | None = None,
) -> Bundle:
    follow_up = knowledge.follow_up
    assert follow_up is not None  # the knowledge base defines the follow-up rule
    codes, _ = codes_of(knowledge, follow_up.drugs)
    return populations.follow_up_gaps(
        ctx,
        codes,
        started_within,
        follow_up_within or follow_up.days,
        list(follow_up.appointment_status),
        count,
        path,
        pairs,
        cursor,
    )


def group_pdc(
    ctx: RequestContext, knowledge: Knowledge, group_id: str, drug_class: str, period_start: date, period_end: date
) -> dict:
    """Group/{id}/$pdc: PQA PDC of the class per member, and the share of eligible members at or above 0.8."""
    if drug_class not in knowledge.classes:
        raise BadRequest(f"class must be one of {', '.join(sorted(knowledge.classes))}", location="http.class")
    codes, drugs = codes_of(knowledge, knowledge.classes[drug_class])
    _, rows = populations.group_pdc(ctx, group_id, codes, drugs, period_start, period_end)
    parameters, eligible, adherent = [], 0, 0
    for patient_id, fills, index_day, days, covered in rows:
        part = [
            {"name": "patient", "valueReference": {"reference": f"Patient/{patient_id}"}},
            {"name": "fills", "valueInteger": fills},
        ]
        is_eligible = fills >= MIN_FILLS and days > 0
        if index_day is not None:
            pdc = round(covered / days, 4)
            part += [
                {"name": "indexDate", "valueDate": index_day.isoformat()},
                {"name": "daysInPeriod", "valueInteger": days},
                {"name": "daysCovered", "valueInteger": int(covered)},
                {"name": "pdc", "valueDecimal": pdc},
            ]
            if is_eligible:
                part.append({"name": "adherent", "valueBoolean": pdc >= THRESHOLD})
                adherent += pdc >= THRESHOLD
        eligible += is_eligible
        part.append({"name": "eligible", "valueBoolean": is_eligible})
        parameters.append({"name": "member", "part": part})
    summary = [
        {"name": "class", "valueCode": drug_class},
        {"name": "periodStart", "valueDate": period_start.isoformat()},
        {"name": "periodEnd", "valueDate": period_end.isoformat()},
        {"name": "members", "valueInteger": len(rows)},
        {"name": "eligible", "valueInteger": eligible},
        {"name": "adherent", "valueInteger": adherent},
    ]
    if eligible:
        summary.append({"name": "share", "valueDecimal": round(adherent / eligible, 4)})
    return {"resourceType": "Parameters", "parameter": summary + parameters}

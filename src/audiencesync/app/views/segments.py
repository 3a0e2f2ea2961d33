"""Segment views: a segment, its counts history, a preview, an explanation.

``segments list/show/preview/evaluate --json`` print these and the REST API
returns them. A preview and an explanation hold profile data (members' values,
a profile's results); only roles allowed to see profiles get them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from audiencesync.app.views import View
from audiencesync.segments.explain import Explanation, Step
from audiencesync.segments.records import EvaluationRecord, Preview, SegmentInfo
from audiencesync.segments.rules import definition_to_json
from audiencesync.segments.service import Validation


class SegmentCountView(View):
    """One evaluation of a segment: when, how many members, how long, on what."""

    evaluated_at: datetime
    member_count: int | None
    duration_ms: int
    engine: str
    error: str | None

    @classmethod
    def of(cls, record: EvaluationRecord) -> SegmentCountView:
        """The view of one evaluation record."""
        return cls(
            evaluated_at=record.evaluated_at,
            member_count=record.member_count,
            duration_ms=record.duration_ms,
            engine=record.engine,
            error=record.error,
        )


class SegmentView(View):
    """A saved segment with its latest member count; ``revision`` is its ETag."""

    name: str
    description: str | None
    kind: Literal["rules", "where"]
    definition: dict[str, Any] = Field(
        description='{"kind": "where", "where": SQL} or {"kind": "rules", "rules": …}'
    )
    summary: str
    member_count: int | None
    evaluated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    revision: int

    @classmethod
    def of(cls, info: SegmentInfo) -> SegmentView:
        """The view of a segment record."""
        return cls(**_segment_fields(info))


class SegmentDetailView(SegmentView):
    """A segment with its latest evaluations, newest first (``segments show``)."""

    history: list[SegmentCountView]

    @classmethod
    def with_history(
        cls, info: SegmentInfo, history: list[EvaluationRecord]
    ) -> SegmentDetailView:
        """The view of a segment and its count history."""
        return cls(
            **_segment_fields(info),
            history=[SegmentCountView.of(record) for record in history],
        )


class EvaluatedView(View):
    """A segment counted now (``segments evaluate``): its count, or why not."""

    name: str
    member_count: int | None
    error: str | None = None


class DeletedView(View):
    """A segment that was deleted."""

    name: str
    deleted: bool = True


class PreviewView(View):
    """The first members of a segment (key, then columns) and the member count."""

    name: str
    member_count: int
    columns: list[str]
    members: list[dict[str, Any]]

    @classmethod
    def of(cls, preview: Preview) -> PreviewView:
        """The view of a preview."""
        return cls(
            name=preview.segment,
            member_count=preview.member_count,
            columns=list(preview.members.column_names),
            members=preview.members.to_pylist(),
        )


class ExplainStepView(View):
    """One condition or group, and its result for the profile.

    ``result`` is SQL's three values: true, false, or null when a value the
    condition reads is missing (a null condition does not select the profile).
    """

    path: str = Field(description="Where it is in the definition, e.g. rules › all[1]")  # noqa: RUF001
    kind: Literal["condition", "all", "any", "not", "exists", "where", "and", "or"]
    text: str = Field(description="The condition in one human line.")
    result: bool | None
    items: list[ExplainStepView] = Field(default_factory=list)

    @classmethod
    def of(cls, step: Step) -> ExplainStepView:
        """The view of one step and the steps under it."""
        return cls(
            path=step.path,
            kind=step.kind,
            text=step.text,
            result=step.result,
            items=[cls.of(item) for item in step.items],
        )


class ExplainView(View):
    """Why one profile is in or out of a segment, condition by condition."""

    name: str
    key_column: str
    member: bool
    steps: ExplainStepView

    @classmethod
    def of(cls, explanation: Explanation) -> ExplainView:
        """The view of an explanation."""
        return cls(
            name=explanation.segment,
            key_column=explanation.key_column,
            member=explanation.member,
            steps=ExplainStepView.of(explanation.root),
        )


class ValidationView(View):
    """A definition checked without saving: valid with its member count, or why not."""

    valid: bool
    member_count: int | None = None
    summary: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, validation: Validation) -> ValidationView:
        """The view of a validation."""
        error = validation.error
        if error is None:
            return cls(
                valid=True,
                member_count=validation.member_count,
                summary=validation.summary,
            )
        return cls(valid=False, code=error.code, message=str(error), field=error.field)


def _segment_fields(info: SegmentInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "description": info.description,
        "kind": info.kind,
        "definition": definition_to_json(info.definition),
        "summary": info.summary,
        "member_count": info.member_count,
        "evaluated_at": info.evaluated_at,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
        "created_by": info.created_by,
        "revision": info.revision,
    }

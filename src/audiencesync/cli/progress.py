"""A Rich progress bar per segment: profiles sent, rate, ETA from the rate budget.

The ETA divides the rows left by the rate budget: the subscribe calls per
second the client's limiter allows now times the rows a call carries. Before the
limiter has an opinion (no limit learnt yet) the measured rate stands in. Shown
only on a terminal; ``--json`` and pipes get no bar.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

ROWS_PER_CALL = 1000  # the batch policy's rows per subscribe call


class BudgetEta(ProgressColumn):
    """Time left at the rate budget (allowed calls/s times rows per call)."""

    def render(self, task: Task) -> Text:
        """``ETA 0:01:20`` from the task's ``budget`` field or its speed."""
        if task.finished:
            return Text("done", style="green")
        budget = task.fields.get("budget")
        speed = float(budget) if budget else task.speed
        left = (task.total or 0) - task.completed
        if not speed:
            return Text("ETA -:--:--")
        seconds = int(left / speed)
        hours, rest = divmod(seconds, 3600)
        return Text(f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}")


class RateColumn(ProgressColumn):
    """Profiles acknowledged per second so far."""

    def render(self, task: Task) -> Text:
        """``12,345/s``."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s")


class BarProgress:
    """Receives a run's progress and draws one bar per segment."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            BudgetEta(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def segment_started(self, segment: str, *, rows: int) -> None:
        """A bar for the segment (or its bar again, on a resumed run)."""
        task = self._tasks.get(segment)
        if task is None:
            self._tasks[segment] = self._progress.add_task(segment, total=rows)
        else:
            self._progress.update(task, total=rows, completed=0)

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Move the segment's bar; remember the rate budget for the ETA."""
        budget = rate * ROWS_PER_CALL if rate else None
        self._progress.update(self._tasks[segment], advance=rows, budget=budget)

    def segment_finished(self, segment: str) -> None:
        """Fill the segment's bar."""
        task = self._tasks.get(segment)
        if task is not None:
            total = self._progress.tasks[task].total or 0
            self._progress.update(task, completed=total)

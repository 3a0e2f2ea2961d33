"""axe-core in the browser tests: check a page and say what is wrong, readably.

``check_page(page)`` injects the vendored axe-core (``vendor/axe-core/axe.min.js``,
tests only) into a Playwright page, runs ``axe.run(document, {resultTypes:
['violations']})`` and returns the violations found. ``Accessibility`` (the ``axe``
fixture of conftest.py) checks page after page: it prints every violation, and
``assert_passed()`` fails listing each serious or critical one with its rule, help
text, impact and the selectors of the elements at fault. Minor and moderate ones
are printed only.

A page whose Content-Security-Policy forbids inline scripts needs a context made
with ``bypass_csp=True`` (``add_script_tag`` adds one inline script).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FAILING = frozenset({"serious", "critical"})
"""The impacts that fail a test; ``minor`` and ``moderate`` are printed only."""

RUN_AXE = "() => axe.run(document, {resultTypes: ['violations']})"


@dataclass(frozen=True)
class Violation:
    """One axe rule that a page breaks, and where."""

    page: str
    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    @property
    def failing(self) -> bool:
        """Whether its impact is serious or critical."""
        return self.impact in FAILING

    def describe(self) -> str:
        """``[impact] rule: help (url)`` then one indented line per element."""
        lines = [f"[{self.impact}] {self.rule}: {self.help} ({self.help_url})"]
        lines += [f"    at {target}" for target in self.targets]
        return "\n".join(lines)


def _selector(target: Any) -> str:
    """An axe node's target as one string (a list of selectors inside frames)."""
    if isinstance(target, list):
        return " >> ".join(_selector(part) for part in target)
    return str(target)


def check_page(page: Page, name: str | None = None) -> list[Violation]:
    """Run axe on ``page`` as it is now; every violation, named ``name`` (its URL)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE)
    results = page.evaluate(RUN_AXE)
    where = name or page.url
    return [
        Violation(
            page=where,
            rule=str(found["id"]),
            impact=str(found.get("impact") or "minor"),
            help=str(found["help"]),
            help_url=str(found.get("helpUrl", "")),
            targets=tuple(
                ", ".join(_selector(part) for part in node["target"])
                for node in found["nodes"]
            ),
        )
        for found in results["violations"]
    ]


def report(violations: list[Violation]) -> str:
    """The violations, grouped by page, one block each."""
    lines: list[str] = []
    for where in dict.fromkeys(found.page for found in violations):
        lines.append(f"{where}:")
        lines += [
            "  " + found.describe().replace("\n", "\n  ")
            for found in violations
            if found.page == where
        ]
    return "\n".join(lines)


@dataclass
class Accessibility:
    """Checks pages one after another; fails at the end with all that is serious."""

    checked: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def check(self, page: Page, name: str | None = None) -> list[Violation]:
        """Run axe on ``page`` now; print what it finds; its violations."""
        found = check_page(page, name)
        self.checked.append(name or page.url)
        self.violations += found
        if found:
            sys.stdout.write(report(found) + "\n")
        return found

    @property
    def failing(self) -> list[Violation]:
        """The serious and critical violations found so far."""
        return [found for found in self.violations if found.failing]

    def assert_passed(self) -> None:
        """Print the pages checked; fail if any had a serious or critical violation."""
        sys.stdout.write(
            f"axe {len(self.checked)} page(s) checked:\n"
            + "".join(f"  {name}\n" for name in self.checked)
        )
        assert self.checked, "no page was checked"
        failing = self.failing
        assert not failing, (
            f"{len(failing)} serious or critical accessibility violation(s)"
            f" (axe-core):\n{report(failing)}"
        )


def assert_accessible(page: Page, name: str | None = None) -> None:
    """Fail if axe finds a serious or critical violation on ``page`` as it is now."""
    checker = Accessibility()
    checker.check(page, name)
    checker.assert_passed()

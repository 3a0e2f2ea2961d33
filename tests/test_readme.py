"""The README's profile and segment examples run as written, in order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
SECTION = "## Profiles and segments"
BLOCK = re.compile(r"```(sh|console)\n(.*?)```", re.DOTALL)


def _section_blocks() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return [(m[1], m[2]) for m in BLOCK.finditer(text[start:end])]


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(  # noqa: S603 - the README's own example commands
        ["/bin/bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _expected(lines: list[str]) -> re.Pattern[str]:
    parts = [re.escape(line).replace(re.escape("..."), ".*") for line in lines]
    return re.compile("\n".join(parts))


def test_readme_section_has_examples() -> None:
    """The section holds shell examples and at least one shown error."""
    kinds = [kind for kind, _ in _section_blocks()]
    assert kinds.count("sh") >= 3
    assert "console" in kinds


@pytest.mark.slow
def test_profile_and_segment_examples_run(tmp_path: Path) -> None:
    """Each ``sh`` block exits 0; each ``console`` block prints what it shows."""
    for kind, body in _section_blocks():
        if kind == "sh":
            done = _run(body, tmp_path)
            assert done.returncode == 0, f"{body}\n{done.stderr}"
            continue
        command, *output = body.strip().splitlines()
        done = _run(command.removeprefix("$ "), tmp_path)
        assert done.returncode != 0
        assert _expected(output).fullmatch((done.stdout + done.stderr).strip())

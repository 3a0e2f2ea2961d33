"""Allow ``python -m audiencesync``."""

from __future__ import annotations

from audiencesync.cli import main

if __name__ == "__main__":
    main()

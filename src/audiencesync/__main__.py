"""Allow ``python -m audiencesync``: the same as the ``audiencesync`` command."""

from __future__ import annotations

from audiencesync.launch.client import main

if __name__ == "__main__":
    main()

"""Run the ``audiencesync`` CLI as if on another machine: a host name of its own.

``python -m tests.reliability.elsewhere HOST -- serve --port N`` runs the real
CLI in this process with :func:`socket.gethostname` answering ``HOST``. The run
lock names its holder ``host:pid:space`` and looks a holder's pid up only on the
holder's own host (:func:`audiencesync.sync.lock.holder_is_dead`); two processes
of one test machine given two host names therefore see each other as processes
of two machines do: when one dies holding an export, the other must wait for its
lease to expire before it takes the run over.
"""

from __future__ import annotations

import socket
import sys


def main() -> None:
    """Answer ``HOST`` for the host name, then run the CLI on the rest."""
    host, rest = sys.argv[1], sys.argv[2:]

    def gethostname() -> str:
        return host

    socket.gethostname = gethostname
    from audiencesync.cli import main as cli  # noqa: PLC0415 - after the patch

    sys.argv = ["audiencesync", *(rest[1:] if rest[:1] == ["--"] else rest)]
    cli()


if __name__ == "__main__":
    main()

"""Leave the process as soon as a command is done, without the interpreter's teardown.

Once a command has returned, Python would still spend 0.1-0.2 s before the shell
gets its prompt back: clearing the dictionaries of some 900 modules, a last
garbage collection, and freeing DuckDB's and Arrow's memory one object at a time.
None of it matters by then: the command's databases and files were committed and
closed by their own context managers.

So, when only the main thread is left, :func:`leave` does what matters of a
normal exit and skips the rest:

1. the ``atexit`` callbacks, in their usual order (logging's flush, the weakref
   finalizers that remove temporary folders, a coverage tool saving its data);
2. flushes stdout and stderr;
3. ``os._exit(code)``.

With another thread alive (one that ``sys.exit`` would wait for), it leaves the
normal way.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading


def leave(code: int) -> None:
    """Exit with ``code`` now, or raise ``SystemExit`` while other threads run."""
    if threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()  # the normal exit's first step, kept
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream: nothing left to keep.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)

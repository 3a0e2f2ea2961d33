"""The data folder is private: folders 0700, files 0600, whoever's umask runs us.

Everything audiencesync keeps in the data folder holds profile data or secrets:
the database (and SQLite's ``-wal`` / ``-shm`` files), the secret key, profile
tables, sync states, run plans, invalid and rejected rows, the log. Two things
keep it private:

- :func:`restrict_new_files` sets the process umask to 077, so every file and
  folder created from then on (by Python, DuckDB or SQLite alike) is 0600 / 0700;
  workspaces, ``init`` and the CLI call it first;
- :func:`tighten` narrows what already exists: ``init`` walks the whole folder
  (idempotent), opening a workspace narrows the folder, its direct entries and
  the database files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_UMASK = 0o077
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def restrict_new_files() -> None:
    """From now on, files this process creates are 0600 and folders 0700."""
    os.umask(_UMASK)


def tighten(
    home: Path,
    *,
    recursive: bool,
    extra: tuple[Path, ...] = (),
    leave: Path | None = None,
) -> None:
    """Narrow ``home`` (and its entries, all the way down if ``recursive``).

    ``extra`` are files outside the folder that belong to it (a SQLite database
    elsewhere): each with its SQLite companions. ``leave`` is left as it is: the
    secret key file, which is refused, not silently fixed, when others could
    read it (they may have). Missing paths are skipped; a path we may not change
    (owned by someone else) is left as it is.
    """
    if home.is_dir():
        _narrow(home)
        entries = home.rglob("*") if recursive else home.iterdir()
        for entry in entries:
            if leave is None or entry.resolve() != leave.resolve():
                _narrow(entry)
    for file in extra:
        for path in (file, *(file.with_name(file.name + s) for s in SQLITE_COMPANIONS)):
            _narrow(path)


def _narrow(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return  # never follow a link out of the folder
    wanted = FOLDER_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    if stat.S_IMODE(info.st_mode) & ~wanted:
        try:
            path.chmod(stat.S_IMODE(info.st_mode) & wanted)
        except PermissionError:
            return

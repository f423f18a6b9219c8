"""Files only the service's own user may read: the data directory, keys and credentials.

Each is created with its final mode (``os.open`` with 0600, ``mkdir`` with 0700) rather
than written and then narrowed with ``chmod``: in between, any local user could read it
(docs/security.md, "File modes").
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700, and narrow it if it already exists wider."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


@contextlib.contextmanager
def open_private(path: Path, *, exclusive: bool = False) -> Iterator[IO[str]]:
    """A text file opened for writing that is 0600 from the moment it exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an older file of ours may have been created wider
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        yield fh


def write_private(path: Path, text: str) -> None:
    with open_private(path) as fh:
        fh.write(text)

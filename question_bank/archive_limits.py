"""What a zip-based upload (XLSX, QTI package) may inflate to, checked before reading it.

A 65 KB XLSX can declare a 64 MB sheet, and the 20 MB upload limit allows gigabytes of
zip bomb. Every reader that opens a zip calls ``check_archive`` first: the sizes the
archive declares are added up and refused past the limit. Python's ``zipfile`` (which
openpyxl uses too) never inflates a member past its declared size (a member that lies
fails its CRC check), so the declared total also bounds the actual work (docs/security.md).
"""

from __future__ import annotations

import io
import zipfile

# The same default as the server's TKD_MAX_DECOMPRESSED_BYTES setting, which passes its value.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 10_000


class ArchiveTooLarge(ValueError):
    def __init__(self, declared: int, limit: int, members: int) -> None:
        super().__init__(
            f"{members} members inflating to {declared} bytes; at most {limit} bytes allowed"
        )
        self.declared, self.limit, self.members = declared, limit, members


def check_archive(
    data: bytes, limit: int = MAX_DECOMPRESSED_BYTES, max_members: int = MAX_MEMBERS
) -> None:
    """Refuse (``ArchiveTooLarge``) a zip that would inflate past ``limit``; a file that is
    no zip at all passes, for its reader to report in its own words."""
    if not data.startswith(b"PK"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    declared = sum(max(0, i.file_size) for i in infos)
    if len(infos) > max_members or declared > limit:
        raise ArchiveTooLarge(declared, limit, len(infos))

"""Writing files safely: the one atomic write every module uses.

A file Hetu writes is either complete or absent: the bytes go to a unique
temporary file beside the target, are flushed to disk, and are then renamed
over it; the temporary file is removed on any failure.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a unique temporary file beside ``path``, then move it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "xb") as fh:  # created with the umask's permissions, like any file
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

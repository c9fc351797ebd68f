"""Writing reports: atomically, so a reader never sees a truncated file.

The text goes to a temporary file in the destination folder, is flushed to disk, then renamed
over the destination with ``os.replace`` (atomic on POSIX and Windows). Destinations are checked
before the audit connects, so a bad ``--output`` costs nothing and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pgaudit.errors import PgauditError

EXTENSIONS = {"md": ".md", "html": ".html", "json": ".json", "sarif": ".sarif", "prom": ".prom"}


def ensure_writable(path: Path) -> None:
    """Raise PgauditError unless a file can be created at ``path`` (its folder must exist)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise PgauditError(f"output {path} is a folder, not a file")
    if not folder.is_dir():
        raise PgauditError(f"output folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=".pgaudit-", suffix=".probe", dir=folder)
    except OSError as exc:
        raise PgauditError(f"output {path} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise PgauditError(f"output {path} exists and is not writable")


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text`` (str, written as UTF-8, or bytes) in one step; on any
    failure the old file is untouched."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PgauditError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        data = text.encode() if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PgauditError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def destinations(output: str | Path | None, formats: list[str]) -> dict[str, Path | None]:
    """Where each format goes: None is stdout.

    One format: ``--output`` is the file (or, when it is an existing folder, ``report.<ext>``
    inside it). Several formats: ``--output`` is a folder (existing, or ending in ``/``) holding
    ``report.<ext>``, else a stem: ``out/audit`` gives ``out/audit.md``, ``out/audit.html``.
    """
    if output is None:
        if len(formats) > 1:
            raise PgauditError("several formats need --output (a folder or a file stem)")
        return {formats[0]: None}
    raw = str(output)  # given as str, a trailing separator says "folder" (Path drops it)
    output = Path(raw)
    if output.is_dir() or raw.endswith(("/", os.sep)):
        if not output.is_dir():
            raise PgauditError(f"output folder {output} does not exist")
        return {f: output / f"report{EXTENSIONS[f]}" for f in formats}
    if len(formats) == 1:
        return {formats[0]: output}
    stem = output.with_suffix("") if output.suffix.lower() in EXTENSIONS.values() else output
    return {f: stem.parent / f"{stem.name}{EXTENSIONS[f]}" for f in formats}

"""Writing reports: atomically, so a reader never sees a truncated file.

The text goes to a temporary file in the destination folder, is flushed to disk, then renamed
over the destination with ``os.replace`` (atomic on POSIX and Windows). Destinations are checked
before the audit connects, so a bad ``--output`` costs nothing and writes nothing; a folder that
``--output`` names is created (parents too) only once the reports are rendered.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pgaudit.errors import PgauditError

EXTENSIONS = {"md": ".md", "html": ".html", "json": ".json", "sarif": ".sarif", "prom": ".prom"}
STDOUT = "-"  # --output -: the report to stdout, even on a terminal


def ensure_writable(path: Path, *, create_folder: bool = False) -> None:
    """Raise PgauditError unless a file can be created at ``path``. Its folder must exist, or
    with ``create_folder`` be creatable: its nearest existing ancestor a writable folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise PgauditError(f"output {path} is a folder, not a file")
    if create_folder and not folder.is_dir():
        folder = existing_ancestor(folder)
    elif not folder.is_dir():
        raise PgauditError(f"output folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=".pgaudit-", suffix=".probe", dir=folder)
    except OSError as exc:
        raise PgauditError(f"output {path} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise PgauditError(f"output {path} exists and is not writable")


def existing_ancestor(folder: Path) -> Path:
    """The nearest folder above ``folder`` that exists (PgauditError when a file is in the
    way): where ``folder`` and its parents will be created."""
    here = folder.absolute()
    while not here.exists():
        here = here.parent
    if not here.is_dir():
        raise PgauditError(f"output folder {folder} cannot be created: {here} is a file")
    return here


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


@dataclass
class Destinations:
    """Where each format goes (None: stdout), the folder to create first, and whether
    ``--output`` was read as a file stem (a bare name with several formats)."""

    paths: dict[str, Path | None]
    folder: Path | None = None  # a folder --output names: created (parents too) before writing
    stem: bool = False
    written: list[Path] = field(default_factory=list)

    def check(self) -> None:
        """Before the audit: every file can be written (PgauditError naming the first that
        cannot); nothing is created."""
        for path in self.paths.values():
            if path is not None:
                ensure_writable(path, create_folder=self.folder is not None)

    def write(self, data: dict[str, bytes]) -> list[Path]:
        """Write the rendered reports (``format -> bytes``), creating the folder first; stdout
        ones in the order given. Returns the files written."""
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PgauditError(
                    f"cannot create output folder {self.folder}: {exc.strerror or exc}"
                ) from None
        for fmt, blob in data.items():
            path = self.paths[fmt]
            if path is None:
                sys.stdout.flush()
                sys.stdout.buffer.write(blob)
                sys.stdout.buffer.flush()
            else:
                write_atomic(path, blob)
                self.written.append(path)
        return self.written


def plan(output: str | Path | None, formats: list[str]) -> Destinations:
    """Where each format goes.

    No ``--output`` (or ``-``): stdout, one format only. One format: ``--output`` is the file.
    A folder (an existing one, or any name ending in ``/``) holds ``report.<ext>`` for each
    format, and is created with its parents when missing. Several formats and a bare name: a
    stem, ``out/audit`` gives ``out/audit.md``, ``out/audit.html`` (``stem`` is set so the
    command can say so).
    """
    if output is None or str(output) == STDOUT:
        if len(formats) > 1:
            raise PgauditError(
                "several formats need --output (a folder ending in /, or a file stem)"
            )
        return Destinations({formats[0]: None})
    raw = str(output)  # given as str, a trailing separator says "folder" (Path drops it)
    output = Path(raw)
    if output.is_dir() or raw.endswith(("/", os.sep)):
        return Destinations(
            {f: output / f"report{EXTENSIONS[f]}" for f in formats},
            folder=None if output.is_dir() else output,
        )
    if len(formats) == 1:
        return Destinations({formats[0]: output})
    stem = output.with_suffix("") if output.suffix.lower() in EXTENSIONS.values() else output
    return Destinations(
        {f: stem.parent / f"{stem.name}{EXTENSIONS[f]}" for f in formats}, stem=True
    )


def destinations(output: str | Path | None, formats: list[str]) -> dict[str, Path | None]:
    """``plan(output, formats).paths``: where each format goes, None for stdout."""
    return plan(output, formats).paths

"""Sign-off: the SHA-256 a reviewer's signature covers, and checking a report against it.

The digest is of the run's JSON document as it was recorded, keys sorted, without the two
blocks added when it is read back (``history``, which grows with later runs, and ``signoff``
itself): the JSON written by ``pgaudit audit --format json`` at the time and the one
``pgaudit history show RUN --format json`` writes later give the same digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pgaudit.errors import PgauditError

if TYPE_CHECKING:
    from pgaudit.store import Store

# read back with the document, not part of what was signed
UNSIGNED_KEYS = frozenset({"history", "signoff"})


def digest(doc: dict[str, Any]) -> str:
    signed = {k: v for k, v in doc.items() if k not in UNSIGNED_KEYS}
    # plain JSON values first (a report read from disk is already), then one canonical form
    plain = orjson.loads(orjson.dumps(signed, default=str))
    return hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()


def read_report(path: Path) -> dict[str, Any]:
    """A JSON report from disk; anything else is a PgauditError (exit 2)."""
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise PgauditError(f"cannot read {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError:
        raise PgauditError(f"{path} is not JSON (verify reads a report written with "
                           "--format json)") from None
    if not isinstance(doc, dict) or "findings" not in doc or "generated_at" not in doc:
        raise PgauditError(f"{path} is not a pgaudit JSON report")
    return doc


def verify(doc: dict[str, Any], store: Store) -> tuple[bool, str]:
    """Whether the report matches a recorded sign-off, and the line that says so."""
    sha = digest(doc)
    found = store.signoff_by_digest(sha)
    if found is not None:
        run_id, s = found
        role = f" ({s['role']})" if s.get("role") else ""
        return True, f"matches the sign-off of run {run_id} by {s['by']}{role} at {s['at']}"
    diff = doc.get("diff")
    named = diff.get("run_id") if isinstance(diff, dict) else None
    signed = store.signoff(named) if isinstance(named, int) else None
    if signed is not None:
        return False, (f"does not match: run {named} was signed by {signed['by']} with SHA-256 "
                       f"{signed['sha256']}, this report's is {sha}")
    return False, f"no sign-off recorded for this report (SHA-256 {sha})"

"""Prometheus text-format metrics for node_exporter's textfile collector.

Alerts fire on ``pgaudit_new_findings{severity="critical"} > 0`` or on a stale
``pgaudit_last_success_timestamp_seconds``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any


def _label(value: object) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(runs: list[tuple[str, dict[str, Any] | None, float]]) -> str:
    """Metrics for (target name, run document or None when it failed, duration seconds)."""
    lines = [
        "# HELP pgaudit_findings Findings in the last audit, by target, check and severity.",
        "# TYPE pgaudit_findings gauge",
    ]
    body_new: list[str] = []
    body_dur: list[str] = []
    body_ok: list[str] = []
    body_up: list[str] = []
    for name, doc, seconds in runs:
        t = _label(name)
        body_up.append(f'pgaudit_up{{target="{t}"}} {0 if doc is None else 1}')
        body_dur.append(f'pgaudit_run_duration_seconds{{target="{t}"}} {seconds:.3f}')
        if doc is None:
            continue
        counts = Counter(
            (f["check"], f["severity"])
            for f in doc["findings"]
            if f["severity"] != "ok" and not f.get("waived")
        )
        for (check, severity), n in sorted(counts.items()):
            lines.append(
                f'pgaudit_findings{{target="{t}",check="{_label(check)}",'
                f'severity="{severity}"}} {n}'
            )
        stamp = dt.datetime.fromisoformat(doc["generated_at"]).timestamp()
        body_ok.append(f'pgaudit_last_success_timestamp_seconds{{target="{t}"}} {stamp:.0f}')
        diff = doc.get("diff")
        if diff:
            new = Counter(f["severity"] for f in diff["new"])
            for severity in ("critical", "warning", "info"):
                body_new.append(
                    f'pgaudit_new_findings{{target="{t}",severity="{severity}"}} {new[severity]}'
                )
    lines += ["# HELP pgaudit_new_findings Findings new since the previous stored run.",
              "# TYPE pgaudit_new_findings gauge", *body_new]
    lines += ["# HELP pgaudit_run_duration_seconds Wall time of the audit.",
              "# TYPE pgaudit_run_duration_seconds gauge", *body_dur]
    lines += ["# HELP pgaudit_last_success_timestamp_seconds When the audit last completed.",
              "# TYPE pgaudit_last_success_timestamp_seconds gauge", *body_ok]
    lines += ["# HELP pgaudit_up Whether the last audit of the target could run.",
              "# TYPE pgaudit_up gauge", *body_up]
    return "\n".join(lines) + "\n"

"""Prometheus text-format metrics for node_exporter's textfile collector.

Alerts fire on ``pgaudit_new_findings{severity="critical"} > 0`` or on a stale
``pgaudit_last_success_timestamp_seconds``.
"""

from __future__ import annotations

import datetime as dt

from pgaudit.model import Counted


def _label(value: object) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(runs: list[tuple[str, Counted | None, float]]) -> str:
    """Metrics for (target name, run or None when it failed, duration seconds); the counts
    are the run's summary."""
    lines = [
        "# HELP pgaudit_findings Findings in the last audit, by target, check and severity.",
        "# TYPE pgaudit_findings gauge",
    ]
    body_new: list[str] = []
    body_dur: list[str] = []
    body_ok: list[str] = []
    body_up: list[str] = []
    body_summary: list[str] = []
    for name, run, seconds in runs:
        t = _label(name)
        body_up.append(f'pgaudit_up{{target="{t}"}} {0 if run is None else 1}')
        body_dur.append(f'pgaudit_run_duration_seconds{{target="{t}"}} {seconds:.3f}')
        if run is None:
            continue
        summary = run.summary
        for severity in ("critical", "warning", "info", "ok", "waived"):
            n = getattr(summary, severity)
            body_summary.append(f'pgaudit_summary{{target="{t}",severity="{severity}"}} {n}')
        for (check, severity), n in sorted(summary.by_check.items()):
            lines.append(
                f'pgaudit_findings{{target="{t}",check="{_label(check)}",'
                f'severity="{severity}"}} {n}'
            )
        stamp = dt.datetime.fromisoformat(run.generated_at).timestamp()
        body_ok.append(f'pgaudit_last_success_timestamp_seconds{{target="{t}"}} {stamp:.0f}')
        if run.diff is not None:
            for severity in ("critical", "warning", "info"):
                n = summary.new_by_severity.get(severity, 0)
                body_new.append(f'pgaudit_new_findings{{target="{t}",severity="{severity}"}} {n}')
    lines += ["# HELP pgaudit_summary Findings in the last audit by severity, as every report"
              " counts them (ok: well-designed; waived: accepted under a waiver).",
              "# TYPE pgaudit_summary gauge", *body_summary]
    lines += ["# HELP pgaudit_new_findings Findings new since the previous stored run.",
              "# TYPE pgaudit_new_findings gauge", *body_new]
    lines += ["# HELP pgaudit_run_duration_seconds Wall time of the audit.",
              "# TYPE pgaudit_run_duration_seconds gauge", *body_dur]
    lines += ["# HELP pgaudit_last_success_timestamp_seconds When the audit last completed.",
              "# TYPE pgaudit_last_success_timestamp_seconds gauge", *body_ok]
    lines += ["# HELP pgaudit_up Whether the last audit of the target could run.",
              "# TYPE pgaudit_up gauge", *body_up]
    return "\n".join(lines) + "\n"

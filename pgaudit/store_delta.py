"""A JSON value as the edits that turn another into it: how the history store keeps a run's
document frame as a small change to the previous run's (a nightly run that changed nothing
differs in its timings only).

``delta(a, b)`` gives an edit ``e`` with ``patch(a, e) == b``; ``None`` means no change.
An edit is one of:

- ``{"=": value}``: replace the whole value;
- ``{"k": {key: edit}, "x": [key, ...]}``: a dict's changed or added keys, and removed ones;
- ``{"i": [[index, edit], ...]}``: a list of the same length, edited item by item;
- ``{"s": [[start, stop, [items]], ...]}``: a list of scalars spliced (difflib's opcodes,
  applied from the end so the indices stay those of the old list).
"""

from __future__ import annotations

import difflib
from typing import Any

Edit = dict[str, Any]


def delta(a: Any, b: Any) -> Edit | None:
    if type(a) is not type(b):
        return {"=": b}
    if isinstance(a, dict):
        changed: dict[str, Edit] = {}
        for key, value in b.items():
            if key not in a:
                changed[key] = {"=": value}
                continue
            sub = delta(a[key], value)
            if sub is not None:
                changed[key] = sub
        removed = [k for k in a if k not in b]
        if not changed and not removed:
            return None
        edit: Edit = {"k": changed}
        if removed:
            edit["x"] = removed
        return edit
    if isinstance(a, list):
        if a == b:
            return None
        if len(a) == len(b):
            items = [[i, e] for i, (x, y) in enumerate(zip(a, b, strict=True))
                     if (e := delta(x, y)) is not None]
            return {"i": items}
        if all(not isinstance(v, dict | list) for v in (*a, *b)):
            ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
            return {"s": [[i1, i2, b[j1:j2]] for tag, i1, i2, j1, j2 in ops if tag != "equal"]}
        return {"=": b}
    return None if a == b else {"=": b}


def patch(a: Any, edit: Edit | None) -> Any:
    if edit is None:
        return a
    if "=" in edit:
        return edit["="]
    if "k" in edit:
        out = {k: v for k, v in a.items() if k not in set(edit.get("x") or ())}
        for key, sub in edit["k"].items():
            out[key] = patch(a.get(key), sub)
        return out
    if "i" in edit:
        out_list = list(a)
        for index, sub in edit["i"]:
            out_list[index] = patch(out_list[index], sub)
        return out_list
    out_list = list(a)
    for start, stop, items in reversed(edit["s"]):
        out_list[start:stop] = items
    return out_list

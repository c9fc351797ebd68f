"""A check's page documents each parameter with the comment the header writes for it."""

from __future__ import annotations

from pathlib import Path

from pgaudit.checkdocs import param_comments
from pgaudit.checkfile import parse_check

CHECK = """/* pgaudit
id = "zz_params"
title = "Parameters documented"
section = "3.1"
format = 2
severity = "info"
detects = "d"
why = "w"
example = "e"
fix = "f"
ignore_when = "i"
ok = "ok"
impact = "x"

[params]
# above the key,
# over two lines
above = 1
beside = 2  # beside the key
both = 3  # and beside
pattern = '^a#b$'
hashed = "x#y"  # after a string holding a hash

undocumented = 4
*/
select 1
"""


def test_a_parameter_s_comment_above_or_beside_its_key(tmp_path: Path) -> None:
    path = tmp_path / "zz_params.sql"
    path.write_text(CHECK.replace("both = 3", "# said above\nboth = 3"), encoding="utf-8")
    assert param_comments(parse_check(path)) == {
        "above": "above the key, over two lines",
        "beside": "beside the key",
        "both": "said above and beside",
        "hashed": "after a string holding a hash",
    }

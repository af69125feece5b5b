"""Print a pip constraints file pinning every `>=` lower bound in pyproject.toml.

Used by scripts/lowest-deps.sh: installing with these constraints gives the oldest versions the
project claims to support, so a lower bound that is wrong fails CI instead of a user's install.

    python scripts/lowest_constraints.py [EXTRA ...] > constraints.txt

Core dependencies are always pinned; the named extras' packages too. A requirement without a
`>=` bound is left out (nothing to pin).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def lower_bounds(extras: list[str]) -> dict[str, str]:
    """``{package: lowest version}`` for the core dependencies and the given extras."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project.get("optional-dependencies", {})[extra]
    out: dict[str, str] = {}
    for req in reqs:
        m = _REQ.match(req.split(";")[0])
        if not m:
            continue
        name, _, spec = m.groups()
        low = re.search(r">=\s*([0-9][^,\s]*)", spec)
        if low:
            out[name.lower()] = low.group(1)
    return out


def main(argv: list[str]) -> int:
    for name, version in sorted(lower_bounds(argv).items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

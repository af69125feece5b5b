"""PyPI shows README.md without the repository around it: every link must be absolute."""

from __future__ import annotations

import re

from tests.conftest import REPO

LINK = re.compile(r"\]\(([^)\s]+)\)|\b(?:src|href)=\"([^\"]+)\"")


def relative_links(text: str) -> list[tuple[int, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in LINK.finditer(line):
            url = m.group(1) or m.group(2)
            if not re.match(r"^(https?://|mailto:|#)", url):
                out.append((n, url))
    return out


def test_the_link_check_sees_relative_links():
    assert relative_links("see [a](docs/a.md) and [b](https://x.org/b) <img src=\"pic.png\">") == [
        (1, "docs/a.md"), (1, "pic.png")]


def test_readme_links_are_absolute():
    assert relative_links((REPO / "README.md").read_text(encoding="utf-8")) == []

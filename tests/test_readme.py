"""The README's code is run, so it cannot drift from the API it shows."""

from __future__ import annotations

import re

from tests.helpers import ROOT


def test_the_testing_kit_snippet_runs():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("Test your program the way slipway tests its own") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)  # noqa: S102 - our own README
    scope["test_my_platform"]()

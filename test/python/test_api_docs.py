"""docs/api.md documents every public name of un_mlir."""
import re

from conftest import ROOT

import un_mlir
from un_mlir import api


def test_public_names_are_documented():
    text = (ROOT / "docs/api.md").read_text()
    headings = re.findall(r"^## (.*)$", text, re.M)
    documented = {name for h in headings for name in re.findall(r"`([^`]+)`", h)}
    for name in un_mlir.__all__:
        assert name in documented or f"un_mlir.{name}" in documented, name
    for name in api.__all__:
        assert name in documented or f"un_mlir.{name}" in documented, name

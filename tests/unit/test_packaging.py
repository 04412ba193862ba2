"""pyproject.toml in the form today's build tools take without warnings."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_not_the_deprecated_table() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    # The expression form needs setuptools 77 or later to build.
    assert "setuptools>=77" in project["build-system"]["requires"]

"""A writable copy of the packaged content, for the loader's and the content check's tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from messages.loader import PACKAGED_CONTENT


@pytest.fixture
def shipped_tree(tmp_path: Path) -> Path:
    """journey.toml and every shipped language's folder, to edit and load."""
    root = tmp_path / "content"
    shutil.copytree(PACKAGED_CONTENT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


@pytest.fixture
def tree(shipped_tree: Path) -> Path:
    """journey.toml and en/ alone: a test adds the languages it needs."""
    for folder in shipped_tree.iterdir():
        if folder.is_dir() and folder.name != "en":
            shutil.rmtree(folder)
    return shipped_tree


def replace_line(path: Path, key: str, new_line: str) -> None:
    """Replace the single-line `key = ...` assignment in a TOML file."""
    text = path.read_text(encoding="utf-8")
    changed, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", new_line, text)
    assert count == 1, f"expected exactly one {key} line in {path}"
    path.write_text(changed, encoding="utf-8")

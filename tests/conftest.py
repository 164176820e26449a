"""Test-wide setup: Qt offscreen, user data in a temp folder, small thread counts."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = tempfile.mkdtemp(prefix="spadework-test-home-")
os.environ["SPADEWORK_HOME"] = _HOME

import pytest  # noqa: E402


@pytest.fixture
def spadework_home(tmp_path, monkeypatch):
    """A fresh, empty SPADEWORK_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("SPADEWORK_HOME", str(home))
    return home

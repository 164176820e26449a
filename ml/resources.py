"""Location of the bundled resources (label sets, demo scenes, bundled models)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource; it is not checked for existence."""
    return RESOURCES.joinpath(*parts)

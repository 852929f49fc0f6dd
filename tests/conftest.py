"""Test-wide settings: no test may reach the Hugging Face hub."""

from __future__ import annotations

import os

import pytest

# huggingface_hub reads this once, at import: set it before any test module imports it.
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep HF_HUB_OFFLINE=1 for every test, even if one changes the environment."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

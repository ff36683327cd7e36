"""Shared pytest fixtures (keep small; others may append)."""
from __future__ import annotations

import pytest

from store.db import Store
from tests.loopback import LoopbackServer


@pytest.fixture
def loopback():
    """A started loopback HTTP server (virtual hosts by Host header); see tests/loopback.py."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def tmp_store(tmp_path):
    """A migrated DuckDB store in tmp_path."""
    return Store(tmp_path / "lawwatch.duckdb")

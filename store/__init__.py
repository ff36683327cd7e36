"""Persistence: the DuckDB store, its migrations and the write helpers every stage uses."""
from store.db import Store, StoreError, StoreLocked, stable_id, utcnow

__all__ = ["Store", "StoreError", "StoreLocked", "stable_id", "utcnow"]

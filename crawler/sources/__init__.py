"""One module per source. Each module defines an `Adapter` class; see crawler/base.py."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def available_adapters() -> set[str]:
    here = Path(__file__).parent
    return {m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")}


def load_adapter(name: str):
    if name not in available_adapters():
        raise KeyError(f"no adapter module crawler/sources/{name}.py")
    return importlib.import_module(f"crawler.sources.{name}").Adapter

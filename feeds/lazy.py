"""A module imported at the first read of one of its attributes, for a module that only some
runs need: named at the top of the module using it as if imported (``asyncio.Queue``,
``except httpx.HTTPError``), loaded when such a line first runs."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any, Callable


class LazyModule:
    """Stands for module ``name``; ``load`` imports it (default: a plain import)."""

    def __init__(self, name: str, load: Callable[[], ModuleType] | None = None) -> None:
        self.__dict__["_name"] = name
        self.__dict__["_load"] = load or (lambda: importlib.import_module(name))

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._load(), attr)
        self.__dict__[attr] = value  # the next read does not come back here
        return value

    def __repr__(self) -> str:
        state = "loaded" if self._name in sys.modules else "not loaded yet"
        return f"<lazy module {self._name!r}, {state}>"

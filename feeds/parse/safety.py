"""Checks of the platform's own defences, reported at startup."""
from __future__ import annotations

import pyexpat

# Expat below 2.6.0 lacks protections against some entity-expansion and "large token"
# attacks (Python's XML security notes). diplowatch strips entity declarations before any
# parse and parses in memory-limited worker processes anyway; the warning tells the user
# that the interpreter's own layer of defence is missing.
MIN_EXPAT = (2, 6, 0)


def expat_warning(version: tuple[int, int, int] | None = None) -> str | None:
    version = version or pyexpat.version_info
    if tuple(version) < MIN_EXPAT:
        have = ".".join(map(str, version))
        want = ".".join(map(str, MIN_EXPAT))
        return (f"this Python uses expat {have}, older than {want}, which lacks some XML "
                f"bomb protections; diplowatch's own defences stay on (entity stripping, "
                f"memory-limited parse workers), but a newer Python is recommended")
    return None

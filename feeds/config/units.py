"""Human units in the config and on the command line: durations ("15m", "7d") and sizes ("5MiB")."""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.I)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2,
               "gb": 1000**3, "gib": 1024**3, None: 1}


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_duration(value: object) -> float:
    """"90s", "15m", "2h", "1d", "1w", or a number of seconds → seconds. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as \"15m\"")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        unit = m.group(2).lower() if m.group(2) else None
        seconds = float(m.group(1)) * _DURATION_UNITS[unit]
    else:
        seconds = None
    if seconds is not None:
        # nan compares false with everything, so it would slip past every later bound check.
        if not math.isfinite(seconds):
            raise ValueError(f"expected a finite duration, got {_brief(value)}")
        if seconds < 0:
            raise ValueError("a duration cannot be negative")
        return seconds
    raise ValueError(f"expected a duration such as \"90s\", \"15m\", \"2h\", \"1d\", got {_brief(value)}")


def parse_size(value: object) -> int:
    """"5MiB", "512KiB", "2MB" or a number of bytes → bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as \"5MiB\"")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).lower() if m.group(2) else None
            size = float(m.group(1)) * _SIZE_UNITS[unit]
            if not math.isfinite(size):  # "9999…9GiB" overflows to inf: int() would raise
                raise ValueError(f"expected a finite size, got {_brief(value)}")
            return int(size)
    raise ValueError(f"expected a size such as \"5MiB\" or \"512KiB\", got {_brief(value)}")


def parse_since(value: str, now: float) -> float:
    """`--since`: a duration back from now ("24h", "7d") or a date/time ("2026-01-01",
    "2026-01-01T08:00", taken as UTC unless it carries an offset) → epoch seconds."""
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected a duration back from now (\"24h\", \"7d\") or a date (\"2026-01-01\"), got {value!r}"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def format_duration(seconds: float) -> str:
    """Seconds → a short human duration ("45s", "15m", "2h 5m", "3d")."""
    s = int(round(abs(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d {h}h" if h else f"{d}d"

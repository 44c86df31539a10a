"""A debounced call: each ``poke`` restarts the wait, so a burst of pokes ends in one call.

Used for the filter line (one store query per pause in typing) and for saving marks (one
flush a moment after the last mark)."""
from __future__ import annotations

from typing import Any, Callable, Protocol


class Timer(Protocol):
    def stop(self) -> None: ...


SetTimer = Callable[[float, Callable[[], Any]], Timer]


class Debounce:
    def __init__(self, set_timer: SetTimer, delay: float, callback: Callable[[], Any]) -> None:
        """``set_timer`` is a DOM node's (``widget.set_timer``): the call runs on its loop."""
        self._set_timer = set_timer
        self.delay = delay
        self._callback = callback
        self._timer: Timer | None = None

    @property
    def pending(self) -> bool:
        return self._timer is not None

    def poke(self) -> None:
        """Call back ``delay`` seconds from now, unless poked again before."""
        self.cancel()
        self._timer = self._set_timer(self.delay, self._fire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fire(self) -> Any:
        self._timer = None
        return self._callback()

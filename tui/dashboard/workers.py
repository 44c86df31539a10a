"""What the thread workers share: stopping a long store call when the app closes, its
progress in words, and a failed worker in words (workers never exit the app)."""
from __future__ import annotations

from typing import Callable

from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from feeds.text import safe_text
from tui.dashboard.messages import Progress


class Abort(Exception):
    """Raised from a progress callback to stop a long store call when the app is closing."""


def progress_callback(post: Callable[[Message], object], what: str,
                      closing: Callable[[], bool]) -> Callable[[int, int], None]:
    """(in a worker thread) A store progress callback posting ``what: done/total weeks``;
    it raises Abort once the app closes or the worker is cancelled."""
    worker = get_current_worker()

    def progress(done: int, total: int) -> None:
        if closing() or worker.is_cancelled:
            raise Abort()
        if total:
            post(Progress(f"{what}: {done}/{total} weeks"))

    return progress


def failure_text(worker: Worker) -> str | None:
    """A worker that failed, in words for a toast; None if it did not (or was stopped)."""
    if worker.state != WorkerState.ERROR or isinstance(worker.error, Abort):
        return None
    error = worker.error
    return safe_text(f"{worker.name or worker.group}: {error.__class__.__name__}: {error}", 300)

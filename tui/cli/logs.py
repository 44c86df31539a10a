"""Where diplowatch logs: a rotating file in the user's log folder (and stderr for the daemon)."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

from feeds.files import open_private
from feeds.parse.safety import expat_warning
from feeds.redact import RedactingFilter

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A new log file (the first, or after a rollover) is 0600 in 0700 folders: the log
    names the feeds watched and what was polled."""

    def _open(self):  # type: ignore[no-untyped-def]  # (the handler's own hook)
        fd = open_private(Path(self.baseFilename))
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def log_path() -> Path:
    return platformdirs.user_log_path("diplowatch") / "diplowatch.log"


def setup_logging(*, stderr: bool = False, level: int = logging.INFO, path: Path | None = None) -> Path | None:
    """Configure the ``diplowatch`` logger once; returns the log file (None if unwritable)."""
    logger = logging.getLogger("diplowatch")
    if getattr(logger, "_diplowatch_configured", False):
        return getattr(logger, "_diplowatch_path", None)
    logger.setLevel(level)
    logger.propagate = False
    path = path or log_path()
    try:
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=2 * 1024 * 1024, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(RedactingFilter())  # whoever logs a feed URL, no credentials
        logger.addHandler(handler)
    except OSError:
        path = None  # a read-only home must not stop the program
    if stderr:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(_FORMAT))
        console.addFilter(RedactingFilter())
        logger.addHandler(console)
    logger._diplowatch_configured = True  # type: ignore[attr-defined]
    logger._diplowatch_path = path  # type: ignore[attr-defined]
    warning = expat_warning()
    if warning:
        logger.warning(warning)
    return path

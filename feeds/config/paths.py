"""Where the store lives when no config has to be read to say so: apart from
:mod:`feeds.config.load` so that a command handing its work to the daemon (``poll --once``
with a daemon running) finds the store's socket without importing the config loader."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from feeds.config.load import Config

APP_NAME = "diplowatch"


def resolve_db_path(cli_path: str | Path | None,
                    config: Config | Callable[[], Config | None] | None,
                    env: dict[str, str] | None = None) -> Path:
    """``--db``, else ``$DIPLOWATCH_DB``, else ``[storage] path``, else the user data dir.
    ``config`` may be a callable returning the Config: called only when it is needed."""
    env = os.environ if env is None else env
    if cli_path:
        return Path(cli_path).expanduser()
    if env.get("DIPLOWATCH_DB"):
        return Path(env["DIPLOWATCH_DB"]).expanduser()
    if callable(config):
        config = config()
    if config is not None and config.storage.path is not None:
        return config.storage.path
    import platformdirs

    return platformdirs.user_data_path(APP_NAME) / "store"

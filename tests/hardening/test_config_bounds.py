"""Config bounds: nan, inf, 1e308 and absurd durations or sizes are refused at load, with the
file, the key and the bound, and the CLI exits 2 with one line (no traceback)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.config.load import ConfigError, load_config
from tui.cli.main import cli

HUGE = "9" * 400  # overflows a float to inf

# (TOML text, the key named, the bound named)
ABSURD = [
    ("[polling]\ninterval = nan\n", "polling.interval", "30d"),
    ("[polling]\ninterval = inf\n", "polling.interval", "30d"),
    ("[polling]\ninterval = 1e308\n", "polling.interval", "30d"),
    ("[polling]\nmin_interval = -inf\n", "polling.min_interval", "30d"),
    ('[polling]\nmax_interval = "400d"\n', "polling.max_interval", "30d"),
    ("[polling]\ntimeout = inf\n", "polling.timeout", "10m"),
    ('[polling]\ntimeout = "2d"\n', "polling.timeout", "10m"),
    ("[polling]\nconnect_timeout = nan\n", "polling.connect_timeout", "2m"),
    ("[polling]\nparse_timeout = 1e308\n", "polling.parse_timeout", "10m"),
    ('[polling]\nmax_body = "100GiB"\n', "polling.max_body", "1GiB"),
    (f'[polling]\nmax_body = "{HUGE}GiB"\n', "polling.max_body", "1GiB"),
    ("[polling]\nmax_body = 9223372036854775807\n", "polling.max_body", "1GiB"),
    ("[polling]\nmax_items = 9223372036854775807\n", "polling.max_items", "100000"),
    ("[storage]\nretention_days = 9223372036854775807\n", "storage.retention_days", "36500"),
    ("[clusters]\nwindow = nan\n", "clusters.window", "30d"),
    ('[clusters]\nhorizon = "5000d"\n', "clusters.horizon", "365d"),
    ("[watch]\nnotify_timeout = inf\n", "watch.notify_timeout", "10m"),
    (f'[polling]\ninterval = "{HUGE}s"\n', "polling.interval", "30d"),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\ninterval = nan\n',
     "feeds[0].interval", "30d"),
    ('[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\ninterval = 1e308\n',
     "feeds[0].interval", "30d"),
    ("[rules.talks]\nthreshold = 1e308\n", "rules.talks.threshold", "1000"),
    ('[rules.talks.terms]\n"peace talks" = 1e308\n', "rules.talks", "1000"),
]


@pytest.mark.parametrize("text,key,bound", ABSURD, ids=[k + ":" + t.split("=")[-1].strip()[:12]
                                                         for t, k, _ in ABSURD])
def test_absurd_values_are_refused_with_file_key_and_bound(tmp_path: Path, text: str,
                                                           key: str, bound: str) -> None:
    path = tmp_path / "absurd.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and key in message and bound in message, message
    assert len(message) < 300 and "\n" not in message


@pytest.mark.parametrize("text,key,bound", ABSURD[:12], ids=[k for _, k, _ in ABSURD[:12]])
def test_the_cli_exits_2_with_one_line(tmp_path: Path, text: str, key: str, bound: str) -> None:
    path = tmp_path / "absurd.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "feeds", "list"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("diplowatch: config: ") and key in lines[0] and bound in lines[0]


def test_values_at_the_bounds_still_load(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text('[polling]\ninterval = "30d"\nmax_interval = "30d"\ntimeout = "10m"\n'
                    'connect_timeout = "2m"\nmax_body = "1GiB"\nmax_items = 100000\n'
                    '[storage]\nretention_days = 36500\n', encoding="utf-8")
    polling = load_config(path).polling
    assert (polling.interval, polling.timeout, polling.max_body) == (30 * 86400.0, 600.0, 1024**3)

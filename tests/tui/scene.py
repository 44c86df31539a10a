"""A small, fixed store for snapshots and the README capture: a dozen items over the
bundled config's first feeds, some read or starred, one feed failing. Frozen at T0."""
from __future__ import annotations

from feeds.config import Config
from feeds.model import FeedState, Item, utc_iso
from tests.tui.helpers import T0, make_item

HEADLINES = [
    ("Russia and Ukraine hold a new round of peace talks in Istanbul",
     "Delegations met for negotiations on a ceasefire; mediators from Turkey hosted the meeting.", 0),
    ("EU imposes new sanctions on Russian banks and energy firms",
     "The asset freeze covers five lenders; an export ban on dual-use goods was added.", 1),
    ("Foreign ministry condemns the strike on the port",
     "The ministry said in a statement that the attack was unacceptable.", 2),
    ("Ceasefire talks stall as US imposes sanctions on negotiators",
     "Mediators said negotiations would resume; the new sanctions target envoys.", 3),
    ("Floods displace thousands in the north", "Rivers burst their banks after days of rain.", 4),
    ("[@click=app.quit]Click me[/] peace talks", "[/foo] [link=javascript:alert(1)]x[/link]", 5),
    ("Zelensky says he saw positive signals from the negotiations",
     "The president told reporters that talks continue online.", 0),
    ("Japan extends its embargo on Russian coal",
     "Tokyo said the sanctions would stay until a settlement.", 1),
    ("UN chief urges restraint in a statement on the Black Sea",
     "The secretary-general called on all sides to respect the grain deal.", 2),
    ("Qatar mediates prisoner exchange between the two sides", "Envoys in Doha brokered the swap.", 3),
    ("Central bank holds interest rates steady", "Markets were calm.", 4),
    ("Kremlin says Putin and Erdogan discussed the grain corridor by phone",
     "The leaders spoke by telephone on Tuesday.", 5),
]


def scene_items(config: Config) -> list[Item]:
    feeds = [(f.key, f.name) for f in config.feeds[:6]]
    return [make_item(title, summary, feed=feeds[f][0], source=feeds[f][1],
                      published=T0 - 3600 * (i * 5 + 1), link=f"https://news.example/{i}",
                      guid=f"scene-{i}")
            for i, (title, summary, f) in enumerate(HEADLINES)]


def scene_states(config: Config) -> list[FeedState]:
    states = []
    for n, source in enumerate(config.feeds):
        state = FeedState(key=source.key, url=source.url, status="ok",
                          last_attempt=utc_iso(T0 - 300), last_success=utc_iso(T0 - 300),
                          next_poll=utc_iso(T0 + 600 + 60 * n))
        if n == 2:
            state.status, state.error, state.http_status = "error", "HTTP 503 Service Unavailable", 503
            state.failing_since, state.failures = utc_iso(T0 - 7200), 3
            state.last_success = utc_iso(T0 - 86400)
        if n == 4:
            state.status, state.error = "error", "connection refused"
            state.failing_since, state.failures = utc_iso(T0 - 600), 1
            state.last_success = None
        states.append(state)
    return states


def mark_scene(store, items: list[Item]) -> None:
    store.mark(items[1].id, read=True)
    store.mark(items[2].id, starred=True)
    store.mark(items[6].id, read=True, starred=True)
    store.flush()

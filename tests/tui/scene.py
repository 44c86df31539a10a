"""A small, fixed store for snapshots and the README capture: a few dozen items over the
bundled config's first feeds and two weeks, two stories carried by several feeds, some items
read or starred, one feed failing. Frozen at T0."""
from __future__ import annotations

from feeds.config.load import Config
from feeds.model import FeedState, Item, utc_iso
from tests.tui.helpers import T0, cluster_items, make_item

HEADLINES = [  # (title, summary, feed index, hours before T0)
    ("Russia and Ukraine hold first direct peace talks in Istanbul since 2022",
     "Delegations met for negotiations on a ceasefire; mediators from Turkey hosted the meeting.", 0, 1),
    ("EU imposes new sanctions on Russian banks and energy firms",
     "The asset freeze covers five lenders; an export ban on dual-use goods was added.", 1, 6),
    ("Foreign ministry condemns the strike on the port",
     "The ministry said in a statement that the attack was unacceptable.", 2, 11),
    ("Ceasefire talks stall as US imposes sanctions on negotiators",
     "Mediators said negotiations would resume; the new sanctions target envoys.", 3, 16),
    ("Floods displace thousands in the north", "Rivers burst their banks after days of rain.", 4, 21),
    ("[@click=app.quit]Click me[/] peace talks", "[/foo] [link=javascript:alert(1)]x[/link]", 5, 26),
    ("Zelensky says he saw positive signals from the negotiations",
     "The president told reporters that talks continue online.", 0, 31),
    ("Japan extends its embargo on Russian coal",
     "Tokyo said the sanctions would stay until a settlement.", 1, 36),
    ("UN chief urges restraint in a statement on the Black Sea",
     "The secretary-general called on all sides to respect the grain deal.", 2, 41),
    ("Qatar mediates prisoner exchange between the two sides", "Envoys in Doha brokered the swap.", 3, 46),
    ("Central bank holds interest rates steady", "Markets were calm.", 4, 51),
    ("Kremlin says Putin and Erdogan discussed the grain corridor by phone",
     "The leaders spoke by telephone on Tuesday.", 5, 56),
    # Other feeds' versions of two of those stories (story clusters).
    ("Russian, Ukrainian delegations meet in Istanbul for first direct talks in three years",
     "The talks in Istanbul are the first face-to-face negotiations since 2022.", 1, 2),
    ("Istanbul hosts first direct Russia-Ukraine peace talks since 2022",
     "Turkey's foreign minister opened the meeting.", 3, 4),
    ("Russia and Ukraine exchange 390 prisoners of war", "The swap was mediated by Qatar.", 2, 45),
    ("Ukraine, Russia swap 390 prisoners each in largest exchange of the war", "", 4, 47),
    # Two weeks of older news (the sparklines and the trends screen).
    ("Envoys meet in Geneva to discuss a grain deal", "Negotiations on exports resumed.", 0, 3 * 24 + 5),
    ("EU adds shipping firms to its sanctions list", "An asset freeze on tankers.", 1, 3 * 24 + 9),
    ("Kyiv says talks on prisoner swaps continue", "Negotiations with mediators.", 4, 4 * 24 + 2),
    ("US Treasury sanctions Iranian oil network", "OFAC designated twelve firms.", 5, 5 * 24 + 7),
    ("NATO ministers condemn drone strikes", "The alliance said in a statement the attacks must stop.", 2, 6 * 24 + 3),
    ("Mediators propose a ceasefire plan in Doha", "Talks on a truce continue.", 3, 7 * 24 + 4),
    ("China urges restraint in a statement on the Taiwan Strait", "The ministry said.", 2, 8 * 24 + 6),
    ("UK freezes assets of Russian oligarchs", "New sanctions target six businessmen.", 1, 9 * 24 + 1),
    ("Turkey offers to host Russia-Ukraine negotiations", "Ankara proposed talks.", 0, 10 * 24 + 8),
    ("Wheat prices rise on drought fears", "Markets reacted.", 4, 11 * 24 + 3),
    ("EU leaders agree on new sanctions package", "The package targets the energy sector.", 1, 12 * 24 + 5),
    ("Kremlin rejects the proposal for peace talks in Vienna", "Moscow said negotiations were premature.", 5, 13 * 24 + 2),
]


def scene_items(config: Config) -> list[Item]:
    """The scene's items, classified, tagged and clustered as the poller would have."""
    feeds = [(f.key, f.name) for f in config.feeds[:6]]
    items = [make_item(title, summary, feed=feeds[f][0], source=feeds[f][1],
                       published=T0 - 3600 * hours + 60 * i, link=f"https://news.example/{i}",
                       guid=f"scene-{i}")
             for i, (title, summary, f, hours) in enumerate(HEADLINES)]
    return cluster_items(items)


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

"""An item's link, opened in the browser or copied: http and https links only (a feed's
``javascript:`` link is never opened)."""
from __future__ import annotations

import webbrowser

from textual.app import App

from feeds.model import Item
from feeds.text import safe_link, safe_text


def open_link(app: App, item: Item) -> None:
    link = safe_link(item.link)
    if not link:
        text = "This item has no web link that can be opened (only http and https links are opened)."
        app.notify(text, severity="warning", timeout=4, markup=False)
        return
    # In a browser tab the tab opens it; in a terminal, webbrowser must find a browser (none
    # over ssh with no DISPLAY and no BROWSER), and it fails without a word when it does not.
    if not app.is_web and not browser_available():
        app.notify("No web browser found here (no DISPLAY, and no BROWSER set): "
                   "press y to copy the link instead.", title="Cannot open the link",
                   severity="warning", timeout=8, markup=False)
        return
    app.open_url(link)
    app.notify(f"Opening {safe_text(link, 120)}", timeout=3, markup=False)


def browser_available() -> bool:
    """Whether ``webbrowser`` (which App.open_url uses in a terminal) knows a browser."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def copy_link(app: App, item: Item) -> None:
    link = safe_link(item.link)
    if not link:
        app.notify("This item has no web link to copy.", severity="warning", timeout=4,
                   markup=False)
        return
    app.copy_to_clipboard(link)
    app.notify("Link copied.", timeout=2, markup=False)

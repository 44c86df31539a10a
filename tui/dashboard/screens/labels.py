"""`l`: set an item's labels by hand. A box per label, ticked as the item is labelled now;
enter saves what is ticked (nothing ticked: the item goes to other), escape leaves the item as it is.
The correction wins over the rules from then on, and `diplowatch labels export` turns the
desk's corrections into an evaluation set for `rules eval`."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Static

from feeds.model import LABELS, Item
from feeds.text import safe_text
from tui.dashboard.services import DashboardServices
from tui.render import label_style

CORRECTED_MARK = "✎"


class LabelsScreen(ModalScreen[tuple[str, ...] | None]):
    BINDINGS = [
        # enter would toggle the focused box: saving is what enter means here.
        Binding("enter", "save", "Save", priority=True),
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("1", "toggle(0)", "Talks", show=False),
        Binding("2", "toggle(1)", "Sanctions", show=False),
        Binding("3", "toggle(2)", "Statements", show=False),
    ]

    def __init__(self, item: Item, corrected: bool = False) -> None:
        super().__init__()
        self.item = item
        self.corrected = corrected

    def compose(self) -> ComposeResult:
        with Vertical(id="labels-box"):
            yield Static(Content.styled("Labels of", "bold"))
            yield Static(Content(safe_text(self.item.title, 200) or "(no title)"),
                         id="labels-title")
            for n, label in enumerate(LABELS, 1):
                yield Checkbox(Content.styled(f"{n} {label}", label_style(label, "bold")),
                               label in self.item.labels, compact=True, id=f"label-{label}")
            hint = "enter saves · esc cancels · none ticked: other"
            if self.corrected:
                hint = f"{CORRECTED_MARK} set by hand before · {hint}"
            yield Static(Content.styled(hint, "$text-muted"), id="labels-hint")

    def on_mount(self) -> None:
        self.query_one(f"#label-{LABELS[0]}", Checkbox).focus()

    def chosen(self) -> tuple[str, ...]:
        return tuple(lbl for lbl in LABELS if self.query_one(f"#label-{lbl}", Checkbox).value)

    def action_toggle(self, index: int) -> None:
        self.query_one(f"#label-{LABELS[index]}", Checkbox).toggle()

    def action_save(self) -> None:
        self.dismiss(self.chosen())


def edit_labels(app: App, services: DashboardServices, item: Item) -> None:
    """Ask for the item's labels and save them (refused, with a toast, where nothing can be
    written). Saving the rules' own labels records them too: a confirmed label teaches as
    much as a corrected one."""
    labels = services.labels
    if not labels.can_edit():
        return

    def chosen(picked: tuple[str, ...] | None) -> None:
        if picked is not None and (picked != tuple(item.labels)
                                   or not labels.is_corrected(item.id)):
            labels.set(item, picked)

    app.push_screen(LabelsScreen(item, labels.is_corrected(item.id)), chosen)

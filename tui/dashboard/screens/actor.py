"""`a`: show only the items that name one actor (a country, capital, office, bloc or body of
the ``[actors]`` gazetteer). Type a name or any alias ("Kremlin" is Russia); the list
narrows as you type; enter takes the typed alias or the first actor listed."""
from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from feeds.classify.actors import Actor, fold
from feeds.text import safe_text

EVERY = "\x00every"  # the option id of "any actor"


@dataclass(frozen=True, slots=True)
class ActorChoice:
    actor: str | None  # a canonical name; None = any actor


def _key(text: str) -> str:
    return fold(text).casefold().strip()


def _aliases(actor: Actor) -> str:
    return ", ".join(safe_text(x) for x in actor.aliases[1:])


class ActorScreen(ModalScreen[ActorChoice | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("down", "to_list", "List", show=False)]

    def __init__(self, actors: object, current: str | None) -> None:
        super().__init__()
        self.spec = actors  # feeds.classify.actors.ActorSpec, or None when no gazetteer is loaded
        self.current = current
        # (actor, every alias folded) in gazetteer order
        self.entries: list[tuple[Actor, tuple[str, ...]]] = [
            (a, tuple(_key(x) for x in a.aliases))
            for a in getattr(actors, "actors", ())]

    def compose(self) -> ComposeResult:
        with Vertical(id="actor-box"):
            yield Static(Content.styled("Show items naming", "bold"))
            yield Input(placeholder="an actor or an alias, e.g. Kremlin, Kyiv, EU",
                        id="actor-input")
            yield OptionList(id="actor-list")
            yield Static(id="actor-aliases")
            yield Static(id="actor-hint")

    def on_mount(self) -> None:
        self._fit_list(self.app.size.height)
        self._fill("")
        self.query_one(Input).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_list(event.size.height)

    def _fit_list(self, height: int) -> None:
        """On a short terminal the list gives up rows, so that the highlighted actor's aliases
        and the hint stay in the box (90% of the height): CSS cannot say min(18, 90% - 11)."""
        self.query_one(OptionList).styles.max_height = max(4, min(18, height * 9 // 10 - 11))

    def _matching(self, typed: str) -> list[Actor]:
        key = _key(typed)
        if not key:
            return [actor for actor, _ in self.entries]
        return [actor for actor, aliases in self.entries if any(key in a for a in aliases)]

    def _fill(self, typed: str) -> None:
        olist = self.query_one(OptionList)
        olist.clear_options()
        matching = self._matching(typed)
        names = [actor.name for actor in matching]
        options = [] if typed.strip() else [Option(Content.styled("any actor", "bold"), id=EVERY)]
        for actor in matching:
            name = actor.name
            # One line per actor, cut with "…" to the list's width (its CSS); the highlighted
            # actor's aliases are shown in full under the list.
            prompt = Content.assemble((safe_text(name), "bold" if name == self.current else ""),
                                      (f"  {_aliases(actor)}" if actor.aliases[1:] else "",
                                       "$text-muted"))
            options.append(Option(prompt, id=name))
        olist.add_options(options)
        if self.current in names and not typed.strip():
            olist.highlighted = names.index(self.current) + 1
        elif options:
            olist.highlighted = 0
        else:
            self._show_aliases(None)  # no option is highlighted, so no event says so
        hint = self.query_one("#actor-hint", Static)
        resolved = self._resolve(typed)
        if typed.strip() and resolved:
            hint.update(Content.assemble(("enter: ", "$text-muted"), (safe_text(resolved), "bold")))
        elif typed.strip() and not names:
            hint.update(Content.styled("No actor has that name or alias.", "$text-warning"))
        else:
            hint.update(Content.styled("enter picks · ↓ to the list · esc cancels", "$text-muted"))

    def _resolve(self, typed: str) -> str | None:
        resolve = getattr(self.spec, "resolve", None)
        return resolve(typed) if resolve is not None and typed.strip() else None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value
        resolved = self._resolve(typed)
        if resolved:
            self.dismiss(ActorChoice(resolved))
            return
        olist = self.query_one(OptionList)
        if olist.highlighted is not None and olist.option_count:
            self._choose(olist.get_option_at_index(olist.highlighted).id)
        elif not typed.strip():
            self.dismiss(ActorChoice(None))

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_aliases(event.option_id)

    def _show_aliases(self, name: str | None) -> None:
        actor = next((a for a, _ in self.entries if a.name == name), None)
        shown = self.query_one("#actor-aliases", Static)
        shown.display = actor is not None
        if actor is not None:
            shown.update(Content.assemble((safe_text(actor.name), "bold"), ": ",
                                          (_aliases(actor) or "no alias", "$text-muted")))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_id)

    def _choose(self, option_id: str | None) -> None:
        self.dismiss(ActorChoice(None if option_id in (None, EVERY) else option_id))

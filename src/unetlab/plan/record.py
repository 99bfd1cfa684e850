"""One planned value (:class:`Choice`) and the plan (:class:`Plan`): its lines, its
YAML (``plan.yaml``) and its log."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from unetlab.atomic import atomic_path
from unetlab.config import Config
from unetlab.config.guard import REPR_KEYS
from unetlab.config.sections import BUDGET_EPOCHS
from unetlab.errors import UnetlabError
from unetlab.words import numbered

#: the key of the time budget a plan's reasons may rest on (its epoch cap and patience)
BUDGET_KEY = "train.max_minutes"

log = logging.getLogger(__name__)

#: the most keys set after planning that fit's line names each of (more: as from the config
#: from before plan_training, said as how many)
FEW_LATE = 2


@dataclass(frozen=True)
class Choice:
    """One planned config value: dotted ``key``, ``value``, ``reason``; ``user`` when the
    user set the key (the plan's value is then only advice), ``yours`` the value the user set;
    ``source``: the config file that set it (None: the user, by an override or in code);
    ``shown``: how the lines say ``value`` where its number means nothing to a reader (the
    epoch cap of a time budget, never reached: "no limit"), None: the value itself;
    ``late``: the user set it on ``fit``'s config after planning (:meth:`Plan.held`);
    ``given``: the other keys whose planned values ``reason`` was derived from (the batch's
    from the tile size), whose reason is marked stale where one is set after planning."""

    key: str
    value: object
    reason: str
    user: bool = False
    yours: object = None
    source: str | None = None
    shown: str | None = None
    late: bool = False
    given: tuple[str, ...] = ()

    @property
    def used(self):
        """The value the run trains with."""
        return self.yours if self.user else self.value

    def line(self) -> str:
        planned = self.shown or show(self.value)
        if not self.user:
            return f"{self.key} = {planned}: {self.reason}"
        whose = f"set in {self.source}" if self.source else "your setting"
        whose = "set after planning" if self.late else whose
        if self.yours == self.value:
            return f"{self.key} = {planned}: {self.reason} (also {whose})"
        return f"{self.key} = {show(self.yours)}: {whose} (the plan would choose {planned}: {self.reason})"

    def recorded_reason(self) -> str:
        """plan.yaml's ``reason``: the plan's, or for a key set after planning, that the
        user's value trained and why the plan chose its own (the plan's reason alone read as
        the reason for a value it never chose: s52 notebook)."""
        if not self.late:
            return self.reason
        planned = self.shown or show(self.value)
        return f"set after planning: yours trained (the plan chose {planned}: {self.reason})"


@dataclass
class Plan:
    """The choices, the fingerprint they come from, and ``notes``: facts of the data that no
    setting answers (a class in too few images), logged as warnings."""

    choices: list[Choice] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: how the user keeps a value of their own or trains without a plan, in the words of
    #: where the plan was made (the CLI's flags; :data:`unetlab.plan.training.PYTHON_HOW`)
    how: str = "--set KEY=VALUE overrides a line; --no-plan turns it off"
    #: bytes the loaded data set takes (:func:`unetlab.plan.memory.data_memory`), which the
    #: memory check before training adds to the step's (0: not known)
    data_bytes: float = 0.0
    #: seconds measuring the data took (:func:`unetlab.plan.plan_training`; None: not timed)
    #: and the time budget in minutes it was made for (0: none), for the log's line: the
    #: budget counts from the start of training, so the measurement is outside it
    seconds: float | None = None
    budget: float = 0.0
    #: the keys that ``fit``'s config set after planning, in one line (:meth:`held`; "": none)
    after: str = ""
    #: the full list :meth:`lines` last gave (a notebook's print; a look-up is not told
    #: apart): :meth:`log` writes them to train.log alone, not to the cell again (s65
    #: notebook: said twice); one fit takes them (:meth:`shown_once`)
    shown_lines: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's was some 3,000 characters of
        choices and fingerprint, s52 notebook), as a Report's and a Comparison's: the keys
        the plan set, how many of its keys the user set, the notes, and where each value's
        reason is."""
        planned = [c.key for c in self.choices if not c.user]
        shown = ", ".join(planned[:REPR_KEYS])
        more = f" and {len(planned) - REPR_KEYS} more" if len(planned) > REPR_KEYS else ""
        notes = f", {numbered(len(self.notes), 'note')}"
        return (
            f"Plan({numbered(len(planned), 'key')} planned: "
            f"{shown or 'none'}{more}; "
            f"you set {len(self.choices) - len(planned)}{notes if self.notes else ''}; "
            "print('\\n'.join(plan.lines())) for each value and why)"
        )

    def apply(self, cfg: Config) -> Config:
        """``cfg`` with every choice the user did not make set to the plan's value."""
        data = cfg.to_dict()
        for c in self.choices:
            if not c.user:
                section, key = c.key.split(".", 1)
                data[section][key] = c.value
        return Config.from_dict(data)

    def held(self, cfg: Config) -> Plan:
        """This plan as ``cfg`` holds it: each key whose value in ``cfg`` is not the one the
        plan records (``plan.yaml``'s ``value``: the plan's, or the user's where they set it)
        made the user's, with ``cfg``'s value, as a key set with --set is, and
        :attr:`after` saying them in one line. ``fit(cfg, plan=plan)`` trains ``cfg``: a
        key set after ``plan_training`` (its memory refusal's ``train.batch_size``), or the
        ``cfg`` from before it, is what ``train.log`` and ``plan.yaml`` say (s52 notebook).
        Its :attr:`budget` is ``cfg``'s, the one that trains (set after planning too)."""
        given, budget = _differing(self.choices, cfg), cfg.train.max_minutes
        moved = {} if budget == self.budget else {BUDGET_KEY: _minutes(budget)}
        if not given and not moved:
            return self
        choices = [
            replace(c, user=True, yours=given[c.key], source=None, late=True)
            if c.key in given
            else c
            for c in self.choices
        ]
        late = [c for c in self.choices if c.key in given]
        weighed = [*self.choices, Choice(BUDGET_KEY, _minutes(self.budget), "planned for")]
        choices = [_stale(c, weighed, given | moved) for c in choices]
        after = after_planning(late, given) if late else self.after
        return replace(self, choices=choices, after=after, budget=budget)

    def check_ends(self, cfg: Config) -> None:
        """Refuse ``cfg`` where it trains the epoch cap the plan set for its time budget
        ("no limit", which the budget ends) with the budget turned off after planning:
        nothing would end the run (review s64 user: 100000 epochs, said as none)."""
        cap = next((c for c in self.choices if c.key == "train.epochs"), None)
        if cap is None or cap.user or cap.value < BUDGET_EPOCHS or cfg.train.max_minutes > 0:
            return
        raise UnetlabError(
            f"train.epochs is the plan's {cap.shown or cap.value} (a time budget ends the run),"
            f" but train.max_minutes is {cfg.train.max_minutes:g}, set after planning: nothing"
            " would end this run; set cfg.train.epochs (50, say) or cfg.train.max_minutes"
            " again before fit"
        )

    def lines(self) -> list[str]:
        """Each planned value and why, one line each; recorded as shown (:attr:`shown_lines`)."""
        lines = [c.line() for c in self.choices]
        self.shown_lines = tuple(lines)
        return lines

    def shown_once(self) -> tuple[str, ...]:
        """:attr:`shown_lines`, forgotten here: one fit per showing (review s65: a second
        ``fit(plan=plan)`` kept them from the cell again)."""
        shown, self.shown_lines = self.shown_lines, ()
        return shown

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "plan": {
                c.key: {
                    "value": c.used,
                    "set_by": "user" if c.user else "plan",
                    **({"set_in": c.source} if c.user and c.source else {}),
                    "planned": c.value,
                    "reason": c.recorded_reason(),
                }
                for c in self.choices
            },
        }

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(yaml.dump(self.to_dict(), Dumper=_Plain, sort_keys=False))
        return path

    def log(self, train_log: logging.Handler | None = None) -> None:
        """The plan, line by line, to the log (``train.log`` and the console); a line that
        :meth:`lines` showed already goes to ``train_log`` (train.log's handler) alone,
        where given: the console says it once."""
        if self.seconds is not None:
            outside = f" (outside the {self.budget:g} min budget)" if self.budget > 0 else ""
            log.info("measured the data in %.0f s%s", self.seconds, outside)
        lines = [c.line() for c in self.choices]
        again = [line for line in lines if line in self.shown_lines] if train_log else []
        if again:
            said = f"{numbered(len(again), 'line')} as plan.lines() showed them (in train.log)"
            more = ", and:" if len(again) < len(lines) else ""
            log.info("plan from the data (%s): %s%s", self.how, said, more)
        else:
            log.info("plan from the data (%s):", self.how)
        for line in lines:
            if line in again:  # the console's level does not apply: train.log keeps INFO
                train_log.handle(
                    log.makeRecord(log.name, logging.INFO, "", 0, "plan: %s", (line,), None)
                )
            else:
                log.info("plan: %s", line)
        if self.after:
            log.warning("%s", self.after)
        for note in self.notes:
            log.warning("%s", note)


def _minutes(budget: float) -> float | int:
    """A budget as its reasons say it: 1, not 1.0."""
    return int(budget) if float(budget).is_integer() else budget


def _differing(choices: list[Choice], cfg: Config) -> dict[str, object]:
    """``{key: cfg's value}`` for each choice whose value in ``cfg`` is not the one it
    records, compared as plain values (a tuple in ``cfg`` as the plan's list)."""
    data = cfg.to_dict()
    for c in choices:
        section, key = c.key.split(".", 1)
        data[section][key] = c.used
    recorded, given = Config.from_dict(data).to_dict(), cfg.to_dict()
    differing = {}
    for c in choices:
        section, key = c.key.split(".", 1)
        if given[section][key] != recorded[section][key]:
            differing[c.key] = given[section][key]
    return differing


def _stale(choice: Choice, planned: list[Choice], given: dict[str, object]) -> Choice:
    """``choice`` with its reason marked where a key it was derived from (``given``) is set
    after planning: "8 tiles of 252 px" read as what trained after the tile was set to 188
    (the reason of a planned key is what the plan weighed, not what trained)."""
    changed = [c for c in planned if c.key in choice.given and c.key in given]
    if not changed or choice.key in given:
        return choice
    said = ", ".join(
        f"{c.key} {show(c.used)}, set after planning to {show(given[c.key])}" for c in changed
    )
    return replace(choice, reason=f"{choice.reason} [reasoned for {said}]")


def after_planning(late: list[Choice], given: dict[str, object]) -> str:
    """One line for the ``late`` choices, whose values in ``fit``'s config (``given``) are
    not the plan's: each named where they are few; where there are more, as from the
    config from before ``plan_training``, how many, and the config to give instead."""
    said = [f"{c.key} {show(given[c.key])} ({_recorded(c)})" for c in late]
    if len(late) <= FEW_LATE:
        return f"{' and '.join(said)} set after planning: trained and recorded as yours"
    return (
        f"fit's config differs from the plan in {len(late)} keys ({said[0]}, and "
        f"{len(late) - 1} more): fit trains the config's values as yours; if it is the "
        "config from before plan_training, give fit the one plan_training returned "
        "(cfg, plan = plan_training(cfg); fit(cfg, ..., plan=plan))"
    )


def _recorded(c: Choice) -> str:
    return f"{show(c.yours)} when planned" if c.user else f"the plan's {c.shown or show(c.value)}"


class _Plain(yaml.SafeDumper):
    """YAML without anchors and aliases (a value the plan repeats is written out again)."""

    def ignore_aliases(self, data) -> bool:
        return True


def show(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")

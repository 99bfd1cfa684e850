"""The data's contradictions, refused before a run starts (:func:`check_data`), and the
void value's warning where nothing names the classes (:func:`void_note`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from unetlab.config import Config
from unetlab.data.checks import channel_problems
from unetlab.data.classes import NAMES_FILE, names_a_class, palette_words, read_class_names
from unetlab.data.colour_table import VOID_NAMES, ColourTable, read_colour_table
from unetlab.data.fingerprint import (
    SOME_IGNORE_VALUE,
    Fingerprint,
    fill_value,
    ignoring,
    lonely_classes,
    lossy_problem,
    mixed_encodings,
    pixel_counts,
    ramp_share,
    too_small,
)
from unetlab.data.names import loose
from unetlab.data.pairs import PairReader, problems_error
from unetlab.data.shown import shown_path
from unetlab.data.void import (
    VOID,
    VoidBeside,
    border_share,
    of_training,
    percent,
    void_as_class,
    void_beside_classes,
    void_line,
)
from unetlab.errors import said_as, set_all, set_to
from unetlab.plan.geometry import Geometry
from unetlab.plan.record import show
from unetlab.words import first_listed, numbered, worded


def check_data(
    fp: Fingerprint, cfg: Config, explicit: set[str], *, problems: Sequence[str] = ()
) -> None:
    """Raise one DatasetError naming the files when the data contradicts itself: blurred
    masks, masks mixing 0/1 and 0/255, a mask value in one file only (these three only where
    ``fp`` measured classes, and unless ``data.label_values`` is the user's), images whose
    channels differ from the others' (or from ``model.in_channels``), images smaller than the
    net's smallest input;
    ``problems`` found before (files that do not pair up or cannot be measured) are listed
    first in the same error."""
    problems = list(problems)
    if "data.label_values" not in explicit:
        problems += _class_problems(fp, cfg)
    problems += label_value_problems(fp, cfg)
    problems += void_problems(fp, cfg) + void_name_problems(fp, cfg)
    problems += ignored_class_problems(fp, cfg)
    images = [(Path(p.image), p.channels) for p in fp.pairs]
    problems += channel_problems(images, cfg.model.in_channels)
    geometry = Geometry.of(cfg)
    problems += too_small(fp.pairs, geometry.min_image, _small_fix(geometry))
    if problems:
        raise problems_error(problems, where=cfg.data.root)


def declared_names(cfg: Config) -> dict[int, str]:
    """``{mask value: name}`` of the classes the data set names: ``data.class_names``, else
    its ``class_names.txt``; ``{}`` when nothing names them."""
    d = cfg.data
    return dict(d.class_names or (d.root is not None and read_class_names(d.root)) or {})


def _class_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """Blurred masks, mixed encodings and values in one file only, where the fingerprint
    reads the mask values as classes (it follows ``data.target``, as training does; an
    object id is in one file only by nature). A class the data set names
    (``data.class_names``, ``class_names.txt``) may be in one file: the plan's notes say so."""
    if fp.instances:
        return []
    if problem := lossy_problem(pixel_counts(fp.pairs), ramp_share(fp.pairs)):
        return [problem]  # as training refuses them; not a class in one file per value
    declared = set(declared_names(cfg))
    table = naming_table(cfg)
    lonely = lonely_classes(
        fp.pairs,
        ignore_value=cfg.data.ignore_value,
        declared=declared,
        value_name=_value_name,
        naming=None if table is None else lambda v: table.naming_fix([v]),
    )
    return mixed_encodings(fp.pairs) + lonely


def naming_table(cfg: Config) -> ColourTable | None:
    """The colour table of the data root where its rows name the classes (no
    ``data.class_names``): mask values it lacks (grey class indices, ``data.grey_masks``
    indices) are named by its rows or data.class_names, not by a class_names.txt, which
    is refused beside it where the two name the classes otherwise."""
    d = cfg.data
    return None if d.class_names or d.root is None else read_colour_table(d.root)


def _value_name(value: int, mask: str) -> str:
    """``mask value 11``, and how a viewer shows it where ``mask`` is a palette PNG: ``mask
    value 11 (palette colour (250, 170, 30))``."""
    said = palette_words(mask, value)
    return f"mask value {value}" + (f" ({said})" if said else "")


def names_note(fp: Fingerprint, cfg: Config) -> list[str]:
    """A warning when the data set's names (``data.class_names``, ``class_names.txt``) name
    values no mask holds while values the masks hold go unnamed: ``class_names.txt`` of three
    lines names values 0, 1, 2, not the 0, 128, 255 of the masks; or when values the masks
    hold go unnamed beside names that all name held values (:func:`unnamed_note`)."""
    names = declared_names(cfg)
    if fp.instances:
        return instance_names_note(names)
    if not names:
        return []
    held = {v for p in fp.pairs for v in p.values} - {cfg.data.ignore_value}
    unnamed, idle = sorted(held - set(names)), sorted(set(names) - held)
    if not unnamed:
        return []
    table = naming_table(cfg)
    if not idle:
        return [unnamed_note(fp, unnamed, names, table)]
    fix = (
        "class_names.txt's line i names value i (or write each line as VALUE NAME, e.g. '128 dim')"
        if table is None
        else f"{table.naming_fix(unnamed)}, or fix those masks"
    )
    return [
        f"the class names name mask values {first_listed(idle)}, which no mask holds, and leave "
        f"{first_listed(unnamed)}, which masks hold, unnamed: {fix}"
    ]


def unnamed_note(
    fp: Fingerprint, unnamed: list[int], names: dict[int, str], table: ColourTable | None = None
) -> str:
    """The warning for mask values ``unnamed`` that the data set's ``names`` leave out while
    naming no value the masks lack: a stray label in some masks, or a short names file (audit
    s39 roads: masks of 0..10 and, in 3 files, 11 beside 11 names trained a 12th class "11"
    without a word)."""
    files = [shown_path(p.name) for p in fp.pairs if set(unnamed) & set(p.values)]
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    named = sorted(names)
    span = named == list(range(named[0], named[-1] + 1)) and len(named) > 2
    covered = f"{named[0]}-{named[-1]}" if span else first_listed(named)
    values = (
        f"values {first_listed(unnamed)} have" if len(unnamed) > 1 else f"value {unnamed[0]} has"
    )
    return (
        f"mask {values} no class name (the names cover {covered}): training gives each a "
        f"class of its own, named by its value; held by {numbered(len(files), 'mask')}: {shown}; "
        f"{naming_fix(names, unnamed) if table is None else table.naming_fix(unnamed)}, "
        "or fix those masks"
    )


def naming_fix(names: dict[int, str], unnamed: list[int]) -> str:
    """How to name mask values ``unnamed`` beside ``names``: a line each in class_names.txt
    where they follow its lines' values (line i names value i); else each of its lines as
    VALUE NAME (255 beside names of 0-2, as data.label_values 0 1 2 255 has it, would take
    lines 3-254 besides), or data.class_names."""
    count = len(names)
    if sorted(names) == list(range(count)) and unnamed == list(range(count, count + len(unnamed))):
        return "name them in class_names.txt (line i names value i) or data.class_names"
    first = min(names)
    return (
        f"name them in class_names.txt with each line as VALUE NAME ('{first} {names[first]}', "
        f"..., '{unnamed[-1]} NAME') or in data.class_names"
    )


def instance_names_note(names: dict[int, str]) -> list[str]:
    """A warning where the data set's names (``{mask value: name}``) name several object
    classes but the masks hold object ids: those train the instance target, whose classes 0,
    1, 2 are background / boundary / interior, not the named ones (audit s35 multiclass 2:
    healthy and apoptotic were dropped without a word)."""
    kinds = [name for value, name in sorted(names.items()) if value != 0]
    if len(kinds) < 2:
        return []  # one object class (0 background, 1 nucleus): its name is the objects'
    return [
        f"the class names name {len(kinds)} object classes ({', '.join(kinds)}) but the masks "
        "hold object ids, one per object: they train the instance target (classes 0, 1, 2 = "
        "background, boundary, interior), every object of one kind, and the names are not "
        f"used; to count several kinds give class masks (0 background, 1 {kinds[0]}, "
        f"2 {kinds[1]}, ...) and predict with --instances --distance-split, which splits "
        "touching objects of one class (README: Counting nuclei)"
    ]


def looks_void(fp: Fingerprint, cfg: Config) -> bool:
    """Whether the plan says mask value 255 looks like void (:func:`void_note`,
    :func:`void_problems`): other lines that speak of it say so too."""
    return _void(fp, cfg) is not None


def _void(fp: Fingerprint, cfg: Config):
    """:func:`void_beside_classes` of ``fp`` unless the config says what the masks' values
    are: ``data.ignore_value`` or ``data.label_values`` set, or 255 named as a class."""
    d = cfg.data
    if d.ignore_value is not None or d.label_values is not None:
        return None
    return None if VOID in declared_names(cfg) else void_beside_classes(fp.pairs)


def auto_void(fp: Fingerprint, cfg: Config, explicit: set[str]) -> VoidBeside | None:
    """The void that needs no setting: the data set names N classes as values 0..N-1
    (``class_names.txt`` of N lines, ``data.class_names``) and the masks hold those values and
    255 only, which no name names (Cityscapes' trainIds, mmseg's sets); None where
    ``data.ignore_value`` is the user's or :func:`void_problems` would not speak."""
    found = None if "data.ignore_value" in explicit else _void(fp, cfg)
    names = sorted(declared_names(cfg))
    if found is None or names != list(range(len(names))) or not set(found.values) <= set(names):
        return None
    return found


def auto_void_reason(found: VoidBeside) -> str:
    """The plan's reason for ``data.ignore_value = 255`` (:func:`auto_void`), with the keys
    that read 255 otherwise."""
    return (
        f"mask value {VOID} ({percent(found.share)} of the {found.pixels}) has no name beside "
        f"the classes {found.classes} the data set names: void (Cityscapes, VOC, mmseg), "
        f"counted nowhere; if it is a class, {said_as(void_as_class(found))} and name it"
    )


def void_name_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """A problem for each mask value the data set's names call void (ignore, unlabelled)
    and the masks hold as a class (palette masks' 255 is VOC's void, read as none), where
    neither ``data.ignore_value`` nor ``data.label_values`` is set: a colour table's void
    colour counts nowhere, but a ``class_names.txt`` line ``255 void`` beside grey masks
    trained void as one more class (audit s39 roads)."""
    d = cfg.data
    if d.ignore_value is not None or d.label_values is not None or not fp.pairs:
        return []
    held = {v for p in fp.pairs for v in p.values}
    return [
        f"the class names call mask value {value} {name!r}, which would train as one more "
        f"class: {said_as(ignoring(int(value)))} to count it nowhere (as a "
        "colour table's void), or name it otherwise if it is a class"
        for value, name in declared_names(cfg).items()
        if loose(str(name)) in VOID_NAMES and value in held
    ]


def ignored_class_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """A problem where ``data.ignore_value`` is a value the data set names as a class of its
    own (``class_names.txt``, ``data.class_names``, a colour table's rows; not void nor
    background: :func:`~unetlab.data.classes.names_a_class`): its pixels would count
    nowhere, the net never learning that class (user2 s62: ``data.ignore_value=1`` beside
    VOC scenes' road was said as names of "mask values 1, which no mask holds", and void 255
    trained as a class). Names of lines 0..N-1 beside masks of 0 and classes 1..N (ilastik's
    export, unlabelled 0) are told to be ``VALUE NAME`` lines (:func:`_shifted_names`); an
    unnamed value is offered only where it looks like void (255, negative): ilastik's
    nucleus 2 was offered as the unlabelled value (review s62)."""
    value = cfg.data.ignore_value
    table = naming_table(cfg)
    names = declared_names(cfg) or (table and table.class_names()) or {}
    name = names.get(value)
    if value is None or not names_a_class(name) or fp.instances:
        return []  # void, background and a value's own digits name no class to learn
    held = {v for p in fp.pairs for v in p.values}
    said = f"data.ignore_value={value} is the mask value of the class named {name!r}"
    source = _names_source(cfg, table)
    table_named = source not in (NAMES_FILE, "data.class_names")
    if not table_named and (shifted := _shifted_names(names, held, value, source)):
        return [f"{said} ({shifted}"]
    void = [v for v in sorted(held - set(names)) if v == VOID or v < 0]
    other = f" ({first_listed(void)} here: held by masks, named by no class)" if void else ""
    rename = f"its row void in {source} and leave data.ignore_value out" if table_named else ""
    return [
        f"{said}: its pixels would count nowhere and the net would never learn {name}; set "
        f"data.ignore_value to the value of the unlabelled pixels{other}, or leave it out; "
        f"if {name} is no class to learn, rename {rename or f'it void in {source}'}"
    ]


def _names_source(cfg: Config, table: ColourTable | None) -> str:
    """Where the data set's class names are written: ``data.class_names``, the data root's
    ``class_names.txt`` or its colour table's file."""
    if cfg.data.class_names:
        return "data.class_names"
    if table is None or (Path(cfg.data.root) / NAMES_FILE).is_file():
        return NAMES_FILE
    return Path(table.source).name


def _shifted_names(names: dict[int, str], held: set[int], value: int, source: str) -> str:
    """The end of the line for ``names`` of values 0..N-1 (one name a line) beside masks
    holding the ignore ``value`` and 1..N: the names are one value short, each written as
    ``VALUE NAME`` names 1..N; "" where the names and masks are not so."""
    n = len(names)
    if sorted(names) != list(range(n)) or n not in held or not held <= {value, *range(1, n + 1)}:
        return ""
    shown = [(v + 1, names[v]) for v in range(min(n, 3))]
    more = ", ..." if n > 3 else ""
    if source == NAMES_FILE:
        lines = ", ".join(f"'{v} {name}'" for v, name in shown)
        fix = f"write the lines of {source} as VALUE NAME ({lines}{more})"
    else:
        fix = "set data.class_names to {" + ", ".join(f"{v}: {n}" for v, n in shown) + more + "}"
    return (
        f"{source} names values 0 to {n - 1}), while the masks hold {value} and 1 to {n}: "
        f"where {value} is unlabelled and the classes are 1 to {n}, {fix}"
    )


def void_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """A problem when the masks hold classes 0..K-1 and 255 and the data set names those
    classes (``data.class_names``, ``class_names.txt``) but not 255: the names say what the
    classes are, and 255 is not one of them (Cityscapes', VOC's and mmseg's void)."""
    found = _void(fp, cfg)
    if found is None or not set(found.values) <= set(declared_names(cfg)):
        return []
    return [void_line(found, named=True)]


#: the masks read to tell whether a void value lies in thin outlines
VOID_MASKS = 3


def void_note(
    fp: Fingerprint, cfg: Config, pairs: Sequence, held_out: Collection[str] = ()
) -> list[str]:
    """A warning when the masks hold classes 0..K-1 and 255 and nothing names the classes
    (:func:`void_problems` refuses where names leave 255 out), with how much of 255 borders
    a class in up to ``VOID_MASKS`` of ``pairs`` that hold it (thin outlines: void); its
    share of the training pixels (``held_out``: the validation pairs' names)."""
    found = _void(fp, cfg)
    if found is None or set(found.values) <= set(declared_names(cfg)):
        return []
    found = of_training(found, fp.pairs, held_out)
    holding = {p.name for p in fp.pairs if VOID in p.values}
    reader = PairReader(cfg.data.channel)
    chosen = [p for p in pairs if p.mask_page in holding][:VOID_MASKS]
    masks = [reader.mask_of(p) for p in chosen]
    shares = [b for m in masks if (b := border_share(m)) is not None]
    return [void_line(found, named=False, border=float(np.mean(shares)) if shares else None)]


#: the keys that name a data set's classes, all three set for ISBI in configs/small_cpu.yaml
CLASS_KEYS = ("data.label_values", "data.class_names", "model.num_classes")


def label_value_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """One problem when the masks hold values outside ``data.label_values`` (and not
    ``data.ignore_value``), naming where the classes were set (a config file: its
    ``CLASS_KEYS`` together, as ISBI's 0/255 in small_cpu.yaml, which gave three errors one
    after the other on class-index masks) and every key the fix needs at once."""
    d = cfg.data
    if d.label_values is None or fp.instances:
        return []
    found = sorted({v for p in fp.pairs for v in p.values} - {d.ignore_value})
    unknown = [v for v in found if v not in d.label_values]
    if not unknown:
        return []
    in_file = [k for k in CLASS_KEYS if k in cfg.file_keys]
    where = f" set in {cfg.config_file}" if "data.label_values" in in_file else ""
    keys = ", ".join(f"{k} {show(cfg.value_of(k))}" for k in in_file if k != "data.label_values")
    also = f" (with {keys})" if keys else ""
    fill = fill_value(fp.pairs) if d.ignore_value is None else None
    classes = [int(v) for v in found if v != fill]  # Python's ints, as a notebook writes them
    fix = [set_to("data.label_values", classes)]
    fix += [set_to("data.class_names", None)] if d.class_names else []
    fix += [set_to("model.num_classes", len(classes))] if cfg.model.num_classes else []
    fix += [set_to("data.ignore_value", int(fill))] if fill is not None else []
    unlabelled = (
        f" ({fill} fills most of every mask: unlabelled pixels?)"
        if fill is not None
        else f"; a value that marks unlabelled pixels: {said_as(SOME_IGNORE_VALUE)}"
        if d.ignore_value is None
        else ""
    )
    return [
        f"mask {worded(len(unknown), 'value')} {', '.join(map(str, unknown))} "
        f"{worded(len(unknown), 'is', 'are')} not among data.label_values "
        f"{show(d.label_values)}{where}{also}: for these masks "
        + ("leave out that config or " if where else "")
        + said_as(set_all(fix))
        + unlabelled
    ]


def _small_fix(geometry: Geometry) -> str:
    """The fix for images below the net's minimum: pad them, or the next shallower nets; a
    net of the least depth (2) has none to offer, so the size to pad to is said."""
    shallower = [
        f"model.depth={d} needs {Geometry(d, geometry.padding).min_image} px"
        for d in range(geometry.depth - 1, 1, -1)
    ]
    if not shallower:
        return f"pad them to {geometry.min_image} px or more a side"
    return "pad them, or use a shallower net (" + ", ".join(shallower[:2]) + ")"

"""Settings every input would fail alike, refused in one line before any file is read: axes
given to no TIFF, a channel index beyond the channels of every input. One rule for
``predict`` (flat and ``--recursive``), :func:`~unetlab.inference.folders.predict_folder`
and :func:`~unetlab.inference.tree.predict_tree` (s54 badinput4: the Python API and the
tree had no channel rule, a colour first input had none either)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from unetlab.data.colour import colour_file
from unetlab.data.io import (
    TIFF_SUFFIXES,
    axes_read_once,
    given_letters,
    refuse_untiffed_axes,
    stack_shape,
    tiff_layout,
)
from unetlab.data.names import AN_INDEX, digits_named, listed, named_by_digits, said_by_digits
from unetlab.data.slides import is_zarr, zarr_layout
from unetlab.data.tiff_files import is_tiff_name, keeping_open, open_tiff
from unetlab.data.tiffmeta import channel_names, names_in
from unetlab.errors import Spelled, UnetlabError, worded
from unetlab.inference.pages import page_colour, read_axes, trained_axes
from unetlab.inference.predict import PredictOptions, channel_refusal
from unetlab.read_once import ReadOnce
from unetlab.words import numbered, spaced

#: a channel index as the Python API and the command line spell it
CHANNEL_AS = Spelled("channel={}", "--channel {}")


class Takes(NamedTuple):
    """What a model takes, known before any input is read: its input ``channels``, the
    ``channel`` of its images it records training on (``data.channel``: an index, a band
    list; None: all of them), and the ``axes`` its TIFFs were read with (``data.axes``;
    None: none recorded), with which prediction reads TIFFs none are given for."""

    channels: int
    channel: int | tuple | list | None = None
    axes: str | None = None


#: what the checks read of each input within :func:`headers_read_once`
_HEADERS = ReadOnce("channel_headers_read", inputs=True)


@contextlib.contextmanager
def headers_read_once() -> Iterator[None]:
    """Within: each input's header read once for its channels (:func:`_tiff_header`,
    :func:`_axes_read`, :func:`_other_bound`, :func:`_colour`), however many checks ask (a
    command's before its model loads and after, a tree's for all its inputs, each folder's, predict_folder's); a file changed
    meanwhile is read again. Within another, that one's reads. The axes each TIFF is read
    with by the model's too, for the checks and all the rest of the command
    (:func:`~unetlab.data.io.axes_read_once`)."""
    with _HEADERS.kept(), axes_read_once():
        yield


@headers_read_once()  # each header read once by both checks (s59: up to 5 times)
def refuse_for_every_file(
    where,
    paths: Sequence[str | os.PathLike],
    settings: dict,
    *,
    takes: Takes | None = None,
) -> None:
    """UnetlabError (ImageReadError) before any file for the ``settings`` (``axes``,
    ``channel``) that each of ``paths`` would fail alike; ``where``: the inputs they were
    found in as given (a folder, a glob, a list of them); ``takes``: what the model takes
    (its input channels, the channel it trained on), where known before it loads: inputs
    all of a channel count it cannot take are refused too (:func:`wrong_count`)."""
    if not isinstance(where, (str, os.PathLike)):
        where = ", ".join(map(str, where))
    refuse_untiffed_axes(where, paths, settings.get("axes"))
    channel, axes = given_options(settings).channel, settings.get("axes")
    # the count first: where an index is out of range too, a model of theirs fixes both
    if (line := wrong_count(paths, channel, axes=axes, takes=takes)) is not None:
        raise UnetlabError(**line)
    line = absent_channel(paths, channel, axes=axes, takes=takes)
    if line is not None:
        raise UnetlabError(**line)


def wrong_count(paths: Sequence, channel, *, axes=None, takes: Takes | None) -> dict | None:
    """The refusal (``message`` and ``cli``) where every input of ``paths`` has, by its
    header exactly, the same count of channels, 2 or more, that the model (``takes``) cannot
    take: a ``channel`` index for a model of several channels (it was told to leave the
    index out "to give it all 3 channels" of 2-channel inputs, s57; of inputs of as many,
    that line, before the model loads), or none given to a
    model that records no channel of its own and takes another count (not the luminance of
    a colour picture's 3 or 4 for a 1-channel model, nor RGB of RGBA). Each file failed
    alike, after the model loaded (s57). Headers are read while they agree; the first
    input's alone where it fits, once each; the first's open serves its channel names."""
    asked = isinstance(channel, int) and not isinstance(channel, bool)
    if takes is None or not paths or not (asked or channel is None):
        return None
    with keeping_open(paths[0]):
        return _count_refusal(paths, channel, axes, takes, asked=asked)


def _count_refusal(paths: Sequence, channel, axes, takes: Takes, *, asked: bool) -> dict | None:
    """:func:`wrong_count` of ``paths`` for ``channel``, given (``asked``) or None."""
    first = _looked(paths[0], axes, takes)
    if first is None or _fits(first[0][0], takes, asked=asked):
        return None
    if _converts(first[0][0], takes, asked=asked) and _may_be_colour(paths[0], first):
        return None  # one header read where it is a colour picture
    if (have := _same_count(paths[1:], axes, takes, first=first[0])) is None:
        return None
    if _converts(have, takes, asked=asked) and any(
        _may_be_colour(p, _looked(p, axes, takes)) for p in paths[1:]
    ):
        return None
    if asked and have == takes.channels:  # as each image's line says it
        return channel_refusal(channel, have, have=have)
    holders = _holders(paths, _Bound(have, True, same=True))
    them = "them" if len(paths) > 1 else "it"
    names = _names(paths[0], have)
    count = _Count(holders, have, takes.channels, channel if asked else None, them, names)
    given, bands = _given(channel), _given(list(range(takes.channels)))
    return worded(
        lambda words: _count_line(words, count),
        {"form": CHANNEL_AS.python, "given": given.python, "bands": bands.python},
        {"form": CHANNEL_AS.cli, "given": given.cli, "bands": bands.cli},
    )


#: the channel counts of inputs a model of as many (the key) takes, converted: a colour
#: picture's luminance, an RGBA picture's RGB (:func:`~unetlab.inference.predict._converted`)
_CONVERTED = {1: (3, 4), 3: (4,)}


def _fits(have: int, takes: Takes, *, asked: bool) -> bool:
    """Whether inputs of ``have`` channels may be predicted by a model that ``takes``, a
    channel index ``asked`` for or not (:func:`wrong_count`), whatever they are: a grey
    input's pages may be its channels, one channel of theirs feeds a 1-channel model (out
    of range: :func:`absent_channel`). Colour pictures converted: :func:`_converts`."""
    if have < 2:
        return True
    if asked:  # an index: for a 1-channel model alone
        return takes.channels == 1
    return have == takes.channels or takes.channel is not None


def _converts(have: int, takes: Takes, *, asked: bool) -> bool:
    """Whether inputs of ``have`` channels fit a model that ``takes`` where they are colour
    pictures (:data:`_CONVERTED`): 4 fluorescence channels (a minisblack TIFF) given to an
    RGB model failed file by file (s58)."""
    return not asked and have in _CONVERTED.get(takes.channels, ())


def _looked(path, axes: str | None, takes: Takes) -> tuple[tuple[int, bool], str | None] | None:
    """(the channel bound of ``path``, :func:`_channel_bound`, read with the axes prediction
    reads it with; those axes): ``axes`` given, else the model's (``takes.axes``) where the
    TIFF takes them (:func:`~unetlab.inference.pages.read_axes`: review C, an RGB model
    trained with YXC reads a (Y, X, 4) minisblack TIFF's first 3 channels); None where
    either cannot say (its own line will). Its reads kept within :func:`headers_read_once`
    (:func:`_axes_read`, :func:`_tiff_header`), a TIFF opened once for both (s59: 2 to 5
    opens of each header per check); the rest is arithmetic."""
    with keeping_open(path):  # opens nothing until a read asks (a PNG: none)
        if (read := _axes_read(path, axes, takes)) is _UNREAD:
            return None
        bound = _channel_bound(path, read)
    return None if bound is None else (bound, read)


#: the axes of a file that cannot be read with the model's (:func:`_axes_read`)
_UNREAD = object()


def _axes_read(path, axes: str | None, takes: Takes):
    """:func:`~unetlab.inference.pages.read_axes` of ``path``, its header read once within
    :func:`headers_read_once` where it reads the file (no ``axes`` given, the model's
    known: :func:`~unetlab.data.io.axes_read_once`); :data:`_UNREAD` where it cannot say (a
    refusal of the model's axes, a corrupt file: their own lines)."""
    if axes is not None or takes.axes is None:
        return axes
    try:
        return read_axes(path, None, takes.axes, takes.channels)
    except Exception:  # noqa: BLE001 - tifffile's and PIL's parsers on corrupt bytes raise
        # nearly anything (tests/test_fuzz.py); a refusal of the model's axes: its own line
        return _UNREAD


def _may_be_colour(path, looked: tuple | None) -> bool:
    """Whether ``path`` read with the axes of ``looked`` (:func:`_looked`'s) may be a colour
    picture, as prediction decides it (:func:`~unetlab.inference.pages.page_colour`): not
    where it is known not to be; a file that cannot be read may (its own line says why).
    Asked once within :func:`headers_read_once`."""
    if looked is None:
        return True
    return _HEADERS.read(("colour", looked[1]), path, lambda: _colour(path, looked[1]))


def _colour(path, axes: str | None) -> bool:
    """:func:`_may_be_colour` of ``path`` read with ``axes``, asked now."""
    try:
        return page_colour(path, axes) is not False
    except Exception:  # noqa: BLE001 - tifffile's and PIL's parsers on corrupt bytes raise
        # nearly anything (tests/test_fuzz.py)
        return True


def _same_count(paths: Sequence, axes, takes: Takes, *, first: tuple[int, bool]) -> int | None:
    """The channel count the first input (its bound ``first``, looked at already) and every
    other of ``paths`` have exactly by their headers, read with the axes prediction reads
    them with (:func:`_looked`); None as soon as one's header cannot say, counts pages that
    may be channels, or differs."""
    if not first[1]:
        return None
    for path in paths:
        looked = _looked(path, axes, takes)
        if looked is None or looked[0] != (first[0], True):
            return None
    return first[0]


class _Count(NamedTuple):
    """Inputs all of a channel count a model cannot take (:func:`wrong_count`)."""

    #: who has them: ``the input, a.tif, has`` or ``all 2 inputs (a.tif, ...) have``
    holders: str
    have: int
    #: the channels the model takes
    model: int
    #: the channel index asked for (None: none)
    channel: int | None
    #: the inputs as the fix names them: "them", or "it" for one
    them: str
    #: the first input's channel names, one each (none: it records none)
    names: tuple[str, ...] = ()


def _count_line(words, count: _Count) -> str:
    """``--channel 0 was asked for, but the model takes 3 channels and all 2 inputs (a.tif,
    ...) have 2: ...`` or ``all 2 inputs (a.tif, ...) have 2 channels, the model takes 3:
    ...`` in the spelling of ``words`` (:func:`wrong_count`): the first input's channel
    names listed where it records them, chosen by name too; inputs of more channels than
    the model's given a band list of its count too (s57 review E)."""
    form, have, model = words["form"], count.have, count.model
    trained = f"predict {count.them} with a model trained on {have}-channel images"
    if count.channel is not None:
        lead = f"{words['given']} was asked for, but the model takes {model} channels"
        one = f"{form.format('').strip()} picks its channel"
        one += f", 0 to {have - 1}" if count.channel >= have else ""
        return f"{lead} and {count.holders} {have}: {trained}, or a 1-channel one ({one})"
    names = f" ({_first(count)}{listed(list(count.names))})" if count.names else ""
    lead = f"{count.holders} {have} channels{names}, the model takes {model}"
    if model == 1:
        by = " (an index or a name)" if count.names else ""
        return (
            f"{lead}: choose one with {form.format('C')}{by}, e.g. the nuclear stain, or {trained}"
        )
    fix = f"give images of {model} channels"
    fix += f", pick {model} of theirs with {words['bands']}" if have > model else ""
    return f"{lead}: {fix}, or {trained}"


def _first(count: _Count) -> str:
    """Whose channel names a line lists: the input's, or the first of several's."""
    return "" if count.them == "it" else "the first's: "


def _names(path: str | os.PathLike, have: int) -> tuple[str, ...]:
    """The channel names ``path`` records, one for each of its ``have`` channels; none where
    it records none (or cannot be read: its own line says why)."""
    try:
        names = channel_names(path)
    except (UnetlabError, OSError, ValueError, LookupError, TypeError):
        return ()
    return tuple(names) if len(names) == have else ()


def known_channels(model) -> int | None:
    """The input channels of ``model`` where it is loaded (a net's ``in_channels``); None
    for a function that loads it (known once it runs)."""
    channels = getattr(model, "in_channels", None)  # a loader function has none
    return channels if isinstance(channels, int) else None


def model_takes(model) -> Takes | None:
    """The :class:`Takes` of ``model`` where it is loaded (its ``in_channels`` and the
    ``channel`` it records); None for a function that loads it."""
    channels = known_channels(model)
    channel = getattr(model, "channel", None)
    return None if channels is None else Takes(channels, channel, trained_axes(model))


def given_options(settings: dict) -> PredictOptions:
    """The :class:`~unetlab.inference.predict.PredictOptions` of
    :func:`~unetlab.inference.files.predict_file`'s keywords ``settings`` (``options`` and
    its fields by name)."""
    fields = PredictOptions.__dataclass_fields__
    return PredictOptions.of(
        settings.get("options"), **{k: v for k, v in settings.items() if k in fields}
    )


def absent_channel(
    paths: Sequence[str | os.PathLike],
    channel,
    *,
    axes=None,
    others: bool = False,
    takes: Takes | None = None,
) -> dict | None:
    """The refusal (``message`` and ``cli``: :func:`~unetlab.errors.worded`) where the
    ``channel`` asked for (an index, or a band list: its highest band) is beyond the channels
    of every input of ``paths``, as their headers tell (:func:`_channel_bound`): each file
    would fail, one line apiece (s53 badinput3: grey inputs; s54 badinput4: colour ones;
    s55: band lists). None as soon as one input may have it or its header cannot say (its
    own line will): a folder of mixed channel counts predicts those that have it, the others
    fail alone (s53 reviewB). Headers are read up to the first such input. ``axes``
    (``--axes``): the TIFFs are read by those, not as their headers say (their channels then
    counted as a bound: :func:`_channel_bound`). ``others``: ``paths`` are one folder of a
    tree whose other folders are predicted (the fix is this folder's alone, s55);
    ``takes``: what the model takes (its input channels), None where not known yet; where
    known and no ``axes`` given, TIFFs are counted with those it trained
    with, as prediction reads them (:func:`_looked`, as :func:`wrong_count`; s58: a YXC
    model's (Y, X, 2) minisblack TIFFs were counted by their 24 pages, each file failed)."""
    if (top := _highest_band(channel)) is None or not paths:
        return None
    most, exact, names = [], True, []
    for path in paths:
        with keeping_open(path), _HEADERS.stamped(path):  # one open, one stat for both
            if (bound := _bound_read(path, axes, takes)) is None or bound[0] > top:
                return None
            names.append(_header_names(path, bound[0]))
        most.append(bound[0])
        exact &= bound[1]
    said = _Bound(max(most), exact, same=exact and len(set(most)) == 1)
    given = _given(channel)
    channels = None if takes is None else takes.channels
    listed = _Listed(len(channel) if isinstance(channel, (tuple, list)) else 0, channels)
    bands = channel if listed.bands else [channel]  # a laser line given as its name (s72)
    named = _named_by_digits(paths, names, bands)
    return worded(
        lambda words: (
            _out_of_range(words, top, paths, said, others=others, listed=listed)
            + (f"; {named}" if named else "")
        ),
        {"form": CHANNEL_AS.python, "given": given.python},
        {"form": CHANNEL_AS.cli, "given": given.cli},
    )


def _named_by_digits(paths: Sequence, names: Sequence[tuple[str, ...]], bands) -> str:
    """Which channels of ``bands`` the inputs ``paths`` (recording ``names``) name by their
    digits (:func:`~unetlab.data.names.named_by_digits`), said once for each way they name
    them, the first :data:`_WAYS` of them: "the channel it names '488' is index 1 (...)",
    "the channel each names ...", "the channel each of 2 inputs (a.ome.tif, ...) names '488'
    is index 1; the channel b.ome.tif names '488' is index 0; 3 more inputs name them at
    other indices (...)"; "" where none does (s73: one input's alone; review: 8 ways, 781
    characters)."""
    if len(paths) == 1:
        return named_by_digits(names[0], bands, "it")
    ways: dict[tuple, list] = {}
    for path, recorded in zip(paths, names):
        if found := digits_named(recorded, bands):
            ways.setdefault(found, []).append(path)
    lines = [said_by_digits(found, _which(group, paths)) for found, group in ways.items()]
    if more := sum(len(group) for group in list(ways.values())[_WAYS:]):
        verb = "names" if more == 1 else "name"
        them = "it" if len({c for found in ways for c, _ in found}) == 1 else "them"
        lines[_WAYS:] = [f"{numbered(more, 'more input')} {verb} {them} at other indices"]
    return f"{'; '.join(lines)} {AN_INDEX}" if lines else ""


#: the most ways of naming a channel by its digits :func:`_named_by_digits` says
_WAYS = 2


def _header_names(path: str | os.PathLike, have: int) -> tuple[str, ...]:
    """:func:`_names` of ``path``, a TIFF's from its header read for the checks
    (:func:`_tiff_header`: s73, each input's names would open it again)."""
    if not is_tiff_name(path):
        return _names(path, have)
    names = () if (header := _tiff_header(path)) is None else header.names
    return names if len(names) == have else ()


def _which(group: list, paths: Sequence) -> str:
    """The inputs of ``group`` (among ``paths``) as a line names them: ``each`` (all),
    ``a.ome.tif``, ``each of 2 inputs (a.ome.tif, ...)``."""
    if len(group) == len(paths):
        return "each"
    return str(group[0]) if len(group) == 1 else f"each of {len(group)} inputs ({group[0]}, ...)"


def _bound_read(path, axes: str | None, takes: Takes | None) -> tuple[int, bool] | None:
    """:func:`_channel_bound` of ``path`` read with the axes prediction reads it with
    (:func:`_looked`) where the model's ``takes`` are known, else with ``axes``."""
    if takes is None:
        return _channel_bound(path, axes)
    looked = _looked(path, axes, takes)
    return None if looked is None else looked[0]


def _highest_band(channel) -> int | None:
    """The highest channel index ``channel`` reads (an index, or a band list: a tuple or
    list of indices); None where that needs no header (channel 0, a name, none)."""
    bands = channel if isinstance(channel, (tuple, list)) else (channel,)
    if not bands or not all(isinstance(b, int) and not isinstance(b, bool) for b in bands):
        return None
    return max(bands) if max(bands) >= 1 else None


def _given(channel) -> Spelled:
    """``channel`` as the caller gave it: ``channel=5`` / ``--channel 5``, a band list
    ``channel=[3, 2, 1]`` / ``--channel 3 2 1``."""
    if isinstance(channel, (tuple, list)):
        bands = [int(b) for b in channel]
        return Spelled(CHANNEL_AS.python.format(bands), CHANNEL_AS.cli.format(spaced(bands)))
    return Spelled(CHANNEL_AS.python.format(channel), CHANNEL_AS.cli.format(channel))


class _Listed(NamedTuple):
    """How many bands a band list names (0: one channel was given), and how many channels
    the model takes (None: not known before it loads)."""

    bands: int
    model: int | None


class _Bound(NamedTuple):
    """The most channels of some inputs, whether each header gave its count exactly (no
    pages, which may be planes as well as channels, or a channel axis its header states:
    :func:`_channel_bound`), and whether each has that count exactly (``same``: inputs of 3
    channels each were said to "have at most 3", s59)."""

    most: int
    exact: bool
    same: bool = False


def _out_of_range(
    words, top: int, paths: Sequence, bound: _Bound, *, others: bool, listed: _Listed
) -> str:
    """``--channel 5 is out of range: all 2 inputs (a.png, ...) have at most 3 channels
    (valid: --channel 0 to 2); ...`` in the spelling of ``words`` (``form``:
    :data:`CHANNEL_AS`'s, ``given``: the channel as given: :func:`_given`); a band list's
    ``--channel 3 2 1: band 3 is out of range: ...``; no range where the count is a bound
    (pages times channels: review s54 C6 said 'valid: 0 to 5' of files of 2 channels in 3
    planes); no range either where the inputs have fewer channels than the ``listed`` bands
    or the model takes (distinct: no list of as many fits; a 3-channel model refused
    'valid: --channel 0', revE)."""
    form, most, given = words["form"], bound.most, words["given"]
    bands = listed.bands > 0  # a band list
    lead = f"{given}: band {top} is" if bands else f"{given} is"
    which, count = _holders(paths, bound), f"{most} channel" + ("s" if most > 1 else "")
    if not bound.exact:
        its, it, has = ("its", "it", "has") if len(paths) == 1 else ("their", "they", "have")
        fix = f"give the index of a channel {it} {has}"
        said = f"{which} {count} ({its} pages counted as channels)"
    elif bands and (most < listed.bands if listed.model is None else listed.model > most):
        said, fix = _too_few_for_bands(f"{which} {count}", most, listed, form)
    else:  # a model of as many channels as they have, or fewer, takes a list of theirs
        valid = form.format(0) if most == 1 else f"{form.format(0)} to {most - 1}"
        alone = f"leave {form.format('').strip()} out for images of one channel"
        fix = alone if most == 1 else f"give {'bands among' if bands else 'one of'} those"
        if bands and most > 1 and listed.model not in (None, listed.bands):
            fix = _model_bands(listed.model)
        said = f"{which} {count} (valid: {valid})"
    if others:  # leaving it out, or another channel, would change the other folders' run
        fix = f"the tree's other folders are predicted; predict this folder alone ({fix})"
    return f"{lead} out of range: {said}; {fix}"


def _model_bands(model: int) -> str:
    """The fix of a band list to a model of ``model`` channels, no more than the inputs have:
    ``give 2 bands among those (the model takes 2)``; a 1-channel model's ``give one of
    those`` (s56 review F1: 'give 1 bands among those')."""
    if model == 1:
        return "give one of those (the model takes 1 channel)"
    return f"give {model} bands among those (the model takes {model})"


def _too_few_for_bands(which: str, most: int, listed: _Listed, form: str) -> tuple[str, str]:
    """What the inputs are and the fix, where they have ``most`` channels, fewer than the
    model takes (the bands ``listed`` as many or fewer: s56 review F1 told a 4-channel
    model's list to give 4 bands of 3 channels), or than the bands listed where it is not
    known: no range of bands to give, nor a shorter list, which that model refuses (s56:
    "list at most 2 bands" was). A model not known yet may take fewer: both fixes, each for
    its model (s56 review B: a 2-channel model was told to be one of 2 channels or fewer)."""
    need = listed.model or listed.bands
    if most == 1:
        said = f"{which} (grey), and {need} bands are for a {need}-channel model"
        leave = f"leave {form.format('').strip()} out (a grey image's channel is repeated)"
        return said, f"give colour inputs, predict them with a 1-channel model, or {leave}"
    if listed.model is None:
        said = f"{which}, fewer than the {need} bands listed"
        fix = f"give inputs of {need} channels or more (for a {need}-channel model), or list"
        return said, f"{fix} at most {most} bands (for a model of {most} channels or fewer)"
    whose = (
        f"bands listed (a {need}-channel model's)" if need == listed.bands else "the model takes"
    )
    said = f"{which}, fewer than the {need} {whose}"
    fix = f"give inputs of {need} channels or more, or predict them with a model of {most}"
    return said, f"{fix} channels or fewer (no list of theirs feeds a {need}-channel one)"


def _holders(paths: Sequence, bound: _Bound) -> str:
    """Which inputs have the channels of ``bound``: ``the input, a.png, has (at most)`` or
    ``all 2 inputs (a.png, ...) have (at most)``: at most unless each has that count."""
    if len(paths) == 1:
        return f"the input, {paths[0]}, has" + ("" if bound.exact else " at most")
    many = " at most" if bound.most > 1 and not bound.same else ""
    return f"all {len(paths)} inputs ({paths[0]}, ...) have{many}"


def _header_bound(letters: str, shape: tuple, *, stated: bool) -> tuple[int, bool]:
    """:func:`_channel_bound` of a TIFF or Zarr of axes ``letters`` (:func:`tiff_layout`'s,
    a slide's layout) and ``shape``: its channels (a palette TIFF's one: its indices, as
    prediction reads it), times its pages unless its channel axis is ``stated`` by its
    header, then exact."""
    channels = math.prod(n for a, n in zip(letters, shape) if a == "C")
    pages = math.prod(n for a, n in zip(letters, shape) if a == "P")
    return (channels, True) if stated else (channels * pages, pages == 1)


class _Header(NamedTuple):
    """What the checks read of a TIFF's header (:func:`_tiff_header`)."""

    #: its axes letters and shape (:func:`~unetlab.data.io.tiff_layout`)
    letters: str
    shape: tuple
    #: the channel names it records (:func:`~unetlab.data.tiffmeta.names_in`), for the
    #: lines that list them: read in the same open (s73: each input's, a second open)
    names: tuple[str, ...]


def _tiff_header(path: str | os.PathLike) -> _Header | None:
    """A TIFF's :class:`_Header`, for a look; None where tifffile cannot read it (its own
    line comes as the file is read). Read once within :func:`headers_read_once`, whatever
    axes it is then counted with."""
    return _HEADERS.read(("header",), path, lambda: _header_read(path))


def _header_read(path: str | os.PathLike) -> _Header | None:
    """:func:`_tiff_header`, read now."""
    try:
        with open_tiff(path) as tif:
            return _Header(*tiff_layout(tif), _names_in(tif))
    except Exception:  # noqa: BLE001 - tifffile's parser on corrupt bytes raises nearly
        # anything (ZeroDivisionError, struct.error, RuntimeError: tests/test_fuzz.py, s57 CI)
        return None


def _names_in(tif) -> tuple[str, ...]:
    """:func:`~unetlab.data.tiffmeta.names_in` of ``tif``; none where its metadata cannot
    be read (its axes and shape still can: :func:`_header_read`)."""
    try:
        return tuple(names_in(tif))
    except Exception:  # noqa: BLE001 - as _header_read: a corrupt OME-XML or ImageJ header
        return ()


def _channel_bound(path: str | os.PathLike, axes: str | None = None) -> tuple[int, bool] | None:
    """(the most channels ``path`` may be read as, from its header, whether that is its
    channel count exactly: it has one page, or its pages are channels by its header), or
    None where the header cannot say (not a file, a broken one: for its own line). The most
    is its pages times the channels of each (pages may be a multi-channel model's channels,
    or channels by ``--axes``), 3 a colour picture's (its alpha dropped). A TIFF whose header
    states a channel axis beside its pages (an ImageJ hyperstack's ``channels``: ZCYX) has
    those channels exactly, its pages planes (3 planes of 2 channels were said to have 'at
    most 6': s54), unless ``axes`` (``--axes``) read it otherwise; an OME-Zarr's ``c``
    axis too. Its reads kept within :func:`headers_read_once` (:func:`_tiff_header`,
    :func:`_other_bound`), whatever axes it is counted with."""
    if is_tiff_name(path) and (header := _tiff_header(path)) is not None:
        letters, shape, _ = header
        try:
            if axes is not None:  # read as given: an ImageJ stack's 5 pages, ZYX, are planes
                return _header_bound(given_letters(axes, shape, path), shape, stated=True)
        except (UnetlabError, ValueError, LookupError, TypeError):
            return None
        return _header_bound(letters, shape, stated="C" in letters)
    return _HEADERS.read(("other",), path, lambda: _other_bound(path))


def _other_bound(path: str | os.PathLike) -> tuple[int, bool] | None:
    """:func:`_channel_bound` of a Zarr or a picture (PNG, JPEG, ...), read now; None for
    a TIFF whose header cannot be read, or what is not a file."""
    try:
        if is_zarr(path):  # --axes is for TIFFs alone
            layout = zarr_layout(path)
            return _header_bound(layout.axes, layout.shape, stated="C" in layout.axes)
        if not Path(path).is_file() or Path(path).suffix.lower() in TIFF_SUFFIXES:
            return None
        pages = stack_shape(path)[0]
        return pages * (3 if colour_file(path) else 1), pages == 1
    except (UnetlabError, OSError, ValueError, LookupError, TypeError):
        return None

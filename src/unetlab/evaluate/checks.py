"""Refusals before or after reading: arguments out of range or contradicting each other
(:func:`check_evaluation`; object options where no object is scored:
:func:`check_objects_scored`), and masks or predictions whose values are not the class indices
they are read as (label values, an unmapped ignore value, object ids: :class:`MaskValuesError`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from unetlab.data.fingerprint import one_file_values
from unetlab.data.instances import looks_like_instances
from unetlab.data.tiff_files import is_tiff_name
from unetlab.errors import DatasetError, MadeAgain, Spelled, UnetlabError, spelled
from unetlab.progress import checked
from unetlab.words import first_listed, numbered, spaced, worded

#: without label values, a mask's own no-data value from this one up (and a negative one) is
#: no class index, so its pixels are no-data (255: what ``unetlab predict`` and the ISBI
#: labels write); below it the value is a class (GDAL_NODATA=0 on a 0/1 label GeoTIFF), and
#: one no class has is refused naming the file's tag (:func:`check_named_nodata`). Here, not
#: in :mod:`~unetlab.evaluate.masks` (which reads by it): masks imports this module
NO_CLASS_FROM = 255

#: a predicted value from this one up is no class index of a model beside masks of a few
#: classes (a label value: another tool's 0/128 or 0/255 map; or an object id); one below it
#: that no mask holds may be a class the masks lack (a 3-class model's 2 beside 0/1 masks)
CLASS_INDEX_BELOW = 65

#: the command that saves object ids, as each caller runs it
MADE_OBJECTS = Spelled("predict_folder(..., objects=True)", "unetlab predict --instances")
#: ... and how masks of object ids score them
SCORED_AS_IDS = Spelled(
    "evaluate_predictions(..., gt_instances=True)", "evaluate --pred --gt-instances"
)


class MaskValuesError(MadeAgain, DatasetError):
    """Masks read as class indices that hold label values or an unmapped ignore value. The
    message names the fix as Python keywords (``label_values=[0, 255]``); ``cli`` is the
    same message with the command line's flags (``--label-values 0 255``)."""

    def __init__(self, message: str, cli: str):
        super().__init__(message, cli=cli)
        self.how = (message, cli)  # pickled as made (MadeAgain)


class TooManyClasses(MaskValuesError):
    """A class map's value too large for a class index (:func:`too_many_classes`), refused
    before its confusion table is made; a refusal of what the folder's values are
    (:meth:`~unetlab.evaluate.predictions._ValueStats.check`) goes first where one fits."""


#: a predicted value from this one up is no class index read: its confusion table (one per
#: image, of that many classes and one more, squared) would not fit (review s69: a 0/65535
#: map asked for 32 GiB and was told "this is a bug in unetlab")
CLASSES_AT_MOST = 1024


def too_many_classes(top: int, place: tuple[str, int, int]) -> TooManyClasses:
    """The refusal of a class map's value ``top``, on ``place`` (its file, page, pages)."""
    file, page, pages = place
    said = (
        f"{file if pages == 1 else f'{file} page {page}'} holds {top}, read as a class "
        f"index: {top + 1} classes, too many to score (values from {CLASSES_AT_MOST} up "
        "are no class index); save the predictions as class indices"
    )
    fix = "if they are object ids, or name the files <stem>_objects.tif"
    return TooManyClasses(
        f"{said}, or pass pred_instances=True {fix}", cli=f"{said}, or pass --pred-instances {fix}"
    )


def check_ids_as_classes(
    values: np.ndarray, predicted: tuple[int, int], named: int, wide: bool
) -> None:
    """Refuse masks or predictions of object ids read as class indices (a forgotten
    ``gt_instances`` / ``pred_instances``): masks whose values look like ids
    (:func:`unetlab.data.instances.looks_like_instances`: over 16 values in 16-bit masks, or
    over 256) and number over 4 times the predicted classes; predictions with more values
    in one image than 64 and 4 times the masks' classes.

    ``values``: the sorted mask values present (empty when the classes are given);
    ``predicted``: the largest predicted value, and the most values of one prediction (0
    when the largest is at most 64); ``named``: how many classes are given or
    named by the data set (0: none); ``wide``: some mask is stored with over 8 bits.
    Raises :class:`MaskValuesError`. Beside predicted object ids, masks that look like ids
    are read as ids before scoring (``evaluate_predictions``, by :func:`ids_by_values`).
    """
    (pred_max, pred_values), top = predicted, int(values[-1]) if values.size else -1
    if ids_by_values(values, pred_max, named, wide):
        said = (
            f"the masks hold {values.size} values ({values[0]}..{top}) but the predictions "
            f"class indices 0..{pred_max}: the masks look like object ids (instance masks)"
        )
        raise MaskValuesError(
            f"{said}; pass gt_instances=True to score them as objects",
            cli=f"{said}; pass --gt-instances to score them as objects",
        )
    classes = named or top + 1
    if pred_values > max(64, 4 * classes):
        said = (
            f"the predictions hold values up to {pred_max} but the masks {classes} classes: "
            "the predictions look like object ids"
        )
        fix = "or name the files <stem>_objects.tif, as predict --instances does"
        raise MaskValuesError(
            f"{said}; pass pred_instances=True to score them as objects ({fix})",
            cli=f"{said}; pass --pred-instances to score them as objects ({fix})",
        )


def ids_by_values(values: np.ndarray, pred_max: int, named: int, wide: bool) -> bool:
    """Whether masks of the sorted ``values`` look like object ids beside predictions of
    class indices up to ``pred_max`` (:func:`check_ids_as_classes`' rule: ids by
    :func:`~unetlab.data.instances.looks_like_instances`, over 4 times the predicted classes,
    and beyond the ``named`` classes); ``wide``: some mask is stored with over 8 bits."""
    top = int(values[-1]) if values.size else -1
    ids = looks_like_instances(values.tolist(), wide=wide, folder_named=False)
    return ids and values.size > 4 * (pred_max + 1) and top >= named


def check_one_file_values(files: Mapping[str, Iterable[int]], known: int) -> None:
    """Refuse mask values found in one of the mask ``files`` only (``{file: the values its
    masks hold}``, read as class indices; three files or more:
    :func:`~unetlab.data.fingerprint.one_file_values`, training's rule) that are no class
    index below ``known`` (the predicted classes, or those named): a file in another
    encoding (0/128/255 among 0/1/2 masks) or with stray marks, which would be scored as
    classes of their own (s37: one mask's 2 among 0/1 masks was a third class, object
    scores left out). A class in one file only is no error here (a test set's rare class):
    a predicted or named one is not refused. Raises :class:`MaskValuesError` naming the
    files."""
    lonely = {v: name for v, name in one_file_values(files.items()).items() if v >= known}
    if not lonely:
        return
    held: dict[str, list[str]] = {}
    for value, name in lonely.items():
        held.setdefault(name, []).append(str(value))
    where = " and ".join(f"{name} holds {' '.join(values)}" for name, values in held.items())
    said = (
        f"{worded(len(lonely), 'mask value')} found in one of the "
        f"{numbered(len(files), 'mask file')} only and in no class of "
        f"the predictions (class indices 0..{known - 1}): {where}: a mask in another "
        "encoding (0/255 among 0/1) or with stray marks? fix that mask, or give"
    )
    value = min(lonely)
    py, cli = ["class_names=[...]"], ["--class-names"]
    if len(lonely) == 1:
        py, cli = [f"ignore_value={value}", *py], [f"--ignore-value {value}", *cli]
    fixes = "{} if its pixels count nowhere, " * (len(lonely) == 1) + (
        "{} to score it as a class, {} if the masks hold object ids"
    )
    raise MaskValuesError(
        f"{said} {fixes.format(*py, 'gt_instances=True')}",
        cli=f"{said} {fixes.format(*cli, '--gt-instances')}",
    )


def check_named_nodata(classed: Mapping[Path, float], known: int) -> None:
    """Refuse a mask file whose own no-data tag (GDAL_NODATA, a PNG's text key ``nodata``)
    names a value its masks hold read as a class index (``classed``: those files and
    values; below :data:`NO_CLASS_FROM`, no label values: a class by the rule that decides by
    the value alone, as GDAL_NODATA=0 marks a 0/1 label
    GeoTIFF's background), yet no class below ``known`` (the predicted or named ones): a
    model's predictions of ``ignore_value`` 100 kept as masks were told --ignore-value 100
    (or that 2 classes are named) without a word of the tag (s55). Raises
    :class:`MaskValuesError` naming the file, the value, its tag and the fix."""
    for path, value in classed.items():
        if value < known:
            continue
        v, tag = int(value), tag_name(path)
        said = (
            f"{path}: its {tag} names {v} no-data, but without label values a mask value below "
            f"{NO_CLASS_FROM} is a class index whatever a file's tag says, and {v} is no class "
            f"here (class indices 0..{known - 1}, predicted or named): give "
        )
        fix = "{} to count its pixels nowhere, or {} (the mask value of each class, not it)"
        raise MaskValuesError(  # the path is no format string: a folder may hold braces
            said + fix.format(f"ignore_value={v}", "label_values=[...]"),
            cli=said + fix.format(f"--ignore-value {v}", "--label-values"),
        )


def _or_unlisted(value: int, label_values: Sequence[int], name) -> str:
    """The other fix of ``value``, an ignore value among ``label_values``: leaving it out of
    them, where two classes or more stay (else that is refused as one class)."""
    if len(label_values) < 3:
        return ""
    return f", or {value} from {name('label_values')} to score it nowhere"


def tag_name(path: Path) -> str:
    """The tag by which the label image ``path`` names its no-data value, as lines say it."""
    return "GDAL_NODATA tag" if is_tiff_name(path) else "text key nodata"


def check_model_classes(values: np.ndarray, classes: Sequence[str], name: str) -> None:
    """Refuse the mask ``name`` whose ``values`` (read as class indices: a checkpoint without
    label values; the ignored value left out) go beyond the model's ``classes``, naming the
    file (it was refused once every image was predicted, without naming it, or for 16-bit
    object ids told to give --label-values, which --checkpoint refuses: s37). Raises
    :class:`MaskValuesError`."""
    extra = np.unique(values[values >= len(classes)])
    if not extra.size:
        return
    shown = spaced(extra, 6)
    said = (
        f"{name}: {worded(extra.size, 'mask value')} {shown} "
        f"{worded(extra.size, 'is', 'are')} no class of the checkpoint (class indices "
        f"0..{len(classes) - 1}: {', '.join(classes)}): fix that mask (another encoding? "
        "stray marks?)"
    )

    def told(ignore: str, scored: str, made: str) -> str:
        # the path and the class names go in whole, never through str.format: a folder
        # "run {1}" raised ValueError, told "this is a bug" (s56 review E)
        also = (
            f", or give {ignore}{extra[0]} if its pixels count nowhere" if extra.size == 1 else ""
        )
        return (
            f"{said}{also}; masks of object ids are scored against a nuclei (instance) model, "
            f"or with {scored} after {made}"
        )

    raise MaskValuesError(
        **spelled(
            told,
            Spelled("ignore_value=", "--ignore-value "),
            SCORED_AS_IDS,
            MADE_OBJECTS,
        )
    )


def check_class_indices(values: np.ndarray, pred_max: int, *, objects: bool = False) -> None:
    """Refuse masks that hold label values (0/255) or an unmapped ignore value (VOC's 255)
    read as class indices: values beyond every predicted class, with a gap below them.

    ``values``: the sorted mask values present; ``pred_max``: the largest predicted index;
    ``objects``: the predictions scored are object ids' foreground (background 0, object
    1), not the class maps beside them (an instance model's 0..2, s49: said 'class indices
    0..1' of PNGs holding 0..2). Raises :class:`MaskValuesError`, its fix in Python terms
    and in the CLI's.
    """
    if not (values.size and values[-1] > pred_max and values.size < values[-1] + 1):
        return
    shown = [str(v) for v in values[:12]] + (["..."] if values.size > 12 else [])
    predicted = f"hold class indices 0..{pred_max}"
    if objects:
        predicted = "hold object ids, scored as background (0) and object (1)"
    said = f"the masks hold values {' '.join(shown)} but the predictions {predicted}"
    extra = values[values > pred_max]
    indices = values.size - extra.size  # values that could be class indices 0..k
    every = values.size > pred_max + 1 and values[indices - 1] == indices - 1
    if values[0] == 0 and (every or (extra.size == 1 and indices > 1)):
        # 0..k, plus a stray value or a few: VOC's 255 border is the usual one; or some of
        # 0..k (a test set without a rare class) and one value beyond: no label values
        # (s51 scene255: 0 1 2 4 5 6 7 8 10 255 was told --label-values of those 10 values)
        above = spaced(extra, 6)
        fix = "give {} if it marks pixels that count nowhere"
        if extra.size > 1:
            fix = f"values {above} are above every class: map them to class indices"
        py, cli = f"ignore_value={extra[0]}", f"--ignore-value {extra[0]}"
    else:
        fix = "pass the mask value of each class: {}"
        py, cli = f"label_values=[{', '.join(shown)}]", f"--label-values {' '.join(shown)}"
    # object ids' foreground is no class map: class names do not apply (s49 review1)
    names = "" if objects else " (or {} if the masks do hold class indices)"
    raise MaskValuesError(
        f"{said}; {fix.format(py)}{names.format('class_names=[...]')}",
        cli=f"{said}; {fix.format(cli)}{names.format('--class-names')}",
    )


def check_binary_values(
    values: np.ndarray,
    pred_tops: Mapping[int, object] | None,
    ignored: int | None = None,
    zeros=(0, 0),
) -> None:
    """Refuse binary masks of 0 and one value over 1 (0/255) scored against predictions of
    the same two values, both read as class indices: a table of 256 classes, and no object
    scores (s36 flags 4); ``--label-values 0 255`` scores them as two classes. So too where
    the masks' 0 is the ``ignored`` value and leaves them one class (:func:`_one_class_left`).

    ``values``: the sorted mask values present (the ignored one left out); ``pred_tops``:
    the one foreground value of each binary prediction, its keys (None: some prediction is
    not binary); ``zeros``: the pixels holding 0 in the masks and in the
    predictions. Raises :class:`MaskValuesError`."""
    if ignored == 0 and values.size == 1 and all(zeros):
        # decided by the masks: a stray predicted value (review s65, C) or 0/1 masks (B) too
        raise MaskValuesError(**_one_class_left(int(values[0])))
    if pred_tops is None or values.size != 2 or values[0] != 0 or values[1] < 2:
        return
    if set(pred_tops) != {int(values[1])}:
        return
    said = (
        f"the masks and the predictions hold 0 and {values[1]}, read as class indices "
        f"0..{values[1]} ({values[1] + 1} classes, no object scores)"
    )
    raise MaskValuesError(
        f"{said}: pass label_values=[0, {values[1]}] to score them as two classes",
        cli=f"{said}: give --label-values 0 {values[1]} to score them as two classes",
    )


#: a map's page: its file, the page and how many pages the file has
MapPage = tuple[str, int, int]


def check_binary_predictions(
    values: np.ndarray,
    pred_tops: Mapping[int, Sequence[MapPage]] | None,
    ignored: int | None = None,
) -> None:
    """Refuse binary predictions of 0 and a value that is no class index of a model
    (:func:`_foreign_tops`: another tool's 0/255 map) beside masks of class indices 0 and
    1: that value was scored as a class of no mask and the masks' 1 as never predicted
    (review s68: three classes, rc 0, mIoU 0.3084 where the maps saved 0/1 score 0.9315;
    its table told to give --label-values, which reads the masks by those values too and
    refuses their 1). The reverse of :func:`check_class_indices`' 0/255 masks beside 0/1
    predictions. The folder's binary maps are judged as one: those of such a value among
    others are refused naming them, each value's (:func:`_foreign_maps`; s69: 0/255 maps
    among 0/1 maps were scored as a class 255).

    ``values``: the sorted mask values present (the ignored one left out); ``pred_tops``:
    the one foreground value of each binary prediction, with its maps' pages (None: some
    prediction is not binary); ``ignored``: the masks' ignore value, whose predicted pixels
    :func:`check_void_predicted` judges. Raises :class:`MaskValuesError`."""
    if pred_tops is None or values.tolist() != [0, 1] or ignored in pred_tops:
        return
    foreign = _foreign_tops(set(pred_tops))
    if len(pred_tops) > 1 or not foreign:
        if foreign:
            raise MaskValuesError(**_foreign_maps(pred_tops, foreign))
        return
    (top,) = foreign
    raise MaskValuesError(
        **spelled(
            lambda given, named: (
                f"the predictions hold 0 and {top} but the masks hold class indices 0 and 1: "
                f"{top} would score as a class of no mask, 1 as never predicted; save the "
                f"predictions as class indices, each {top} as 1{_saved_as_ones(top, given, named)}"
            ),
            Spelled(f"label_values=[0, {top}]", f"--label-values 0 {top}"),
            Spelled("class_names=[...]", "--class-names"),
        )
    )


def _saved_as_ones(top: int, given: str, named: str) -> str:
    """The rest of the fix of a lone binary map of 0 and ``top`` beside masks of 0 and 1
    after "save each as 1": why not the label values ``given`` (``--label-values 0 255``),
    and the class names (``named``) where ``top`` may be a model's class (below
    :data:`CLASS_INDEX_BELOW`), else how to save it (s70: 0/255 maps were told to give
    --class-names, which makes no 255 a class of two)."""
    why = f"{given} reads the masks by those values too and refuses their 1"
    if top < CLASS_INDEX_BELOW:
        return f" ({why}), or give {named} if {top} is a class index"
    return f" (pred // {top} in NumPy, Process > Math > Divide by {top} in Fiji); {why}"


def _foreign_tops(tops: set[int]) -> list[int]:
    """The binary maps' foreground values (``tops``) that are no class index beside masks
    of 0 and 1: each from :data:`CLASS_INDEX_BELOW` up (a label value, 0/255), and a lone
    value over 2 below it beside none but 1 (review s69: 0/64 maps were scored as 65
    classes, a 3-class model's 0/2 maps are); several below it are a model's classes."""
    labels = {top for top in tops if top >= CLASS_INDEX_BELOW}
    below = tops - labels - {1}
    return sorted(labels | (below if len(below) == 1 and 2 not in below else set()))


def _foreign_maps(pred_tops: Mapping[int, Sequence[MapPage]], foreign: list[int]) -> dict:
    """The refusal (:func:`spelled`'s keywords) of the binary maps of the ``foreign``
    values among the folder's others (``pred_tops``), naming each value's maps."""
    named = [_held_by(pred_tops[top], top) for top in foreign]
    tops = " or ".join(map(str, foreign))
    it = "it" if len(named) == 1 and named[0][1] else "them"
    others = ", as the others are" if len(foreign) < len(pred_tops) else ""
    indices = foreign[0] < CLASS_INDEX_BELOW  # may be a model's class (0/64 maps), the one
    return spelled(
        lambda names: (
            f"{'; '.join(n for n, _ in named)}, beside masks of class indices 0 and 1: {tops} "
            f"would score as {'a class' if len(foreign) == 1 else 'classes'} of no mask, 1 "
            f"as never predicted there; save {it} as class indices, each {tops} as 1{others}"
            + (f", or give {names} if {foreign[0]} is a class index" if indices else "")
        ),
        Spelled("class_names=[...]", "--class-names"),
    )


def _held_by(pages: Sequence[MapPage], top: int) -> tuple[str, bool]:
    """(``a.png, b.png hold 0 and 255``, whether one map or page holds it): the maps of
    ``pages``, a file named whole where each of its pages is among them, else its pages
    (``st.tif page 2 holds 0 and 255``: review s69, a stack was named as its own other)."""
    files: dict[tuple[str, int], list[int]] = {}
    for file, page, count in pages:
        files.setdefault((file, count), []).append(page)
    names, one = [], len(files) == 1
    for (file, count), held in files.items():
        whole = len(held) == count
        one &= whole or len(held) == 1
        names.append(file if whole else f"{file} {worded(len(held), 'page')} {spaced(held)}")
    return f"{first_listed(names, 3)} {'holds' if one else 'hold'} 0 and {top}", one


def check_void_predicted(counts: Sequence[int], value: int | None, maps: Sequence[Path]) -> None:
    """Refuse class maps holding the masks' ignore ``value`` as a class, not as void: the
    masks hold none of it, or under half of its predicted pixels fall where the masks ignore
    theirs (review s65: a Fiji 0/255 foreground map beside 0/1 masks ignoring 255 scored
    mIoU 0.32, said as the model predicting void). ``counts``: the masks' pixels of
    ``value``, the predicted ones, those of them where the masks ignore; ``maps``: the
    class maps holding it. Raises :class:`MaskValuesError` naming the fix: the maps written
    in the masks' values (s65 re-read: scoring the value as a class, or without
    ``--ignore-value``, gave the low score this refuses)."""
    masks, held, placed = counts
    if value is None or not held or (masks and 2 * placed >= held):
        return
    where = f"{placed:,} where the masks hold it" if placed else "none where the masks hold it"
    if not masks:
        where = f"the masks hold no {value}"
    files = f"{maps[0]}" + (f" (and {numbered(len(maps) - 1, 'map')} more)" if maps[1:] else "")
    raise MaskValuesError(
        **spelled(
            lambda ignore: (
                f"{files} holds {value}, the masks' ignore value ({ignore}), on {held:,} "
                f"pixels, {where}: that {value} is a class, not void (another tool's 0/{value} "
                f"map?); write the maps in the masks' class values, each {value} as the class "
                "it marks (scored as a class or as void, it scores low)"
            ),
            Spelled(f"ignore_value={value}", f"--ignore-value {value}"),
        )
    )


def _one_class_left(value: int) -> dict:
    """The refusal of masks of 0 and ``value`` whose 0 is the ignore value, scored against
    predictions holding 0: the masks' one class left, every pixel scored is ``value``, its
    IoU only its recall, and a predicted 0 a class of no mask beside it (review s64: mIoU
    0.4375 of 0/255 masks with --ignore-value 0, 0.9175 with --label-values 0 255). Said
    as each caller types it (:func:`~unetlab.errors.spelled`)."""
    return spelled(
        lambda ignored, ignore, values: (
            f"the masks hold 0 and {value}, and {ignored} leaves them one class, {value}, "
            f"where the predictions hold 0 too: 0 predicted would score as a class of no "
            f"mask, {value} predicted on the masks' 0 nowhere; give {values} without {ignore} "
            f"to score 0 as a class beside {value}"
        ),
        Spelled("ignore_value=0", "--ignore-value 0"),
        Spelled("ignore_value", "--ignore-value"),
        Spelled(f"label_values=[0, {value}]", f"--label-values 0 {value}"),
    )


def check_evaluation(
    *,
    worst: int = 5,
    ignore_value: int | None = None,
    label_values: Sequence[int] | None = None,
    thresholds: Sequence[float] | None = None,
    seed_threshold: float | None = None,
    names: Mapping[str, str] | None = None,
    progress=None,
) -> None:
    """Refuse arguments of :func:`evaluate_model` and :func:`evaluate_predictions` that are
    out of range or contradict each other, before anything is read (UnetlabError naming the
    fix): ``worst`` below 0, an ``ignore_value`` that is also one of the ``label_values``,
    a ``seed_threshold`` without ``thresholds`` or outside [0, 1], a ``progress`` that is
    neither a bool nor a function (:func:`~unetlab.progress.checked`). ``names``: what the
    messages call each argument (the command line: its flags); by default its keyword."""

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    if worst < 0:
        raise UnetlabError(f"{name('worst')} must be 0 or more images, not {worst}")
    checked(progress, "each image's name")
    _check_distinct(label_values, name("label_values"))
    if ignore_value is not None and ignore_value in (label_values or ()):
        raise UnetlabError(
            f"{name('ignore_value')} {ignore_value} is also one of {name('label_values')}: a "
            f"value is either a class or ignored: drop {name('ignore_value')} to score "
            f"{ignore_value} as a class{_or_unlisted(ignore_value, label_values, name)}"
        )
    if seed_threshold is None:
        return
    if thresholds is None:
        raise UnetlabError(
            f"{name('seed_threshold')} splits cells at each level of {name('thresholds')}: "
            f"add {name('thresholds')} or drop {name('seed_threshold')}"
        )
    if not 0.0 <= seed_threshold <= 1.0:
        raise UnetlabError(
            f"{name('seed_threshold')} is a probability in [0, 1], not {seed_threshold}"
        )


def int_values(values, name: str) -> list[int] | None:
    """``values`` (None, or any sequence or 1-D array of integers: ``np.unique(mask)``, whole
    floats too: ``np.unique`` of a float mask, [0.0, 255.0], taken before s53) as a list of
    ints; UnetlabError naming ``name`` and the form it takes for anything else (NaN, 0.5,
    bools)."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.ndim == 1 and array.dtype.kind == "f" and _whole(array):
        array = array.astype(np.int64)
    if array.ndim != 1 or array.size and array.dtype.kind not in "iu" or _bools(values):
        raise UnetlabError(
            f"{name} must be a list of integers, the mask value of each class in class order "
            f"(e.g. [0, 255] or np.unique(mask)), not {values!r}"
        )
    return [int(v) for v in array]


def _whole(array: np.ndarray) -> bool:
    """True where every value of the float ``array`` is a whole number an int64 holds."""
    return bool(np.all(np.isfinite(array) & (array == np.round(array)) & (abs(array) < 2**53)))


def _bools(values) -> bool:
    """True where the sequence ``values`` holds a bool (``[True, 2]``: numpy makes it ints)."""
    return not isinstance(values, np.ndarray) and any(
        isinstance(v, bool | np.bool_) for v in values
    )


def _check_distinct(label_values: Sequence[int] | None, name: str) -> None:
    """UnetlabError naming a mask value ``label_values`` gives to more than one class: the
    masks' pixels of the value were refused as of no class, the line blaming the mask and
    naming a config key (s52 badinput)."""
    values = list(label_values or ())
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:
        raise UnetlabError(
            f"{name} gives the mask value {twice} to more than one class ({values}): give "
            "each class its own value, in class order (e.g. 0 255)"
        )


def check_objects_scored(model, objects: bool | None, given: str, fix: str) -> None:
    """Refuse object options (``given``: their name, e.g. ``--min-area``) for ``model`` when
    its objects are not scored (``objects``, as asked: None for :func:`object_scores_wanted`'s
    default, which leaves out the objects of a model of more than two classes): they would
    change nothing. ``fix``: how to score them (``add --object-scores``)."""
    from unetlab.evaluate.accumulate import object_scores_wanted
    from unetlab.inference.objects import ObjectOptions

    if ObjectOptions.for_model(model).mode == "instances":  # its objects are always scored
        return
    classes = len(model.classes)
    if not object_scores_wanted(objects, classes, instances=False):
        raise UnetlabError(
            f"{given} would change nothing: a model of {classes} classes gets no object "
            f"scores unless asked: {fix}, or drop {given}"
        )


def check_folders(**folders) -> None:
    """UnetlabError in one line for a folder argument that is no path (an array: pathlib's
    TypeError before, audit s42 api), naming what scores arrays in memory where it is one
    (:func:`~unetlab.inference.files.is_pixels`; s52 fix1: said for None too)."""
    from unetlab.inference.files import check_path, is_pixels

    for name, value in folders.items():
        if is_pixels(value):
            raise UnetlabError(
                f"{name} must be a folder's path, not {type(value).__name__}: arrays in "
                "memory are scored with unetlab.ConfusionMatrix and unetlab.object_scores"
            )
        check_path(value, name, "a folder")

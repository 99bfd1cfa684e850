"""Outputs that need no net, drawn from the outputs an earlier run wrote (walk s50: an
overlay added to a finished folder with ``--skip-existing --overlay`` predicted every input
again).

With ``skip_existing``, an image read whole whose labels (and, with ``objects``, object
ids) this checkpoint and settings wrote in the output folder has them read back
(:func:`written_pages`) in place of the net's, and every output asked for is written from
them as a run that predicted it writes it: the overlay from the input and the labels (with
the objects' outlines), the objects' table and outlines from the ids; the same bytes.
Probabilities need the net, and so do stacks (their pages are staged), 3-D objects, images
with nodata or transparent pixels (the labels written there are no class): those are
predicted again, as the claim's line says. A slide read window by window has its overlay
drawn from its labels (and object ids) there window by window (:func:`slide_redrawable`),
as a run that predicts it draws it from the ids it writes; its outlines need the net. A
DICOM series' SEG is written from its NIfTI labels there (:func:`series_redrawable`, s74:
the series was predicted again for its SEG alone).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from unetlab.inference.measure import named_class
from unetlab.inference.output_rules import finished_outputs
from unetlab.inference.predict import index_dtype
from unetlab.inference.records import OutputOptions, Provenance

#: the kinds of output that are drawn from those there, without the net
DRAWN = ("overlay", "geojson", "rois", "seg")
#: where the claim's line says they are drawn (:func:`can_draw`), and where not
DRAWN_WHOLE = (
    "drawn from those there without the net where the image is read whole (a slide read "
    "window by window: its overlay)"
)
NOT_DRAWN = "a slide's outlines, a stack, an image read whole with nodata"


def again_said(missing: Sequence[str], outputs: OutputOptions, inputs: int) -> str:
    """What the claim's line says becomes of ``inputs`` inputs whose labels are there and
    the ``missing`` kinds of output not: drawn from those there (:func:`can_draw`), else
    predicted again; a DICOM series' SEG drawn where asked for beside its labels alone
    (:func:`series_redrawable`; s74 review: every PNG run's line named the SEG, and a
    series' with objects said 'drawn' and predicted it again)."""
    again = f"predicted again, all {'its' if inputs == 1 else 'their'} outputs"
    if outputs.wanted["seg"]:  # a run of DICOM series alone (seg_out.refuse_seg)
        alone = [kind for kind, on in outputs.wanted.items() if on] == ["seg"]
        its = "its SEG" if inputs == 1 else "their SEGs"
        return f"{its} drawn from the labels there without the net" if alone else again
    return (
        f"{DRAWN_WHOLE}; {again}, where not ({NOT_DRAWN})" if can_draw(missing, outputs) else again
    )


def can_draw(missing: Sequence[str], outputs: OutputOptions) -> bool:
    """Whether the ``missing`` kinds of output (``probabilities``, ``overlay``, ...) of an
    input whose labels are there can be drawn from the outputs there without the net: only
    drawn kinds, no probabilities asked for."""
    return not outputs.save_probabilities and set(missing) <= set(DRAWN)


def drawn_from(outputs: OutputOptions, *, slide: bool = False) -> list[str]:
    """The kinds of output (``labels``, ...) the others asked for in ``outputs`` are drawn
    from, kept as they are: the labels, and with ``objects`` their ids and table; a slide
    read window by window (``slide``) also its outlines where asked for (they need the net)."""
    objects = outputs.objects is not None
    kinds = ["labels", "objects", "table"] if objects else ["labels"]
    outlines = [kind for kind in ("geojson", "rois") if outputs.wanted[kind]]
    return kinds + (outlines if slide and objects else [])


def redrawable(
    paths: dict[str, Path], path: Path, outputs: OutputOptions, record: Provenance, invalid: list
) -> bool:
    """Whether the outputs of the one-page image ``path`` are drawn from those ``record``
    wrote at ``paths`` (its outputs' places: the module's description): no ``invalid``
    pixels, and :func:`_there`."""
    if len(invalid) != 1 or (invalid[0] is not None and invalid[0].any()):
        return False
    return _there(paths, path, outputs, record)


def slide_redrawable(
    finals: dict[str, Path], path: Path, outputs: OutputOptions, record: Provenance
) -> bool:
    """Whether the overlay of the slide ``path`` (read window by window) is drawn from the
    outputs ``record`` wrote at ``finals`` (with its outlines where asked for: those need
    the net): an overlay asked for, and :func:`_there`."""
    return bool(outputs.draw_overlay) and _there(finals, path, outputs, record, slide=True)


def series_redrawable(
    paths: dict[str, Path], path: Path, outputs: OutputOptions, record: Provenance
) -> bool:
    """Whether the SEG of the DICOM series ``path`` is written from the NIfTI labels
    ``record`` wrote at ``paths``: the SEG asked for beside the labels alone (no
    probabilities, overlay nor objects), and :func:`_there`."""
    asked = [kind for kind, on in outputs.wanted.items() if on]
    return asked == ["seg"] and _there(paths, path, outputs, record)


def written_volume(
    labels: Path, values: Sequence[int] | None, classes: int
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The slices' class indices read back from the NIfTI label volume ``labels`` (written
    as the mask ``values``, or as indices: None), as :func:`written_pages` gives a page's,
    no object ids; None where it holds a value none of ``values`` is."""
    from unetlab.data.nifti import read_volume

    indices = decoded(read_volume(labels, mask=True), values)
    if indices is None:
        return None
    return list(indices.astype(index_dtype(classes))), []


def _there(
    paths: dict[str, Path], path: Path, o: OutputOptions, record: Provenance, *, slide=False
) -> bool:
    """Whether ``skip_existing``, no probabilities or 3-D objects asked for in ``o``, and
    the outputs of ``path`` the others are drawn from (:func:`drawn_from`) there at
    ``paths`` by ``record``, under these names (not those of another format: a PNG's labels
    for a TIFF input of the same stem)."""
    if not o.skip_existing or o.save_probabilities:
        return False
    objects = o.objects is not None
    if objects and o.objects_3d:
        return False
    out_dir = paths["labels"].parent
    made = finished_outputs(out_dir, [path], record=record, objects=objects).get(path, [])
    return all(paths[k].name in made for k in drawn_from(o, slide=slide))


def written_pages(
    labels: Path, objects: Path | None, values: Sequence[int] | None, classes: int
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The one page's class indices read back from the label image ``labels`` (written as
    the mask ``values``, or as indices: None) and its object ids from ``objects`` (None:
    none asked for), as the net gave them (indices uint8, uint16 above 256 ``classes``);
    None where the labels hold a value none of ``values`` is."""
    written = _read(labels)
    indices = decoded(written, values)
    if indices is None:
        return None
    ids = [] if objects is None else [_read(objects)]
    return [indices.astype(index_dtype(classes))], ids


def decoded(written: np.ndarray, values: Sequence[int] | None) -> np.ndarray | None:
    """Class indices of a label image ``written`` as the mask ``values`` (None: indices
    already), or None where it holds a value none of ``values`` is."""
    if values is None:
        return written
    index = {int(v): i for i, v in enumerate(values)}
    found, inverse = np.unique(written, return_inverse=True)
    if any(int(v) not in index for v in found):
        return None
    lut = np.array([index[int(v)] for v in found], dtype=np.int64)
    return lut[inverse].reshape(written.shape)


def _read(path: Path) -> np.ndarray:
    """A label or id image's one page, as written (a palette PNG's indices)."""
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile  # not at import: a predict of PNGs reads no TIFF (15 ms of its start)

        return tifffile.imread(path)
    with Image.open(path) as image:
        return np.asarray(image)


def table_counts(
    table: Path, pages: int, names: Sequence[str] | None = None
) -> tuple[list[int], dict, dict]:
    """(objects of each of ``pages`` pages, of each class, their areas in m² on a map) of
    the objects table ``table`` a run wrote (its ``page`` column, from 0, where it has one),
    as that run said them (:func:`~unetlab.inference.measure.class_counts`,
    :func:`~unetlab.inference.measure.class_areas`): counted row by row, never held (a
    slide's table of a million rows held whole took seconds and gigabytes). A table without
    ``class_name`` (an earlier version's) names its classes by the model's class ``names``
    (the index as text past them, as :func:`~unetlab.inference.measure.class_columns`)."""
    with open(table, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        tally = _Tally(next(rows, []), names or ())
        for row in rows:
            tally.add(row)
    return tally.counts(pages), tally.classes(), tally.areas()


class _Tally:
    """:func:`table_counts`' sums of the rows of a table whose first row is ``header``."""

    def __init__(self, header: list[str], names: Sequence[str]):
        at = {k: header.index(k) if k in header else None for k in _COUNTED}
        self.page, self.kind, self.name, self.area = (at[k] for k in _COUNTED)
        self.pages: Counter[int] = Counter()
        self.kinds: Counter[int] = Counter()  # objects of each class index
        self.names: dict[int, str] = {}  # each class index's name: its first row's
        self.known = [str(n) for n in names]  # the model's: a table without class_name
        self.m2: defaultdict[str, float] = defaultdict(float)  # area of each class name

    def add(self, row: list[str]) -> None:
        self.pages[0 if self.page is None else int(row[self.page])] += 1
        if self.kind is None:
            return
        kind = int(float(row[self.kind]))
        self.kinds[kind] += 1
        name = named_class(kind, self.known) if self.name is None else row[self.name]
        self.names.setdefault(kind, name)
        if self.area is not None:
            self.m2[name] += float(row[self.area])

    def counts(self, pages: int) -> list[int]:
        size = max(pages, max(self.pages, default=-1) + 1)
        return [self.pages[p] for p in range(size)]

    def classes(self) -> dict[str, int]:
        return {self.names[k]: self.kinds[k] for k in sorted(self.kinds)}

    def areas(self) -> dict[str, float]:
        if self.area is None:
            return {}
        return {name: self.m2[name] for name in self.classes()}


#: the columns :func:`table_counts` reads
_COUNTED = ("page", "class", "class_name", "area_m2")

"""The 2-D truths' own no-data tag as ``evaluate --checkpoint`` reads it. A class model's
masks: as ``evaluate --pred`` reads the same files (:func:`~unetlab.evaluate.masks.mask_nodata`),
so that a truth file scores the same way in both modes (s57: --checkpoint refused the tagged
value as no class; training refuses it too, or ignores it as its ignore value, the same
figures). An instance model's object ids: as training reads them, tag or not (review s55 F2:
a 0/255 truth tagged 255 lost every object), said in one line where evaluate --pred
--gt-instances would score the tagged pixels nowhere."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from unetlab.data.split_record import describe_names
from unetlab.errors import Spelled, said_as
from unetlab.evaluate.masks import TruthLost, mask_nodata, tag_value_shown

log = logging.getLogger(__name__)

#: the reading of a truth's ids that honours its tag, as each caller spells it
_AS_IDS = Spelled("evaluate_predictions(..., gt_instances=True)", "evaluate --pred --gt-instances")


class TruthTags:
    """Each mask page's tagged pixels (a PNG's text key ``nodata``, a TIFF's GDAL_NODATA),
    each file's tag read once: ``label_values`` the masks' (None: class indices),
    ``ignore_value`` the value they score nowhere (None: none); ``ids``:
    an instance model's masks, object ids, read as training reads them (the files whose tag
    holds labelled pixels said at :meth:`say`). A class model's files that lost every
    labelled pixel to their tag are said at :meth:`say` too, as evaluate --pred says them."""

    def __init__(self, label_values, ignore_value=None, *, ids: bool):
        self.label_values, self.ignore_value, self.ids = label_values, ignore_value, ids
        self.named: dict[Path, float | None] = {}
        self.lost = TruthLost()
        self.kept: dict[Path, float] = {}  # ids files whose tag holds labelled pixels

    def __call__(self, path: Path, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(``mask`` with its tagged pixels holding another of its values, those pixels or
        None); an instance model's ``mask`` as it is, None."""
        kept, void = mask_nodata(mask, path, self.label_values, self.named, ids=self.ids)
        if self.ids:
            if void is not None:
                self.kept.setdefault(path, self.named[path])
            return mask, None
        if (value := self.named[path]) != self.ignore_value:  # else scored nowhere anyway
            self.lost.add(path, mask, value, void)
        return kept, void

    def say(self) -> None:
        """The lines of the files read: lost to their tag, or ids kept despite it (a line
        per tag value, naming its files: one value was said for all, s57 review)."""
        self.lost.say(None, "pixel")
        by_value: dict[float, list[str]] = {}
        for path, value in self.kept.items():
            by_value.setdefault(value, []).append(str(path))
        for value, names in by_value.items():
            log.warning(
                "%s: the truth's own no-data tag (%s) is read as training reads the masks, "
                "its pixels as objects, where %s scores them nowhere",
                describe_names(names),
                tag_value_shown(value),
                said_as(_AS_IDS),
            )

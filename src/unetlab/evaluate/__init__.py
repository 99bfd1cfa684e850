"""Evaluate a segmentation: pixel metrics, the ISBI 2012 measures and object measures.

Two entry points, both returning a :class:`Report`:

- :func:`evaluate_model`: predict every image of a data folder with a model (overlap-tile,
  :func:`unetlab.inference.predict.predict_image`) and compare with its masks.
- :func:`evaluate_predictions`: compare saved label images (class indices, ``<stem>.png`` as
  ``unetlab predict`` writes them, or ``<stem>.tif`` for stacks; mask values where the
  file's record says so, as ``unetlab predict --label-values`` writes them; object ids in
  ``<stem>_objects.tif`` as ``unetlab predict --instances`` writes them) with ground-truth masks;
  with ``objects_3d=True`` z-stacks of object ids against 3-D ground truth, objects matched in
  3-D, one row per stack or frame (``volumes``: :func:`evaluate_volumes`).

What the report holds (``Report.to_dict()``, the JSON of ``unetlab evaluate``):

- Pixel metrics of one confusion matrix over all images (micro): ``miou``, ``mdice``,
  ``pixel_accuracy``, ``pixel_error`` (1 - pixel accuracy), per class under ``classes``;
  and ``mean_image_miou``, the mean of the images' own mIoU (macro over images). Pixels whose
  mask value is the ignore value (or in the rows ``exclude_rows`` leaves out) count nowhere:
  ``labelled_pixels`` were scored, ``ignored_pixels`` not, and the table says so when any
  were ignored; nor do the pixels the predictions left out as no sample (their images'
  nodata or transparent pixels: a prediction's ``nodata`` PNG text key or TIFF GDAL_NODATA
  tag; a mask file's own, unless ``label_values`` name its value a class (with object ids:
  any value but 0, one line per tag value below 255 where it took an object; one line
  where it holds every labelled pixel), with ``--pred``
  and ``--objects-3d``: 2-D ``--checkpoint`` reads its masks as training does), counted apart
  as ``nodata_pixels`` (a pixel in both counted once, as no-data), which
  the table says too; of them, ``nodata_pixels_pred`` the predictions' and
  ``nodata_pixels_truth`` the masks' files' own (a pixel no-data in both is in each).
- ISBI 2012 (:mod:`unetlab.metrics.isbi`): ``rand_error`` (1 - V_Rand, pair counts summed over the
  images, as the challenge scores a stack), ``v_rand``, ``information_score`` (V_Info, mean
  over images). Objects, the cells, are the 4-connected regions of every class but
  ``boundary_class``: by default the class named background, else membrane, else, of two
  classes, one named a boundary (grain boundary, cell wall), else the class of
  mask value 0, else class 0 (:func:`unetlab.data.weightmap.background_class`; ISBI's
  membrane), with object ids the background (0).
- Objects (:mod:`unetlab.metrics.objects`; predicted objects are the prediction's object ids
  when there are any, else its connected regions as above; true objects the masks' ids with
  ``gt_instances``, else their regions): ``dsb`` (the DSB 2018 score: mean over images of the
  mean over IoU 0.50:0.05:0.95 of TP / (TP + FP + FN), one-to-one matching), ``object_f1``,
  ``object_precision``, ``object_recall`` at IoU >= 0.5 (counts summed), ``pq`` = ``sq`` x
  ``rq`` (panoptic quality, counts summed), ``seg`` (the cell-tracking challenge's SEG, mean
  Jaccard over all ground-truth objects), ``objects`` (true) and ``pred_objects`` counts.
  The ISBI and object scores are computed for two classes (membrane/cell, background/object)
  or object ids, or when asked (``objects=True``): for more classes (road scenes: sky as the
  "boundary", each region of road or building an "object") they mean nothing, and the report
  leaves them out, the JSON and the images' rows included, saying so in one line.
- ``images``: one row per image, and ``worst_images``: the names with the lowest mIoU.
- ``best_threshold`` when asked (``thresholds=``): the challenge's practice of thresholding
  the cell probability (1 - P(boundary class)) at several levels and keeping the best,
  with the leaderboard's pixel error (``challenge_pixel_error``: 1 - the maximal F-score of
  the cell pixels) beside the fraction of wrong pixels (``pixel_error``).

The modules, one concern each: ``report`` (:class:`Report`, its table and JSON), ``accumulate``
(the running statistics of the images, derived into a report), ``masks`` (reading masks and
saved predictions), ``checks`` (arguments and mask values refused), ``predictions``
(:func:`evaluate_predictions`), ``volumes`` (3-D objects: :func:`evaluate_volumes`), ``model``
(:func:`evaluate_model`), ``training`` (what a checkpoint records of its training: the value it
ignored, the images it trained on).
"""

from unetlab.evaluate.accumulate import object_scores_wanted, without_ignored
from unetlab.evaluate.checks import MaskValuesError, check_evaluation, check_objects_scored
from unetlab.evaluate.masks import OBJECTS_SUFFIX, data_root, evaluation_pairs
from unetlab.evaluate.model import evaluate_model
from unetlab.evaluate.predictions import evaluate_predictions
from unetlab.evaluate.report import (
    AVERAGING,
    COUNT_ROWS,
    Report,
    count_error,
    count_table,
    nan_to_none,
)
from unetlab.evaluate.training import trained_on, training_overlap
from unetlab.evaluate.volumes import evaluate_volumes
from unetlab.inference.predict import training_ignore_value

__all__ = [
    "AVERAGING",
    "COUNT_ROWS",
    "OBJECTS_SUFFIX",
    "MaskValuesError",
    "Report",
    "check_evaluation",
    "check_objects_scored",
    "count_error",
    "count_table",
    "data_root",
    "evaluate_model",
    "evaluate_predictions",
    "evaluate_volumes",
    "evaluation_pairs",
    "nan_to_none",
    "object_scores_wanted",
    "trained_on",
    "training_ignore_value",
    "training_overlap",
    "without_ignored",
]

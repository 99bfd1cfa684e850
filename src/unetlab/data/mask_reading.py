"""How a command reads masks, as its config's ``data`` section says: grey RGB masks beside a
colour table as ``data.grey_masks`` (:mod:`unetlab.data.grey_masks`); labelme's and YOLO's
shapes and a COCO file of several categories as ``data.target`` (objects for ``instances``:
:mod:`unetlab.data.shapes`, :func:`unetlab.data.coco.coco_read_as`); the dataset read in
HDF5 images and masks of several as ``data.h5_dataset`` and ``data.h5_mask_dataset``
(:func:`~unetlab.data.h5.h5_dataset_read_as`)."""

from __future__ import annotations

import contextlib
import functools

import torch

from unetlab.data.coco import coco_read_as
from unetlab.data.grey_masks import grey_masks_read_as
from unetlab.data.h5 import (
    h5_dataset_read_as,
    h5_mask_dataset_read_as,
    set_h5_datasets_reading,
    trained_h5_datasets,
)
from unetlab.data.shapes import shapes_read_as
from unetlab.data.tiff_files import HEADERS


@contextlib.contextmanager
def masks_read_as(data):
    """Masks read within as the config section ``data`` says (None: as by default); each
    file's header kept for all the looks within (``HEADERS.kept()``: s75 review, train
    --check opened each of 200 CREMI files 20 times)."""
    grey, target = getattr(data, "grey_masks", None), getattr(data, "target", None)
    dataset = h5_dataset_read_as(getattr(data, "h5_dataset", None))
    masks = h5_mask_dataset_read_as(getattr(data, "h5_mask_dataset", None))
    shapes, coco = shapes_read_as(target), coco_read_as(target)
    with grey_masks_read_as(grey), shapes, coco, dataset, masks, HEADERS.kept():
        yield


def reads_masks_as_config(fn):
    """``fn(cfg, ...)`` reading masks as ``cfg.data`` says (a command's API entry:
    plan_training, fit, ...): :func:`masks_read_as`."""

    @functools.wraps(fn)
    def reading(cfg, *args, **kwargs):
        with masks_read_as(getattr(cfg, "data", None)):
            return fn(cfg, *args, **kwargs)

    return reading


def keeps_masks_reading(fn):
    """``fn`` whose :func:`~unetlab.data.grey_masks.set_grey_masks_reading`,
    :func:`~unetlab.data.shapes.set_shapes_reading` and
    :func:`~unetlab.data.coco.set_coco_reading` and
    :func:`~unetlab.data.h5.set_h5_datasets_reading` hold until it returns (evaluate_model: as
    the checkpoint it loads says); each file's header kept for all its looks within
    (``HEADERS.kept()``: s75 review, evaluate_model opened each CREMI file 10 times)."""

    @functools.wraps(fn)
    def kept(*args, **kwargs):
        h5 = h5_dataset_read_as(None)  # set_h5_datasets_reading undone after
        grey, shapes, coco = grey_masks_read_as(None), shapes_read_as(None), coco_read_as(None)
        with grey, shapes, coco, h5, HEADERS.kept():
            return fn(*args, **kwargs)

    return kept


def reads_h5_as_trained(fn):
    """``fn(model, ...)`` reading HDF5 files of several datasets as ``model``'s checkpoint
    trained (:func:`~unetlab.data.h5.trained_h5_datasets` of ``model.training_data``), as
    the command line does (s75: predict_folder of a loaded model refused each file); a
    dataset named around the call holds over it; ``model`` a function loading it: from the
    moment it loads, until ``fn`` returns (s75 review: predict_folder raised past its
    failed files)."""

    @functools.wraps(fn)
    def reading(model, *args, **kwargs):
        if isinstance(model, torch.nn.Module) or not callable(model):
            with trained_h5_datasets(getattr(model, "training_data", None)):
                return fn(model, *args, **kwargs)
        with h5_dataset_read_as(None):  # what the loaded model sets, undone after
            return fn(_reading_as_loaded(model), *args, **kwargs)

    return reading


def _reading_as_loaded(load):
    """``load``, a function loading a model, that then reads HDF5 files as its checkpoint
    trained (:func:`~unetlab.data.h5.set_h5_datasets_reading`)."""

    @functools.wraps(load)
    def loaded():
        model = load()
        set_h5_datasets_reading(getattr(model, "training_data", None))
        return model

    return loaded

"""How a command reads masks, as its config's ``data`` section says: grey RGB masks beside a
colour table as ``data.grey_masks`` (:mod:`unetlab.data.grey_masks`), labelme's and YOLO's
shapes as ``data.target`` (objects for ``instances``: :mod:`unetlab.data.shapes`)."""

from __future__ import annotations

import functools

from unetlab.data.grey_masks import grey_masks_read_as
from unetlab.data.shapes import shapes_read_as


def reads_masks_as_config(fn):
    """``fn(cfg, ...)`` reading masks as ``cfg.data`` says (a command's API entry:
    plan_training, fit, ...)."""

    @functools.wraps(fn)
    def reading(cfg, *args, **kwargs):
        data = getattr(cfg, "data", None)
        grey, target = getattr(data, "grey_masks", None), getattr(data, "target", None)
        with grey_masks_read_as(grey), shapes_read_as(target):
            return fn(cfg, *args, **kwargs)

    return reading

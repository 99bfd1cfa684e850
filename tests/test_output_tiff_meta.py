"""The TIFFs written beside a label TIFF (object ids, overlay) carry its ImageJ axes and
scale, so that Fiji and napari lay them over it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.models.unet import UNet


def foreground_model():
    """A net that calls every pixel foreground: one object per page (shared by the stack tests)."""
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-5.0, 5.0]))
    return model


def _meta(path) -> tuple:
    """(ImageJ?, series axes without S, X and Y resolution, resolution unit, ImageJ unit and
    spacing) of a TIFF."""
    with tifffile.TiffFile(path) as tif:
        page, ij = tif.pages[0], tif.imagej_metadata or {}
        scale = (page.tags["XResolution"].value, page.tags["YResolution"].value)
        unit = page.tags["ResolutionUnit"].value
        axes = tif.series[0].axes.replace("S", "")
        return tif.is_imagej, axes, scale, unit, ij.get("unit"), ij.get("spacing")


@pytest.mark.parametrize(
    ("pages", "scaled"),
    [(1, True), (3, False), (3, True)],
    ids=["image with a pixel size", "stack without one", "stack with one"],
)
def test_object_and_overlay_tiffs_carry_the_label_tiffs_axes_and_scale(tmp_path, pages, scaled):
    # a stack without a pixel size had plain object and overlay TIFFs (axes QYX: no Z),
    # beside ImageJ labels of axes ZYX
    image = np.random.default_rng(0).integers(0, 255, (pages, 40, 48), dtype=np.uint8)
    metadata = {"axes": "ZYX" if pages > 1 else "YX"}
    kwargs = {}
    if scaled:
        metadata |= {"unit": "um", "spacing": 2.0} if pages > 1 else {"unit": "um"}
        kwargs["resolution"] = (1 / 0.5, 1 / 0.25)
    tifffile.imwrite(tmp_path / "a.tif", image.squeeze(), imagej=True, metadata=metadata, **kwargs)
    written = predict_file(
        foreground_model(),
        tmp_path / "a.tif",
        tmp_path / "out",
        objects=ObjectOptions(),
        draw_overlay=True,
    )
    labels, objects, overlay = (
        tmp_path / "out" / n for n in ("a.tif", "a_objects.tif", "a_overlay.tif")
    )
    assert {labels, objects, overlay} <= set(written)
    expected = _meta(labels)
    assert expected[0] and expected[1] == ("ZYX" if pages > 1 else "YX")
    assert (expected[4] == "um") == scaled
    assert _meta(objects) == expected
    assert _meta(overlay) == expected

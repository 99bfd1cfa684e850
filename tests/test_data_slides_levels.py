"""Pixel size of a pyramid level read window by window (data/slides.py): a non-OME pyramid
whose reduced-resolution pages carry their own resolution tags (SVS / libvips style) gives
each level its own size once, not scaled twice (audit s32 histo 1)."""

import numpy as np
import pytest
import tifffile

from unetlab.data.slides import open_slide


def _tagged_pyramid(path, levels=3, base=0.25):
    """A plain tiled pyramid: level 0 then reduced-resolution pages, each with its own
    resolution tags (px/cm) as libvips and SVS scanners write them."""
    image = np.random.default_rng(0).integers(0, 255, (128, 96, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        for level in range(levels):
            step = 2**level
            per_cm = 1e4 / (base * step)
            tif.write(
                image[::step, ::step],
                tile=(32, 32),
                compression="zlib",
                photometric="rgb",
                subfiletype=1 if level else 0,
                resolution=(per_cm, per_cm),
                resolutionunit="CENTIMETER",
            )
    return image


@pytest.mark.parametrize("level", [0, 1, 2])
def test_each_level_of_a_tag_calibrated_pyramid_has_its_own_size_once(tmp_path, level):
    _tagged_pyramid(tmp_path / "flat.tif")
    with tifffile.TiffFile(tmp_path / "flat.tif") as tif:  # as the audit's: generic levels
        assert len(tif.series[0].levels) == 3 and not tif.is_ome
    with open_slide(tmp_path / "flat.tif", level=level) as slide:
        assert slide.levels == 3 and slide.downsample == (2.0**level, 2.0**level)
        assert slide.pixel_size == pytest.approx((0.25 * 2**level, 0.25 * 2**level))

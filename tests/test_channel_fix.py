"""A grey image saved as RGB among grey images is named as one, with how to convert it
(audit s34 messy 7)."""

from __future__ import annotations

import numpy as np

from unetlab.data.checks import channel_problems
from unetlab.data.io import write_png, write_tiff
from unetlab.errors import command_spelling


def test_a_grey_image_saved_as_rgb_is_named_with_the_how_to(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    for k in range(3):
        write_tiff(tmp_path / f"g{k}.tif", grey)
    write_tiff(tmp_path / "rgb.tif", np.repeat(grey[..., None], 3, axis=-1))
    colour = np.stack([grey, grey, 255 - grey], axis=-1)
    write_png(tmp_path / "colour.png", colour)
    images = [(tmp_path / f"g{k}.tif", 1) for k in range(3)]
    images += [(tmp_path / "rgb.tif", 3), (tmp_path / "colour.png", 3)]
    rgb, coloured = channel_problems(images, None)
    assert rgb == (
        f"{tmp_path}/rgb.tif: 3 channels but most images have 1: its colour channels all "
        "equal (a grey image saved as colour; predict reads it as grey): save it as grey (Fiji: "
        "Image > Type > 8-bit, or 16-bit for 16-bit data)"
    )
    assert coloured.endswith(
        "colour.png: 3 channels but most images have 1: save it as grey "
        "(Fiji: Image > Type > 8-bit, or 16-bit for 16-bit data)"
    )


def test_the_model_s_count_names_the_setting_and_rgb(tmp_path):
    write_tiff(tmp_path / "g.tif", np.zeros((8, 8), np.uint8))
    (line,) = channel_problems([(tmp_path / "g.tif", 1)], 3)
    assert line.endswith(
        "1 channel but the model takes 3: set model.in_channels to the images' channels, "
        "or save it as RGB (Fiji: Image > Type > RGB Color)"
    )


def test_a_two_channel_tiff_among_grey_ones_names_data_channel(tmp_path):
    """A nuclei + cytoplasm TIFF among nuclei-only ones (half of them: audit s39 audit2)
    names --set data.channel and says half, not most, of the images are grey."""
    grey = np.arange(64, dtype=np.uint16).reshape(8, 8)
    write_tiff(tmp_path / "g.tif", grey)
    write_tiff(tmp_path / "two.tif", np.stack([grey, 100 - grey], axis=-1))
    images = [(tmp_path / "g.tif", 1), (tmp_path / "two.tif", 2)]
    with command_spelling():  # as the command line runs
        (line,) = channel_problems(images, None)
    assert line.startswith(f"{tmp_path}/two.tif: 2 channels but half the images have 1: ")
    assert line.endswith(
        "; or train one channel of every multi-channel file: --set data.channel=C "
        "(C from 0, e.g. the nuclei's)"
    )
    # plan_training or fit in a notebook: as Python sets it (s52: it was told --set)
    (line,) = channel_problems(images, None)
    assert line.endswith(": cfg.data.channel = C (C from 0, e.g. the nuclei's)")


def test_a_float_mask_of_ids_names_object_ids_too():
    """A float32 instance mask with a 2.5 in it (one resampled with interpolation; audit s39
    audit2) names ids per object, not only one value per class."""
    from unetlab.data.checks import non_integer_mask

    line = non_integer_mask("m.tif", np.array([[0, 1], [2, 2.5]], np.float32))
    assert line.endswith(
        "or per object (ids 1, 2, ... as cellpose's masks; not resampled with interpolation)"
    )

"""What a file stores, said where it is read otherwise (follow-up s30): a palette of greys
(every grey GIF) is read as grey, so it is no 'palette read as 3 RGB channels'."""

import numpy as np
from PIL import Image

from unetlab.data.checks import stored_channels


def _palette_image(path, palette):
    im = Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4), mode="P")
    im.putpalette(palette)
    im.save(path)
    return path


def test_a_grey_palette_is_said_as_the_channels_read(tmp_path):
    greys = [v for g in range(256) for v in (g, g, g)]
    for name in ("grey.gif", "grey.png"):
        assert stored_channels(_palette_image(tmp_path / name, greys), 1) == "1 channel"
    colours = [v for g in range(256) for v in (g, 255 - g, 0)]
    said = stored_channels(_palette_image(tmp_path / "colour.png", colours), 3)
    assert said == "a palette (read as 3 RGB channels)"

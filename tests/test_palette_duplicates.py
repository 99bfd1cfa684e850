"""A palette mask beside a colour table whose used indices repeat one table colour (a
duplicate palette entry is legal PNG: Pillow's unset entries are black) was read by colour
as that colour's class: index 2, unset and black, trained as background beside '0 0 0
background' (review s67). Read by colour they are one class, by index two, and the palette
cannot say which is meant: refused in one line naming both indices and the fix; entry 255
repeating an earlier colour stays the padding read as void."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unetlab.data.io import read_mask
from unetlab.errors import ImageReadError

TABLE = "0 0 0 background\n128 0 0 cat\n0 128 0 dog\n"


def _mask(root, palette: list[int], top: int = 2):
    (root / "masks").mkdir(parents=True, exist_ok=True)
    (root / "class_colors.txt").write_text(TABLE)
    mask = np.zeros((8, 8), np.uint8)
    mask[:, 3:], mask[:, 6:] = 1, top
    im = Image.fromarray(mask, mode="P")
    im.putpalette(palette)
    im.save(root / "masks" / "a.png")
    return root / "masks" / "a.png"


@pytest.mark.parametrize(
    "palette, said",
    [
        ([0, 0, 0, 128, 0, 0, 0, 0, 0], "indices 0 and 2 are both colour (0, 0, 0) (background"),
        ([0, 0, 0, 128, 0, 0, 128, 0, 0], "indices 1 and 2 are both colour (128, 0, 0) (cat"),
    ],
    ids=["unset black", "a repeated class colour"],
)
def test_two_used_indices_of_one_table_colour_are_refused(tmp_path, palette, said):
    path = _mask(tmp_path, palette)
    with pytest.raises(ImageReadError) as err:
        read_mask(path)
    line = str(err.value)
    assert line.count("\n") == 0 and line.startswith(f"{path}: palette {said}")
    assert "in class_colors.txt): read by colour one class, by index two" in line
    assert "give index 2 its class's own colour in the palette" in line


def test_one_colour_each_and_the_255_padding_read_by_colour(tmp_path):
    """Distinct colours: read through the table (dog's colour at index 2 is value 2); 255
    repeating black (labelme's padding) is void, not a second background."""
    path = _mask(tmp_path, [0, 0, 0, 0, 128, 0, 128, 0, 0])  # index 1 dog, 2 cat
    assert np.unique(read_mask(path)).tolist() == [0, 1, 2]
    assert read_mask(path)[0, 3] == 2 and read_mask(path)[0, 6] == 1  # by colour
    padded = _mask(tmp_path / "p", [0, 0, 0, 128, 0, 0, *[0] * 254 * 3], top=255)
    assert np.unique(read_mask(padded)).tolist() == [0, 1, 255]

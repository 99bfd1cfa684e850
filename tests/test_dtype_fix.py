"""The fix named for an image of another dtype than the training images': the one its caller
can apply, Python's or the command line's (audit s34 stacks 8: a 16-bit movie on an 8-bit
model was told "give the image as uint8 ... (the array as read)"; each was told both,
labelled, until s56)."""

import numpy as np

from unetlab.data.appearance import Shift, dtype_fix
from unetlab.errors import command_spelling


def test_a_wider_integer_image_is_told_to_train_with_it_or_convert_it():
    line = Shift("dtype", "uint16", "uint8").line()
    assert "train with uint16 images (fit with cfg.data.root at a folder of them)" in line
    assert "convert these to uint8 as the training images were (Fiji: Image > Type" in line
    assert "as read" not in line and "float" not in line and "unetlab train" not in line
    with command_spelling():
        line = Shift("dtype", "uint16", "uint8").line()
    assert "train with uint16 images (unetlab train --data on a folder of them)" in line
    assert "fit" not in line and "convert these to uint8" in line


def test_a_float_copy_is_told_the_training_dtype_as_its_caller_gives_it():
    line = dtype_fix("uint8", np.float32)
    assert line == (
        "give the image as uint8, as the model was trained (the array as read from its file, "
        "not a float copy; a float image in [0, 1]: (image * 255).round().astype('uint8'))"
    )
    with command_spelling():
        line = dtype_fix(["uint8", "uint16"], np.float32)
    assert (
        line
        == "give the image as uint8 or uint16, as the model was trained (save the file as uint8 or uint16)"
    )
    assert dtype_fix(None, np.uint16) == "give the images in the dtype the model was trained on"

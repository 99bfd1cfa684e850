"""The fix named for an image of another dtype than the training images': one a command-line
user can apply and the Python one, each labelled (audit s34 stacks 8: a 16-bit movie on an
8-bit model was told "give the image as uint8 ... (the array as read)")."""

import numpy as np

from unetlab.data.appearance import Shift, dtype_fix


def test_a_wider_integer_image_is_told_to_train_with_it_or_convert_it():
    line = Shift("dtype", "uint16", "uint8").line()
    assert "train with uint16 images (unetlab train --data on a folder of them" in line
    assert "Python: fit with data.root there" in line
    assert "convert these to uint8 as the training images were (Fiji: Image > Type" in line
    assert "as read" not in line and "float" not in line


def test_a_float_copy_is_told_the_training_dtype_in_both_spellings():
    line = dtype_fix("uint8", np.float32)
    assert line.startswith("give the image as uint8, as the model was trained")
    assert "Python: the array as read from its file, not a float copy" in line
    assert "(image * 255).round().astype('uint8')" in line
    assert "the command line: save the file as uint8" in line
    assert dtype_fix(None, np.uint16) == "give the images in the dtype the model was trained on"

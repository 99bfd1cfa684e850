"""The note for an image whose dtype skips the model's normalisation floor names the fix:
the image in the training dtype, not a float copy (audit s30, notebook finding 3: a float32
copy of an empty uint8 field showed 34 false objects)."""

import numpy as np

from unetlab.data.normalize import contrast_note

SPEC8 = {"mode": "per_image", "floor": [43.5], "dtype": "uint8"}


def test_a_float_copy_is_told_to_come_back_as_the_training_dtype():
    kind, line = contrast_note(SPEC8, np.float32, np.array([1.0]))
    assert kind == "dtype" and "may show false objects" in line
    assert "give the image as uint8, as the model was trained" in line
    assert (
        "not a float copy; a float image in [0, 1]: (image * 255).round().astype('uint8')" in line
    )


def test_another_integer_dtype_is_told_to_train_with_it_or_convert_without_a_scale():
    """A 16-bit movie on an 8-bit model was told "give the image as uint8 ... (the array as
    read)": Python for a CLI user, and the array as read is uint16 (audit s34 stacks 8)."""
    line = contrast_note(SPEC8, np.uint16, np.array([1.0]))[1]
    assert "train with uint16 images (fit with cfg.data.root at a folder of them)" in line
    assert "convert these to uint8" in line and "as read" not in line
    assert "float" not in line and "* 255" not in line
    old = contrast_note({"mode": "per_image", "floor": [13000.0]}, np.uint8, np.array([1.0]))[1]
    assert old.endswith("give the images in the dtype the model was trained on")

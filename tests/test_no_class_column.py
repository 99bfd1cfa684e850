"""``no_class_column``: the predictions of the class that is no class (the mask value
training ignored) taken out of a confusion matrix as errors of their true class, the one
rule validation and evaluate read (review s69: it was written twice, in torch and numpy)."""

import math

import numpy as np

from unetlab.metrics import metrics_from_matrix, no_class_column


def test_the_column_is_emptied_into_missed_and_the_input_kept():
    matrix = np.array([[5, 1, 2], [0, 4, 3], [0, 0, 0]])
    kept, missed = no_class_column(matrix, 2)
    assert kept.tolist() == [[5, 1, 0], [0, 4, 0], [0, 0, 0]]
    assert missed.tolist() == [2, 3, 0]
    assert matrix[:, 2].tolist() == [2, 3, 0]  # the input unchanged


def test_none_is_no_column():
    matrix = np.array([[2, 1], [0, 3]])
    kept, missed = no_class_column(matrix, None)
    assert missed is None and kept.tolist() == matrix.tolist() and kept is not matrix


def test_its_pixels_are_wrong_for_the_true_class_and_no_class_in_the_means():
    """Class 0: 5 right, 1 as class 1, 2 as the void class 2; class 1: 4 right, 3 as void."""
    m = metrics_from_matrix(*no_class_column([[5, 1, 2], [0, 4, 3], [0, 0, 0]], 2))
    assert m["iou"][:2] == [5 / 8, 4 / 8] and math.isnan(m["iou"][2])
    assert m["miou"] == (5 / 8 + 4 / 8) / 2
    assert m["pixel_accuracy"] == 9 / 15 and m["pixels"] == [8, 7, 0]

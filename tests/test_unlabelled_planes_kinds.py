"""The unlabelled-planes warning (data/unlabelled_planes.py) of class masks, of a TZYX
hyperstack's time points, and not of a fully labelled dense tissue (s69 zstacks)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tifffile

from tests.test_objects_3d import _balls, _planes, _said_of
from unetlab.data.tiffmeta import PageAxes

SAID = "between labelled ones without an object"


def _class_folder(root, mask: np.ndarray) -> None:
    """Two ImageJ z-stacks of three nuclei and their class ``mask`` stacks."""
    ids = _balls((9, 32, 32), [(4, 8, 8), (4, 8, 24), (4, 24, 16)], [4.0] * 3, (1.0, 1.0, 1.0))
    image = ((ids > 0) * 900 + 100).astype(np.uint16)
    for kind, stack in (("images", image), ("masks", mask(ids > 0))):
        (root / kind).mkdir(parents=True)
        for stem in ("a", "b"):
            tifffile.imwrite(
                root / kind / f"{stem}.tif", stack, imagej=True, metadata={"axes": "ZYX"}
            )


def _said_of_folder(root, caplog, *more) -> str:
    from unetlab.config import load_config
    from unetlab.train import prepare_data

    caplog.clear()
    cfg = load_config(None, [f"data.root={root}", "data.val_fraction=0.5", *more])
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        prepare_data(cfg)
    return caplog.text


def _drawn_on(planes, value=1):
    """A class mask of nuclei ``inside`` drawn on ``planes`` alone (the rest left 0)."""

    def mask(inside):
        out = np.zeros(inside.shape, np.uint8)
        out[planes] = inside[planes] * value
        return out

    return mask


def test_class_masks_drawn_on_a_few_slices_are_said_naming_a_value_no_class_has(tmp_path, caplog):
    """s69: z-stacks of 0/1 class masks drawn on 2 of 9 slices trained the others as
    background, unsaid (the warning was of object ids alone); a 0/255 mask is told 254, its
    255 a class; the same stacks fully labelled say nothing."""
    _class_folder(tmp_path / "one", _drawn_on([2, 6]))
    said = _said_of_folder(tmp_path / "one", caplog, "data.target=semantic")
    assert "the masks of 2 stacks (a.tif: objects on 2 of 9 planes) leave 6 planes" in said
    assert "--set data.ignore_value=255" in said
    _class_folder(tmp_path / "white", _drawn_on([2, 6], 255))
    said = _said_of_folder(tmp_path / "white", caplog, "data.target=semantic")
    assert "with 254 (the most a.tif's type holds that is no class)" in said
    assert "--set data.ignore_value=254" in said
    _class_folder(tmp_path / "full", lambda inside: inside.astype(np.uint8))
    assert SAID not in _said_of_folder(tmp_path / "full", caplog, "data.target=semantic")


def test_a_tzyx_hyperstack_labelled_every_few_time_points_is_said_in_time_points():
    """s69: a TZYX hyperstack whose masks label every 3rd time point (all its planes)
    left its other time points' planes empty, unsaid: each time point was looked at apart,
    each wholly labelled or wholly empty; every time point labelled says nothing."""
    nucleus = [False, True, True, True, False]
    empty = [False] * 5
    axes = PageAxes("TZ", (7, 5))
    said = _said_of(nucleus + empty * 2 + nucleus + empty * 2 + nucleus, axes=axes)
    assert "(a.zip: objects on 3 of 7 time points) leave 4 time points between" in said
    assert "Train on the annotated time points alone" in said
    assert _said_of(nucleus * 7, axes=axes) is None
    assert _said_of(nucleus * 3 + empty * 4, axes=axes) is None  # the cells left the field


def test_a_fully_labelled_dense_tissue_is_not_said_and_slices_drawn_a_few_at_a_time_are():
    """s69: nuclei at different depths that overlap in (y, x), a truly empty plane between
    their layers, every plane labelled (a dense tissue), were said to leave planes
    unannotated: objects that shrink to their caps either side of a gap end there. Slices
    drawn through the same nuclei a few at a time are said, each cut through their middles
    (review s69 2: a rule on run lengths missed pairs drawn with 1 skipped, 3 drawn with 1
    or 2 skipped, two blocks of 8 with 4 skipped)."""
    centres = [(5, 16, 16), (6, 16, 34), (5, 34, 25), (17, 20, 20), (16, 30, 30), (17, 18, 36)]
    ids = _balls((23, 50, 50), centres, [4.5] * 6, (1.0, 1.0, 1.0))
    assert _between(list(ids), -1) == (0, 20)
    for keep, left in [(2, 11), (3, 7), (4, 4)]:  # every 2nd plane, pairs, threes: 1 skipped
        drawn = [p if z % keep else np.zeros_like(p) for z, p in enumerate(ids)]
        assert _between(drawn, -1)[0] == left
    for runs, said in [
        ([2, 1] * 10, "leave 9 planes"),
        ([3, 2] * 6, "leave 10 planes"),
        ([3, 1] * 7, "leave 6 planes"),
        ([8, 4, 8, 1], "leave 4 planes"),
    ]:
        holds = [False] + [k % 2 == 0 for k, n in enumerate(runs) for _ in range(n)]
        assert said in _said_of(holds), runs


def _between(masks, ignore: int) -> tuple[int, int]:
    """(planes left without an object, labelled planes) of one stack's plane ``masks``."""
    from unetlab.data.unlabelled_planes import _area, gaps_between

    return gaps_between(_area(m, ignore) for m in masks)


def _sized(sizes):
    """Planes of 4 x 8 whose first ``sizes`` pixels hold an object (None: ignored)."""
    planes = []
    for size in sizes:
        plane = np.full((4, 8), -1 if size is None else 0)
        plane.flat[: size or 0] = 2
        planes.append(plane)
    return planes


def test_an_ignored_plane_ends_a_labelled_run_not_an_empty_one():
    """Review s69 3: labelled runs joined across an ignored (or left-out) plane, so planes
    drawn every 2nd, some of those between ignored, were taken for runs ending in caps;
    empty planes either side of an ignored one still count as one gap."""
    assert _between(_sized([8, None, 3, 0, 3, None, 8]), -1) == (1, 4)
    assert _between(_sized([8, 0, None, 0, 8]), -1) == (2, 2)
    holds = [z % 2 == 0 for z in range(16)]
    assert "leave 3 planes" in _said_of(holds, ignored=[1, 5, 9, 13])


def test_a_tzyx_hyperstack_s_time_point_is_the_union_of_its_planes():
    """A time point's labelled area is that of all its planes: its objects on plane 0 and
    1, the next labelled time point's on plane 0 where the first's plane 1 had them."""
    holds = [0, 5, False] + [False] * 3 + [5, False, False]
    said = _said_of(holds, axes=PageAxes("TZ", (3, 3)))
    assert "(a.zip: objects on 2 of 3 time points) leave 1 time point between" in said


def test_a_tzyx_hyperstack_with_gaps_in_planes_and_in_time_points_says_both():
    """s69 noticed: a TZYX hyperstack drawn every 2nd plane of some time points, its other
    time points left empty, was said in planes alone (its 2 empty time points unsaid);
    each count is of its own noun, across stacks too."""
    sparse = [False, True, False, True, False]
    empty = [False] * 5
    axes = PageAxes("TZ", (4, 5))
    said = _said_of(sparse + empty * 2 + sparse, axes=axes)
    assert (
        "(a.zip: objects on 4 of 20 planes and 2 of 4 time points) leave 2 planes and "
        "2 time points between labelled ones" in said
    )
    assert "where the objects of the planes and time points either side overlap" in said
    assert "Train on the annotated planes and time points alone" in said


def _said_of_stacks(stacks: dict) -> str | None:
    """:func:`_said_of` of several mask stacks: each ``name: (holds, axes)``."""
    from unetlab.data.pairs import Pair
    from unetlab.data.unlabelled_planes import unlabelled_planes

    pairs, masks = [], []
    for name, (holds, _) in stacks.items():
        image, n = Path(name).with_suffix(".tif"), len(holds)
        pairs += [Pair(image, Path(name), page, n) for page in range(n)]
        masks += _planes(holds)
    axes = {Path(name): page_axes for name, (_, page_axes) in stacks.items()}
    return unlabelled_planes(pairs, masks, -1, axes, dtypes={})  # RoiSets: no fill value


def test_stacks_of_other_nouns_are_counted_each_in_its_own_in_a_fixed_order():
    """s70 review: the counts summed by noun across stacks were untested (a movie's frames
    and a z-stack's planes said as '5 frames' passed), and the nouns came in the order of
    the stacks' paths ('1 time point and 1 plane'): frames, planes, then time points."""
    movie = ([True, False, True], PageAxes("T", (3,)))
    z_stack = ([True] + [False] * 4 + [True], PageAxes("Z", (6,)))
    said = _said_of_stacks({"a.zip": movie, "b.zip": z_stack})
    assert "(a.zip: objects on 2 of 3 frames) leave 1 frame and 4 planes between" in said
    time_points = ([True, True, False, False, True, True], PageAxes("TZ", (3, 2)))
    said = _said_of_stacks(
        {"a.zip": time_points, "b.zip": ([True, False, True], PageAxes("Z", (3,)))}
    )
    assert "(a.zip: objects on 2 of 3 time points) leave 1 plane and 1 time point" in said
    assert "Train on the annotated planes and time points alone" in said


def test_class_masks_whose_0_is_not_the_first_class_or_is_ignored(tmp_path, caplog):
    """The class a plane left 0 trains as is the index of mask value 0 among
    data.label_values (of [255, 0]: 1); with data.ignore_value=0 such planes are ignored
    and nothing is said (it ended "ValueError: 0 is not in list", a bug's traceback)."""
    _class_folder(tmp_path / "w", _drawn_on([2, 6], 255))
    said = _said_of_folder(
        tmp_path / "w", caplog, "data.target=semantic", "data.label_values=[255,0]"
    )
    assert "leave 6 planes" in said
    said = _said_of_folder(tmp_path / "w", caplog, "data.target=semantic", "data.ignore_value=0")
    assert SAID not in said


def test_saying_a_class_masks_unlabelled_planes_opens_no_file_again(
    tmp_path, caplog, monkeypatch, settled_inputs
):
    """s69 (merge of zstacks): the warning of class masks read the stacks' page axes again
    (each image's header twice, the test of 2 stacks of 20 pages saw 8 image opens for 6)
    and each mask's header, and opened the first mask named for its type's most: each mask
    is opened for its page count, the scan, and the palette's look at the first alone."""
    from tests.test_training_opens import _mask_opens

    _class_folder(tmp_path / "set", _drawn_on([2, 6]))
    opened = _mask_opens(monkeypatch)
    said = _said_of_folder(tmp_path / "set", caplog, "data.target=semantic")
    assert "--set data.ignore_value=255" in said  # the type's most, as the scan read it
    assert len(opened) <= 2 * 2 + 1  # 8 before


def test_with_label_values_given_the_fill_value_opens_no_mask_again(
    tmp_path, caplog, monkeypatch, settled_inputs
):
    """s69 noticed: with data.label_values given (no mask scan), the warning opened the
    first mask named again for its type's most (6 mask opens, not 5): the type is the one
    each mask was loaded as."""
    from tests.test_training_opens import _mask_opens

    _class_folder(tmp_path / "given", _drawn_on([2, 6]))
    opened = _mask_opens(monkeypatch)
    given = ("data.target=semantic", "data.label_values=[0,1]")
    said = _said_of_folder(tmp_path / "given", caplog, *given)
    assert "--set data.ignore_value=255" in said  # uint8: the type's most, as loaded
    assert len(opened) <= 2 * 2 + 1  # 6 before

"""The data fingerprint: exact facts of tiny masks, and the contradictions it names."""

import numpy as np
import pytest

from unetlab.data.fingerprint import (
    Fingerprint,
    PairFacts,
    background,
    half_counts,
    layout_dependence,
    lonely_classes,
    measure_pair,
    mixed_encodings,
    object_labels,
    too_small,
    touching_objects,
)
from unetlab.errors import UnetlabError, command_spelling


def facts(name, values, counts=None, *, side=64, instances=False, areas=(), touching=0):
    counts = counts or [10] * len(values)
    return PairFacts(
        name,
        side,
        side,
        1,
        "uint8",
        (0.0,),
        (0.5,),
        (1.0,),
        tuple(values),
        tuple(counts),
        tuple(areas),
        touching,
        instances,
    )


def squares(gap: int) -> np.ndarray:
    mask = np.zeros((12, 20), dtype=np.uint8)
    mask[2:8, 2:8] = 255
    mask[2:8, 8 + gap : 14 + gap] = 255
    return mask


@pytest.mark.parametrize("gap, touching", [(1, 2), (2, 2), (3, 0)])
def test_objects_touch_within_two_px(gap, touching):
    objects = object_labels(squares(gap), 0, instances=False)
    assert objects.max() == 2
    assert touching_objects(objects, 2) == touching


def test_object_labels_per_class_region_or_per_instance_id():
    mask = np.zeros((6, 6), dtype=np.int32)
    mask[0, 0], mask[5, 5], mask[0, 5] = 255, 255, 128
    assert sorted(np.unique(object_labels(mask, 0, instances=False))) == [0, 1, 2, 3]
    ids = np.arange(36).reshape(6, 6)
    assert len(np.unique(object_labels(ids, 0, instances=True))) == 36  # 35 objects + 0
    assert background([1, 2], [5, 9]) == 2 and background([0, 2], [5, 9]) == 0


def test_measure_pair_exact_values():
    image = np.arange(100, dtype=np.uint16).reshape(10, 10)
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[1:4, 1:4] = 255  # 9 px
    mask[7:9, 6:9] = 255  # 6 px, 3 px of background away: not touching
    f = measure_pair(image, mask, name="a.png")
    assert (f.height, f.width, f.channels, f.dtype) == (10, 10, 1, "uint16")
    assert f.median == (49.5,) and f.values == (0, 255) and f.counts == (85, 15)
    assert sorted(f.object_areas) == [6, 9] and f.touching == 0 and not f.instances
    ids = np.arange(100).reshape(10, 10)  # 99 touching one-pixel objects
    g = measure_pair(image, ids)
    assert g.instances and len(g.object_areas) == 99 and g.touching == 99


def test_regions_of_two_classes_meet_without_touching_and_void_is_no_object():
    """A scene: road (1) and car (2) share an edge, ringed by VOC's void (255) outlines."""
    image = np.zeros((12, 12), dtype=np.uint8)
    mask = np.zeros((12, 12), dtype=np.uint8)
    mask[2:10, 1:6], mask[2:10, 6:11] = 1, 2  # two classes side by side
    plain = measure_pair(image, mask)
    assert sorted(plain.object_areas) == [40, 40] and plain.touching == 0
    mask[2:10, 6], mask[5, 1:6] = 255, 255  # a void line between the classes, one across road
    ringed = measure_pair(image, mask, ignore_value=255)
    assert 255 not in ringed.values and sum(ringed.counts) == 144 - 13
    assert sorted(ringed.object_areas) == [15, 20, 32] and ringed.touching == 2  # the road's two
    counted = measure_pair(image, mask)  # void as a class: its lines are objects
    assert sorted(counted.object_areas) == [13, 15, 20, 32] and 255 in counted.values


def test_fingerprint_sums_classes_and_objects():
    fp = Fingerprint(
        [
            facts("a", [0, 255], [30, 10], areas=(4, 6), touching=1),
            facts("b", [0, 255], [50, 10], areas=(8,), touching=0),
        ]
    )
    assert fp.class_fractions() == {0: 0.8, 255: 0.2}
    assert fp.touching_fraction() == pytest.approx(1 / 3)
    assert fp.summary()["object_area_p10_p50_p90"][1] == 6


def test_mixed_encodings_name_the_files_of_each_kind():
    pairs = [facts("a.png", [0, 1]), facts("b.png", [0, 255]), facts("c.png", [0, 255])]
    (problem,) = mixed_encodings(pairs)
    assert "0/1 in 1 file (a.png)" in problem and "0/255 in 2 files (b.png, c.png)" in problem
    assert mixed_encodings([facts("a", [0, 1, 255]), facts("b", [0, 255])]) == []
    assert mixed_encodings([facts("a", [0, 1]), facts("b", [0])]) == []


def test_a_class_in_one_file_only_is_named():
    pairs = [facts("a", [0, 255]), facts("b", [0, 255]), facts("c", [0, 7, 255])]
    (problem,) = lonely_classes(pairs)
    assert "mask value 7 is found in one file only (c)" in problem
    assert "class_names.txt (line i names value i)" in problem
    # each caller's form (both were told the bare keys data.label_values, data.target, s57)
    assert "or keep it as a class (cfg.data.label_values = [...], each class's value), or " in (
        problem
    )
    assert problem.endswith("or cfg.data.target = 'instances' if each value is one object")
    with command_spelling():
        (cli,) = lonely_classes(pairs)
    assert "or keep it as a class (--set 'data.label_values=[...]', each class's value)" in cli
    assert cli.endswith("or --set data.target=instances if each value is one object")
    far = [facts("a", [0, 1]), facts("b", [0, 1]), facts("c", [0, 1, 200])]
    (problem,) = lonely_classes(far)  # not 201 lines: VALUE NAME ones
    assert "class_names.txt with each line as VALUE NAME (e.g. '200 NAME')" in problem
    assert lonely_classes(pairs, ignore_value=7) == []
    assert lonely_classes(pairs[:2] + [facts("c", [0, 7], instances=True)]) == []


def test_too_small_images_are_named_with_the_fix():
    (problem,) = too_small([facts("a", [0], side=8), facts("b", [0], side=64)], 16, "pad them")
    assert problem == (
        "1 image smaller than the net's 16 px minimum (width x height: a (8x8)): pad them"
    )


def _jpeg_masks(root, n=5):
    """images/ (PNG) and masks/ (JPEG: a 0/255 rectangle with JPEG's in-between values)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(
            root / "images" / f"s{i}.png"
        )
        mask = np.zeros((48, 48), np.uint8)
        mask[8:30, 10:40] = 255
        Image.fromarray(mask).save(root / "masks" / f"s{i}.jpg", quality=75)
    return root


def test_jpeg_masks_are_a_problem_not_measured(tmp_path):
    from unetlab.data.fingerprint import fingerprint
    from unetlab.data.pairs import find_pairs

    pairs = find_pairs(_jpeg_masks(tmp_path / "d", n=2))
    problems = []
    fp = fingerprint(pairs, problems=problems)
    assert not fp.pairs  # nothing measured from JPEG noise
    assert problems == [
        f"{p.mask}: JPEG masks are lossy (edges get values between the classes); save masks as PNG"
        for p in pairs
    ]


def test_the_plan_refuses_jpeg_masks_before_planning(tmp_path, capsys, caplog):
    import logging

    from unetlab.cli import main

    data = _jpeg_masks(tmp_path / "d")
    with caplog.at_level(logging.INFO):
        assert main(["train", "--data", str(data), "--run-dir", str(tmp_path / "run")]) == 2
    assert not [r for r in caplog.records if "plan" in r.getMessage()]  # none from JPEG noise
    err = capsys.readouterr().err
    assert "5 files in" in err and "JPEG masks are lossy" in err
    assert not (tmp_path / "run").exists()


def test_half_counts_and_the_layout_dependence_exact():
    mask = np.zeros((5, 4), np.uint8)  # sky (0) above, road (1) below; row 2 in neither half
    mask[2:] = 1
    mask[4, 0] = 7
    np.testing.assert_array_equal(
        half_counts(mask, np.array([0, 1, 7])), [[8, 0, 4, 4], [0, 7, 5, 6], [0, 1, 1, 0]]
    )
    wide = mask.astype(np.int64) * 100_000 - 3  # values bincount cannot index
    np.testing.assert_array_equal(
        half_counts(wide, np.unique(wide)), half_counts(mask, np.array([0, 1, 7]))
    )
    up, side = layout_dependence([[8, 0, 4, 4], [0, 7, 5, 6], [0, 1, 1, 0]])
    assert up == 1.0 and side == pytest.approx(2 / 20)  # each class in one half
    assert layout_dependence([[3, 1, 2, 2], [1, 3, 2, 2]]) == (0.5, 0.0)
    assert layout_dependence([]) == (0.0, 0.0)


def test_the_layout_is_pooled_per_class_without_the_unlabelled_value():
    mask = np.zeros((4, 4), np.uint8)
    mask[2:] = 1
    mask[3, :2] = 255  # void in the bottom left: in no half
    fact = measure_pair(np.zeros((4, 4), np.uint8), mask, ignore_value=255)
    assert fact.values == (0, 1) and fact.halves == ((8, 0, 4, 4), (0, 6, 2, 4))
    flipped = measure_pair(np.zeros((4, 4), np.uint8), mask[::-1], ignore_value=255)
    pooled = Fingerprint([fact, flipped])  # one up, one upside down: no up left
    assert pooled.class_halves() == {0: (8, 8, 8, 8), 1: (6, 6, 4, 8)}
    assert pooled.layout() == (0.0, pytest.approx(4 / 28))
    assert Fingerprint([fact]).layout()[0] == 1.0
    assert Fingerprint([fact]).summary()["layout_up_down"] == 1.0
    ids = measure_pair(np.zeros((4, 4), np.uint8), np.arange(16).reshape(4, 4), instances=True)
    assert Fingerprint([ids]).class_halves() == {0: (1, 0, 1, 0), 1: (7, 8, 7, 8)}


def test_a_stray_value_in_a_few_files_is_named_with_the_fixes():
    """Audit s29 author, finding 3: 9 px of value 7 in 2 of 12 masks became a class."""
    from unetlab.data.fingerprint import stray_values

    rare = [29 if i % 3 else 0 for i in range(12)]  # a rare class, ~29 px in 8 files
    pairs = [
        facts(f"m{i}.png", [0, 1, 2, 7][: 3 + (i in (3, 5))], [16000, 1500, rare[i], 9])
        for i in range(12)
    ]
    pairs = [
        facts(p.name, [v for v, c in zip(p.values, p.counts) if c], [c for c in p.counts if c])
        for p in pairs
    ]
    (problem,) = lonely_classes(pairs)
    assert problem.startswith("mask value 7 has a few pixels in each of the 2 files")
    assert "(m3.png: 9 px, m5.png: 9 px; 18 px in all, against 232 px of the rarest" in problem
    # plan_training in a notebook: as Python sets it (s53: it was told the command line's)
    assert "or cfg.data.ignore_value = 7 to leave its pixels out" in problem
    # the classes with it, as the caller sets them (s58: a bare "or set data.label_values")
    assert problem.endswith(" or cfg.data.label_values = [0, 1, 2, 7]")
    with command_spelling():  # as the command line runs
        (problem,) = lonely_classes(pairs)
    assert "or --set data.ignore_value=7 to leave its pixels out" in problem
    assert problem.endswith(" or --set 'data.label_values=[0, 1, 2, 7]'")
    assert lonely_classes(pairs, ignore_value=7) == lonely_classes(pairs, declared=[7]) == []
    # the rare class itself, and the rare class in only 2 files, are no strays
    assert stray_values([p for p in pairs if 7 not in p.values]) == []
    two = [facts("a", [0, 1, 2], [16000, 1500, 29]), facts("b", [0, 1, 2], [16000, 1500, 29])]
    assert stray_values([*two, facts("c", [0, 1], [16000, 1500])]) == []


def test_an_ignore_value_no_mask_can_hold_is_one_line():
    pairs = [facts("a", [0, 1]), facts("b", [0, 1])]
    (problem,) = lonely_classes(pairs, ignore_value=300)
    assert problem.startswith("data.ignore_value=300 is outside the range of the 8-bit masks")
    assert lonely_classes(pairs, ignore_value=255) == []
    wide = [PairFacts(**{**vars(p), "wide_mask": True}) for p in pairs]
    assert lonely_classes(wide, ignore_value=300) == []
    assert "(0-65535)" in lonely_classes(wide, ignore_value=-1)[0]


def _named_background_mask() -> np.ndarray:
    """Value 0: two cells (9 and 6 px); value 1: the background around them."""
    mask = np.ones((10, 10), dtype=np.uint8)
    mask[1:4, 1:4] = 0
    mask[7:9, 6:9] = 0
    return mask


def test_a_value_named_background_is_no_object_wherever_it_lies():
    """The class named background (else membrane) is the background, as in training
    (weightmap.background_class), not value 0: the cells are the objects."""
    mask, image = _named_background_mask(), np.zeros((10, 10), np.uint8)
    assert sorted(measure_pair(image, mask).object_areas) == [85]  # unnamed: 0 is background
    named = measure_pair(image, mask, names={0: "cell", 1: "Background"})
    assert sorted(named.object_areas) == [6, 9]
    assert background([0, 1], [15, 85], {0: "cell", 1: "membrane"}) == 1
    assert background([0, 1], [15, 85], {0: "background", 1: "membrane"}) == 0
    assert background([0, 1], [15, 85], {0: "cell", 1: "nucleus"}) == 0
    assert background([2, 3], [15, 85], {5: "background"}) == 5  # named, if absent here


def test_the_fingerprint_and_the_plan_measure_the_objects_of_a_named_background(tmp_path):
    from unetlab.config import load_config
    from unetlab.data.fingerprint import fingerprint
    from unetlab.data.io import write_png
    from unetlab.data.pairs import find_pairs
    from unetlab.plan.training import _checked

    root = tmp_path / "d"
    for i in range(4):
        write_png(root / "images" / f"{i}.png", np.full((10, 10), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", _named_background_mask())
    names = {0: "cell", 1: "background"}
    for target in ("auto", "semantic"):
        fp = fingerprint(find_pairs(root), target=target, names=names)
        assert sorted(fp.object_areas()) == [6] * 4 + [9] * 4, target
    (root / "class_names.txt").write_text("cell\nbackground\n")
    fp = _checked(load_config(None, [f"data.root={root}", "data.val_fraction=0.25"]), set())[0]
    assert sorted(fp.object_areas()) == [6] * 4 + [9] * 4


def test_a_boundary_named_in_two_classes_is_read_of_the_data_sets_classes_not_each_mask(tmp_path):
    """{0: grain, 1: grain boundary} over masks of 0, 1 and 2 (a third class, unnamed):
    three classes, no boundary background, 0 the background in every mask; a crop without
    2 read as two classes took the boundary as its background, the others 0 (s67 fin-bg)."""
    from unetlab.data.fingerprint import fingerprint
    from unetlab.data.io import write_png
    from unetlab.data.pairs import find_pairs

    root = tmp_path / "d"
    for i in range(2):
        mask = _named_background_mask()  # 1 around two grains of 0
        mask[0, 0] = 2 if i else 1  # mask 1 (a crop) holds no 2
        write_png(root / "images" / f"{i}.png", np.full((10, 10), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    names = {0: "grain", 1: "grain boundary"}
    for target, label_values in (("auto", None), ("semantic", None), ("semantic", [0, 1, 2])):
        fp = fingerprint(find_pairs(root), target=target, names=names, label_values=label_values)
        crop, whole = fp.pairs
        assert 0 not in crop.object_values and 0 not in whole.object_values, target
        assert background([0, 1], [15, 85], names, held=[0, 1, 2]) == 0
        assert background([0, 1], [15, 85], names) == 1  # two classes: the boundary
    nuclei = {1: "nucleus", 2: "contour"}  # a crop without 0 read of 0, 1, 2: 0 as the others
    assert background([1, 2], [85, 15], nuclei, held=[0, 1, 2]) == 0
    assert background([1, 2], [85, 15], nuclei, held=[1, 2]) == 2  # two classes: the contour


def test_an_unnamed_crop_without_0_takes_the_data_sets_background(tmp_path):
    """Masks without names over 0, 1, 2: a crop inside the tissue (cells of 1 between
    membranes of 2, no 0) took its most frequent value, 1, as its background, so its
    cells were no objects and the plan sized tiles on the membranes (s67 noticed; measured:
    a 6-mask set planned tile 64, no border weights, of 8 objects; 32 with them, of 264).
    Training takes 0 in every mask: the background is the data set's, not one crop's."""
    from unetlab.data.fingerprint import fingerprint
    from unetlab.data.io import write_png
    from unetlab.data.pairs import find_pairs

    root = tmp_path / "d"
    for i in range(2):
        mask = np.zeros((24, 24), np.uint8) if i else np.ones((24, 24), np.uint8)
        if i:
            mask[4:10, 4:10] = 1  # one cell on 0
        else:
            mask[::8, :] = mask[:, ::8] = 2  # the crop: cells of 1, membranes of 2
        write_png(root / "images" / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    crop, _ = fingerprint(find_pairs(root), target="semantic").pairs
    assert 1 in crop.object_values and 2 in crop.object_values
    assert background([1, 2], [85, 15], held=[0, 1, 2]) == 0
    assert background([1, 2], [85, 15]) == 1  # the data set's values unknown: the mask's


def test_a_set_without_0_takes_its_first_value_as_training_does(tmp_path):
    """1-based masks (1 background, 2 cells): a dense crop (cells over half) took 2, its
    most frequent value, as its background (review s68), where training takes class index
    0, value 1, in every mask; the ignored value too where it is the first."""
    from unetlab.data.fingerprint import fingerprint
    from unetlab.data.io import write_png
    from unetlab.data.pairs import find_pairs

    root = tmp_path / "d"
    for i in range(2):
        mask = np.ones((24, 24), np.uint8)
        if i:
            mask[4:10, 4:10] = 2  # one cell on 1
        else:
            mask[:] = 2
            mask[::8, :] = mask[:, ::8] = 1  # the dense crop: cells of 2 between lines of 1
        write_png(root / "images" / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    crop, sparse = fingerprint(find_pairs(root), target="semantic").pairs
    assert set(crop.object_values) == set(sparse.object_values) == {2}
    assert len(crop.object_areas) == 9
    assert background([2, 3], [30, 70], held=[1, 2, 3]) == 1
    assert background([2, 3], [30, 70], ignore_value=1, held=[1, 2, 3]) == 1


def _crops_first(root, monkeypatch) -> list:
    """Masks 0: a crop without 0 (values 1, 2), 1: a mask with 0, 2, 3: crops; the list
    the background of each measurement :func:`labelled_object_facts` is given fills."""
    from unetlab.data import fingerprint as fp
    from unetlab.data.io import write_png

    for i in range(4):
        mask = np.zeros((24, 24), np.uint8)
        mask[4:10, 4:10] = 1
        if i != 1:
            mask[:] = 1
            mask[::8, :] = mask[:, ::8] = 2
        write_png(root / "images" / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    calls = []
    measure = fp.labelled_object_facts
    monkeypatch.setattr(
        fp, "labelled_object_facts", lambda *a, **k: calls.append(a[2]) or measure(*a, **k)
    )
    return calls


def test_a_crop_without_0_after_a_mask_with_it_is_measured_once(tmp_path, monkeypatch):
    """Each crop without 0 was measured twice (its own background, then the data set's 0;
    review s68: 120 crops of 256 px, 5 s -> 12 s); then only those after a mask that holds
    0 were measured once (review s68 again: 4 crops first, 12 measurements of 8 masks). The
    set's values are read first where the reads are kept (unetlab train): every mask measured
    once, with 0, whatever the order; where they are not, no mask is decoded twice for it."""
    from unetlab.data import fingerprint as fp
    from unetlab.data.held import stacks_held
    from unetlab.data.pairs import find_pairs

    calls = _crops_first(tmp_path / "d", monkeypatch)
    with stacks_held(1 << 24):  # as unetlab train measures: the reads kept for the next
        facts = fp.fingerprint(find_pairs(tmp_path / "d"), target="semantic").pairs
    assert calls == [0, 0, 0, 0]  # four masks, each once with the set's background
    assert [sorted(set(f.object_values)) for f in facts] == [[1, 2], [1], [1, 2], [1, 2]]
    calls.clear()  # no reads kept: no mask decoded twice, the crop first measured twice
    again = fp.fingerprint(find_pairs(tmp_path / "d"), target="semantic").pairs
    assert calls == [1, 0, 0, 0, 0] and [f.object_values for f in again] == [
        f.object_values for f in facts
    ]


def test_an_unreadable_mask_leaves_the_others_measured_once(tmp_path, monkeypatch):
    """One unreadable mask made the set's values unknown, so the crop first was measured
    twice again (review s68): that mask is passed over, its problem said as before."""
    from unetlab.data import fingerprint as fp
    from unetlab.data.held import stacks_held
    from unetlab.data.io import write_png
    from unetlab.data.pairs import find_pairs

    root = tmp_path / "d"
    calls = _crops_first(root, monkeypatch)
    for folder in ("images", "masks"):
        write_png(root / folder / "4.png", np.eye(24, dtype=np.uint8))
    stack = fp._KeptRows.stack

    def unreadable(self, path, *, mask, axes=None, channels=None):  # mask 4, then unreadable
        if mask and path.name == "4.png":
            raise UnetlabError(f"{path}: cannot read this image")
        return stack(self, path, mask=mask, axes=axes, channels=channels)

    monkeypatch.setattr(fp._KeptRows, "stack", unreadable)
    problems: list[str] = []
    with stacks_held(1 << 24):
        facts = fp.fingerprint(find_pairs(root), target="semantic", problems=problems).pairs
    assert calls == [0, 0, 0, 0] and len(facts) == 4
    assert len(problems) == 1 and "4.png" in problems[0]


@pytest.mark.parametrize(
    "values, mixed",
    [([[0, 1], [0, 255]], True), ([[0, 1, 255], [0, 255]], False), ([[0, 1], [0]], False)],
)
def test_training_and_evaluate_refuse_mixed_encodings_by_one_rule(tmp_path, values, mixed):
    """data.fingerprint.binary_foreground is the rule of both: a data set's masks
    (mixed_encodings) and evaluate's, read one by one (evaluate.masks.checked_masks)."""
    from unetlab.data.fingerprint import binary_foreground
    from unetlab.errors import DatasetError
    from unetlab.evaluate.masks import MaskPage, checked_masks

    assert [binary_foreground(v) for v in ([0, 1], [0, 65535], [0, 1, 255], [0], [0, 2])] == [
        1,
        65535,
        None,
        None,
        None,
    ]
    files = [facts(f"{i}.png", v) for i, v in enumerate(values)]
    assert bool(mixed_encodings(files)) is mixed
    pages = [
        MaskPage(f"{i}", f"{i}", 0, np.array([v], np.uint8), tmp_path / f"{i}.png", 1)
        for i, v in enumerate(values)
    ]
    read = checked_masks(pages, None, label_values=None, instances=False)
    if mixed:
        with pytest.raises(DatasetError, match="masks mix encodings"):
            list(read)
    else:
        assert len(list(read)) == len(values)


def test_instance_masks_counts_the_pixels_of_its_pages_once(monkeypatch):
    """s59: the pages' pixel counts were summed by labelled_pages (for the void rule) and
    again by instance_masks, the same pages; once now, the same answer."""
    import unetlab.data.fingerprint as fingerprint

    def page(values, regions):
        return fingerprint.MaskValues(values, (900,) + (30,) * (len(values) - 1), regions, False)

    classes = [page((0, 1, 2), (0, 4, 3))] * 3
    ids = [page(tuple(range(40)), (0,) + (1,) * 39)] * 3  # more values than classes have
    summed, real = [], fingerprint.pixel_counts
    monkeypatch.setattr(fingerprint, "pixel_counts", lambda masks: summed.append(1) or real(masks))
    assert not fingerprint.instance_masks(classes)
    assert fingerprint.instance_masks(ids)
    assert len(summed) == 2  # 4 before: twice per call


def test_labelled_pages_counts_pages_with_void_once(monkeypatch):
    """s59 re-read: pages of class indices beside a void 255 were counted again once the
    void was left out; once now, the void's pixels alone taken from the count."""
    import unetlab.data.fingerprint as fingerprint

    pages = [
        fingerprint.MaskValues((0, 1, 2, 255), (800, 50, 40, 10), (0, 2, 1, 1), False),
        fingerprint.MaskValues((-1, 0, 2, 255), (5, 700, 60, 35), (1, 0, 3, 1), False),
    ]
    summed, real = [], fingerprint.pixel_counts
    monkeypatch.setattr(fingerprint, "pixel_counts", lambda masks: summed.append(1) or real(masks))
    masks, counts = fingerprint.labelled_pages(pages, None)
    assert len(summed) == 1  # 2 before
    assert counts == {0: 1500, 1: 50, 2: 100} == real(masks)
    assert [m.values for m in masks] == [(0, 1, 2), (0, 2)]

"""Which class is the background: the weight map's gaps and evaluate's boundary class follow
the class names and mask values, not the class index 0 (data.label_values: [255, 0])."""

import logging

import numpy as np
import pytest
from PIL import Image

from unetlab.config import load_config
from unetlab.data.weightmap import background_class, background_network, problem_line


def membrane_grid(size: int = 48, cell: int = 8) -> np.ndarray:
    """ISBI-like mask: 0 = a 1-px membrane network, 255 = the cells between."""
    mask = np.full((size, size), 255, np.uint8)
    mask[::cell, :] = mask[:, ::cell] = 0
    return mask


def write_grid_set(root, n: int = 3):
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i:02d}.png")
        Image.fromarray(membrane_grid()).save(root / "masks" / f"{i:02d}.png")
    return root


def write_boundary_set(root):
    """:func:`write_grid_set` with the membranes drawn as 1 on cells of 0 (SEM grain
    boundaries on grains)."""
    write_grid_set(root)
    for mask in (root / "masks").iterdir():
        boundaries = np.asarray(Image.open(mask)) == 0
        Image.fromarray(boundaries.astype(np.uint8)).save(mask)
    return root


@pytest.mark.parametrize(
    "values, names, expected",
    [
        ([0, 255], ["membrane", "cell"], 0),  # ISBI as shipped
        ([255, 0], ["cell", "membrane"], 1),  # membrane = class 1
        ([255, 0], None, 1),  # mask value 0
        ([255, 0], ["Cell", "Membrane"], 1),
        ([0, 1, 2], ["background", "boundary", "interior"], 0),  # nuclei
        ([1, 2], None, 0),
        (None, ["a", "b"], 0),
        ([0, 255], ["cell", "background"], 1),  # a name wins over the value
        ([0, 1], ["grain", "boundary"], 1),  # SEM grain boundaries drawn as 1
        ([0, 1], ["grain", "Grain Boundaries"], 1),  # the last word
        ([0, 1], ["cell", "cell_edge"], 1),
        ([0, 1], ["cell", "cell wall"], 1),  # walls, borders, outlines of two classes too
        ([0, 1], ["grain", "grain border"], 1),
        ([0, 1], ["cell", "outline"], 1),
        ([0, 1, 255], ["grain", "boundary", "void"], 1),  # void is no class to count
        ([0, 1], ["background", "edge"], 0),
        ([0, 1], ["edge case", "x"], 0),  # boundary words but as the last word only
        # of three classes or more a boundary is part of the objects, or an object class
        ([0, 1, 2], ["pore", "grain", "contours"], 0),
        ([0, 1, 2], ["boundary", "interior", "background"], 2),  # background still wins
        ([0, 1, 2], ["0", "boundary", "interior"], 0),  # the 3-class layout, 0 unnamed
        ([0, 1, 2], ["bg", "cell boundary", "Cell_Interior"], 0),
        ([0, 1, 2], ["bg", "cell", "boundary"], 0),
        ([0, 1, 2], ["0", "nucleus", "contour"], 0),
        ([0, 1, 2], ["0", "inside", "edge"], 0),
        ([0, 1, 2], ["0", "field", "field boundary"], 0),
        ([0, 1, 2, 3], ["road", "sidewalk", "curb edge", "car"], 0),
        ([0, 1, 2, 3, 4], ["road", "sidewalk", "building", "wall", "border"], 0),
        ([0, 1, 2], ["0", "cytoplasm", "membrane"], 2),  # membrane alone: any count
        # as users name the background: bg, backdrop, any case, spaces, _ and - aside
        ([0, 255], ["cell", "bg"], 1),
        ([0, 255], ["cell", "Backdrop"], 1),
        ([0, 255], ["cell", "back ground"], 1),
        ([0, 255], ["cell", "Background "], 1),
        ([0, 255], ["cell", "BACK_GROUND"], 1),
        ([0, 1, 2], ["membrane", "cell", "BG"], 2),  # before membrane, as background is
        ([1, 2, 3], ["cell", "nucleus", "bg"], 2),  # at any count
        # void (the ignored band of Cityscapes-like sets) and none are no background
        ([255, 0], ["void", "cell"], 1),
        ([255, 0], ["none", "cell"], 1),
    ],
)
def test_background_class(values, names, expected):
    assert background_class(values, names) == expected


@pytest.mark.parametrize(
    "values, names, ignored, expected",
    [
        ([1, 2, 3], None, 0, None),  # mask 0 = nodata: vegetation (1) is no background
        ([1, 2, 3], ["vegetation", "water", "soil"], 0, None),
        ([1, 2, 3], ["background", "water", "soil"], 0, 0),  # named: kept
        ([0, 1, 2], None, 0, 0),  # 0 is a class after all (--label-values)
        ([1, 2, 3], None, 255, 0),  # another value ignored: as before
        ([1, 2, 3], None, None, 0),
        ([0, 1, 2], ["grain", "boundary", "unsure"], 2, 1),  # the ignored class: not counted
        ([0, 1, 2], ["grain", "boundary", "unsure"], None, 0),
    ],
)
def test_no_background_where_mask_value_0_is_ignored(values, names, ignored, expected):
    assert background_class(values, names, ignore_value=ignored) == expected


def test_a_background_in_many_regions_beside_a_network_is_named():
    cells_first = [np.where(membrane_grid() == 255, 0, 1)] * 2  # class 0 = cells
    names = ["cell", "membrane"]
    line = problem_line(names, None, 0, *background_network(cells_first, 0, names))
    assert "'cell' (index 0) lies in 36 separate regions" in line
    assert "'membrane' (index 1) forms one connected network" in line
    assert "data.class_names" in line
    assert background_network(cells_first, 1, names) is None
    # nuclei-like: the background is one region, the objects many: nothing to say
    assert background_network([1 - cells_first[0]], 0, ["background", "nucleus"]) is None


@pytest.mark.parametrize("label_values", [[0, 255], [255, 0]])
def test_the_weight_map_puts_the_border_term_on_the_membrane_either_way(
    tmp_path, label_values, caplog
):
    from unetlab.train import prepare_data

    root = write_grid_set(tmp_path / "data")
    names = "{0: membrane, 255: cell}"
    cfg = load_config(
        None,
        [
            f"data.root={root}",
            f"data.label_values={label_values}",
            f"data.class_names={names}",
            "data.weight_map=true",
            "data.val_fraction=0.34",
        ],
    )
    with caplog.at_level(logging.INFO, logger="unetlab"):
        data = prepare_data(cfg)
    sample = data.train[0]
    membrane = sample.mask == label_values.index(0)
    assert sample.weight[membrane].mean() > 5 > sample.weight[~membrane].max()
    assert "every class but 'membrane'" in caplog.text
    # the cells, less those the image edge cuts (object sizes come from whole regions)
    assert data.objects["count"] == sum(
        _whole_cells(s.mask == label_values.index(255)) for s in data.train + data.val
    )


def _whole_cells(cell) -> int:
    from skimage.measure import label
    from skimage.segmentation import clear_border

    cells = label(cell, connectivity=1)
    return len(np.unique(clear_border(cells))) - 1


def _cells_as_background(tmp_path):
    """A config training :func:`write_grid_set`'s cells as the class named background."""
    root = write_grid_set(tmp_path / "data")
    names = ["data.label_values=[255, 0]", "data.class_names={255: background, 0: edge}"]
    return load_config(None, [f"data.root={root}", *names, "data.weight_map=true"])


def test_cells_named_as_background_are_warned_of(tmp_path, caplog):
    from unetlab.train import prepare_data

    cfg = _cells_as_background(tmp_path)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        prepare_data(cfg)
    assert "the background class 'background' (index 0) lies in 36 separate" in caplog.text


def test_the_warning_takes_each_class_s_regions_as_the_object_sizes_labelled_them(
    tmp_path, caplog, monkeypatch
):
    """``_say_background`` labelled each other class of each training mask again
    (``_network``) where the object sizes' regions of the same masks (``region_facts``)
    hold their areas (s61); the same warning from those, none labelled again."""
    import traceback

    import scipy.ndimage

    from unetlab.train import prepare_data

    cfg = _cells_as_background(tmp_path)
    by, real = [], scipy.ndimage.label

    def label(*args, **kwargs):
        by.extend(f.name for f in traceback.extract_stack()[:-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.ndimage, "label", label)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        data = prepare_data(cfg)
    assert "the background class 'background' (index 0) lies in 36 separate" in caplog.text
    assert "'edge' (index 1) forms one connected network" in caplog.text
    assert by.count("background_network") == len(data.train)  # its own class's regions
    assert by.count("_network") == 0  # one per training mask before


def test_the_background_problem_is_the_same_from_labelled_regions():
    from unetlab.data.labels import instances
    from unetlab.data.object_sizes import region_facts

    cells_first = [
        np.where(membrane_grid() == 255, 0, 1),
        np.where(membrane_grid(48, 6) == 255, 0, 1),
    ]
    for background, names in [(0, ["cell", "membrane"]), (1, ["cell", "membrane"])]:
        labelled = [region_facts(instances(m, boundary_class=background), m) for m in cells_first]
        alone = background_network(cells_first, background, names)
        assert (alone is None) == (background == 1)  # the cells as the background: a finding
        assert background_network(cells_first, background, names, labelled) == alone


def test_the_background_problem_takes_each_class_s_own_regions_of_three_classes():
    """Each class's regions alone of the labelled ones: dots (class 1) in the cells (0, the
    background) and a membrane network (2); all regions together are no one network."""
    from unetlab.data.labels import instances
    from unetlab.data.object_sizes import region_facts

    masks = []
    for cell in (6, 8):
        mask = np.where(membrane_grid(48, cell) == 0, 2, 0)
        mask[3::cell, 3::cell] = 1
        masks.append(mask)
    names = ["cell", "dots", "membrane"]
    labelled = [region_facts(instances(m, boundary_class=0), m) for m in masks]
    alone = background_network(masks, 0, names)
    assert alone is not None and alone[0] == 2  # the membrane, one connected network
    assert background_network(masks, 0, names, labelled) == alone


def test_boundaries_drawn_as_mask_value_1_are_warned_of_without_border_weights(tmp_path, caplog):
    """SEM grain boundaries drawn as 1 on grains of 0 (user trial s67): mask value 0, the
    grains, is the background, so predict --instances found one object per image, the
    boundary network. Training said nothing where the plan had turned the border weights
    off; it now warns, with the --set that names the boundaries."""
    from unetlab.train import prepare_data

    root = write_boundary_set(tmp_path / "data")
    cfg = load_config(None, [f"data.root={root}", "data.weight_map=false"])
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        prepare_data(cfg)
    assert "the background class '0' (index 0) lies in 36 separate regions" in caplog.text
    assert "the objects (the plan's sizes, predict --instances" in caplog.text
    assert """--set 'data.class_names={1: "boundary"}'""" in caplog.text


def _boundary_model(tmp_path, *names):
    """(data root, checkpoint): :func:`write_grid_set` with the membranes drawn as 1 on cells
    of 0 (grain boundaries), and an untrained tiny model recording training's objects (the
    classes named by the ``names`` overrides, if any)."""
    import torch

    from unetlab.checkpoint import save_model
    from unetlab.models import UNet
    from unetlab.train import prepare_data

    root = write_boundary_set(tmp_path / "data")
    data = prepare_data(load_config(None, [f"data.root={root}", "data.weight_map=false", *names]))
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values, model.objects = data.class_names, [0, 1], data.objects
    save_model(tmp_path / "m.pt", model)
    return root, tmp_path / "m.pt"


LINE = "objects: training warned that the background class '0' (index 0) lies in 36"
FIX = """--set 'data.class_names={1: "boundary"}'; retrain so named"""


def test_predict_instances_says_the_background_problem_training_recorded(tmp_path, caplog):
    """The same trial: training's warning scrolls by before minutes of training; the
    checkpoint records it and predict --instances says it again where it counts the objects."""
    from unetlab.cli import main

    root, checkpoint = _boundary_model(tmp_path)
    args = ["--checkpoint", str(checkpoint), "--input", str(root / "images")]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["predict", *args, "--output", str(tmp_path / "out"), "--instances"]) == 0
    assert LINE in caplog.text and FIX in caplog.text


def test_evaluate_says_the_background_problem_training_recorded(tmp_path, capsys):
    """evaluate --checkpoint scores the same objects: it says the line too."""
    from unetlab.cli import main

    root, checkpoint = _boundary_model(tmp_path)
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(root)]) == 0
    out = capsys.readouterr().out
    assert LINE in out and FIX in out


def test_a_network_the_user_named_is_no_warning_nor_said_again_by_predict(tmp_path, caplog):
    """A road network (the network class) on land, named by the user ``{0: land, 1: road}``:
    the roads are the objects, as meant. Training warned on every run and predict
    --instances said "retrain so named" (s67 review); now training says it at INFO alone,
    and the checkpoint records nothing for predict to repeat."""
    from unetlab.cli import main

    caplog.set_level(logging.INFO, logger="unetlab")
    root, checkpoint = _boundary_model(tmp_path, "data.class_names={0: land, 1: road}")
    said = [r for r in caplog.records if "forms one connected network" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "If 'road' is the boundary between the objects" in said[0].getMessage()
    caplog.clear()
    args = ["--checkpoint", str(checkpoint), "--input", str(root / "images")]
    assert main(["predict", *args, "--output", str(tmp_path / "out"), "--instances"]) == 0
    assert "objects: semantic mode" in caplog.text
    assert "training warned" not in caplog.text


def _warned_fix(root, names: list[str], caplog) -> tuple[str | None, int]:
    """(the --set argument training's warning on ``root`` prints, shell-parsed, or None;
    the objects training counts) with the ``names`` overrides."""
    import shlex

    from unetlab.train import prepare_data

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        data = prepare_data(load_config(None, [f"data.root={root}", *names]))
    warned = [r.getMessage() for r in caplog.records if "connected network" in r.getMessage()]
    fix = shlex.split(warned[0].split("--set ", 1)[1])[0] if warned else None
    return fix, data.objects["count"]


def write_three_class_set(root):
    """:func:`write_boundary_set` with dots of mask value 2 in some grains (pores)."""
    write_boundary_set(root)
    for mask in (root / "masks").iterdir():
        values = np.asarray(Image.open(mask)).copy()
        values[4::16, 4::16] = 2
        Image.fromarray(values).save(mask)
    return root


@pytest.mark.parametrize(
    "names, expected",
    [
        ([], 'data.class_names={1: "boundary"}'),
        (["data.class_names={0: background, 1: edge}"], 'data.class_names={1: "boundary"}'),
        (["data.class_names={0: Background}"], 'data.class_names={1: "boundary"}'),
        (["data.class_names={0: grain}"], 'data.class_names={0: "grain", 1: "boundary"}'),
        (
            ["""data.class_names={0: "grain's"}"""],
            """data.class_names={0: "grain's", 1: "boundary"}""",
        ),
        (["data.class_names={0: '#1 null'}"], 'data.class_names={0: "#1 null", 1: "boundary"}'),
        (["three classes"], 'data.class_names={1: "membrane"}'),
        (
            ["three classes", "data.class_names={2: interior}"],
            'data.class_names={1: "membrane", 2: "interior"}',
        ),
        (
            ["three classes", "data.class_names={0: grain, 2: pore}"],
            'data.class_names={0: "grain", 1: "membrane", 2: "pore"}',
        ),
    ],
)
def test_the_printed_set_applied_ends_the_warning(tmp_path, caplog, names, expected):
    """The --set the warning prints, applied as the shell passes it, names the boundaries the
    background: no warning again, the regions they enclose the objects. It renamed the
    network where another class was named background, which stayed the background (s67
    review: warned again); called every unnamed class ``object`` (three classes: two); and
    broke shell and YAML on a name with ``'`` or starting with ``#``. Of three classes the
    network is named ``membrane``, the background at any count, as ``boundary`` is of two
    alone (s67 re-review: ``{1: boundary, 2: interior}`` printed, applied, warned again)."""
    if names[:1] == ["three classes"]:
        root, names = write_three_class_set(tmp_path / "data"), names[1:]
    else:
        root = write_boundary_set(tmp_path / "data")
    fix, count = _warned_fix(root, names, caplog)
    fixed, fixed_count = _warned_fix(root, [*names, fix], caplog)
    assert fixed is None
    assert fixed_count > 3 * count  # the grains, not the network
    assert fix == expected


@pytest.mark.parametrize(
    "names", ["{0: grain, 1: boundary}", "{0: grain, 1: grain boundary}", "{1: Cell-Edges}"]
)
def test_boundaries_named_boundary_are_the_background_as_membrane_is(tmp_path, caplog, names):
    """A materials user names the SEM grain boundaries (drawn as 1) ``boundary`` or ``grain
    boundary`` (s67 review): training said the network at INFO alone, as for roads, and the
    objects training counted and predict --instances found were the boundary network, one
    per image. Now such a name makes the class the background, as ``membrane`` does: no
    line, the grains the objects of training and of predict's object step."""
    from unetlab import load_model
    from unetlab.inference.objects import ObjectOptions, objects_from_probabilities

    caplog.set_level(logging.INFO, logger="unetlab")
    root, checkpoint = _boundary_model(tmp_path, f"data.class_names={names}")
    assert "connected network" not in caplog.text
    model = load_model(checkpoint)
    assert "background_problem" not in model.objects
    assert model.objects["count"] == 3 * 25  # the 5 x 5 grains no image edge cuts
    assert model.objects["area_median"] == 49  # a 7 x 7 grain, not the network
    mask = np.asarray(Image.open(root / "masks" / "00.png"))
    one_hot = np.stack([mask == 0, mask == 1]).astype(np.float32)
    objects = objects_from_probabilities(one_hot, ObjectOptions.for_model(model))
    assert objects.max() == 36 and (objects[mask == 1] == 0).all()


def test_a_boundary_name_is_a_class_to_ignore_value_and_the_plan_counts_classes():
    """names_a_class, which ``data.ignore_value`` checks, reads names as before boundaries
    made a background (membrane none, a boundary, wall or border a class); the overlay keeps
    a two-class set's boundary 0 black as its background. The plan's background value
    follows the names as training does, the mask values held counted as classes."""
    from unetlab.data.classes import names_a_class, voc_class_colours, voc_colormap
    from unetlab.data.fingerprint import background

    assert not names_a_class("membrane")
    assert all(map(names_a_class, ["Boundary", "grain boundary", "wall", "border", "grain"]))
    black = voc_colormap(2)[0].tolist()
    assert voc_class_colours(2, ["grain boundary", "grain"], 0)[0].tolist() == black
    assert voc_class_colours(3, ["edge", "road", "car"], 0)[0].tolist() != black
    assert background([0, 1], [90, 10], {0: "grain", 1: "grain boundary"}) == 1
    assert background([0, 1], [90, 10], {0: "land", 1: "road"}) == 0
    assert background([0, 1, 2], [80, 10, 10], {1: "boundary", 2: "interior"}) == 0
    assert background([0, 1, 2], [80, 10, 10], {1: "nucleus", 2: "contour"}) == 0
    assert background([0, 1, 255], [80, 10, 10], {0: "cell", 1: "cell wall"}) == 1


@pytest.mark.parametrize(
    "names",
    [["cell", "cell wall"], ["cells", "walls"], ["grain", "grain border"], ["cell", "outline"]],
)
def test_walls_borders_and_outlines_of_two_classes_give_the_grains(tmp_path, names):
    """A plant biologist's cell walls, a materials user's grain borders or a cell's outline,
    drawn as 1 on a network (s67 re-review, finding 4): the background, no warning, the
    regions it encloses the objects."""
    from scipy import ndimage

    root = write_boundary_set(tmp_path / "data")
    masks = [np.asarray(Image.open(m)) for m in sorted((root / "masks").iterdir())]
    background = background_class([0, 1], names)
    assert background == 1
    assert background_network(masks, background, names) is None
    assert ndimage.label(masks[0] != background)[1] == 36  # the grains


def _nuclei_one_hot():
    """(3, 96, 96) one-hot of 9 nuclei (1) each ringed by its contour (2) on 0."""
    from scipy import ndimage

    yy, xx = np.mgrid[:96, :96]
    mask = np.zeros((96, 96), np.uint8)
    for cy in range(16, 96, 32):
        for cx in range(16, 96, 32):
            mask[np.hypot(yy - cy, xx - cx) < 10] = 1
    inner = ndimage.binary_erosion(mask == 1, iterations=2)
    mask[(mask == 1) & ~inner] = 2
    return np.stack([mask == k for k in range(3)]).astype(np.float32)


@pytest.mark.parametrize(
    "names", [["bg", "cell", "boundary"], ["0", "nucleus", "contour"], ["0", "inside", "edge"]]
)
def test_a_boundary_of_three_classes_is_part_of_the_objects(names):
    """Of three classes the boundary is no background (s67 re-review, finding 1): value 0
    stays it, as before boundary names made one, and the objects are the nuclei and their
    contours (9 + 9), not the nuclei alone with 0 and the contours one background."""
    from types import SimpleNamespace

    from unetlab.inference.objects import (
        ObjectOptions,
        objects_background,
        objects_from_probabilities,
    )

    model = SimpleNamespace(
        classes=names, label_values=[0, 1, 2], num_classes=3, ignore_value=None, objects={}
    )
    background = objects_background(model)
    objects = objects_from_probabilities(
        _nuclei_one_hot(), ObjectOptions(background=background, min_area=10)
    )
    assert background == 0 and objects.max() == 18


@pytest.mark.parametrize(
    "names",
    [
        ["road", "sidewalk", "building", "car", "edge"],
        ["road", "sidewalk", "curb edge", "car"],
        ["road", "sidewalk", "building", "wall", "border"],
    ],
)
def test_a_scene_s_edge_wall_or_border_leaves_the_road_the_background(names):
    """A road scene's edge, curb edge, wall or border is an object class (s67 re-review,
    finding 2): the road stays the background, a class of its own coloured in overlays."""
    from types import SimpleNamespace

    from unetlab.inference.predict import background_is_a_class, model_background
    from unetlab.inference.records import class_palette

    k = len(names)
    model = SimpleNamespace(
        classes=names, label_values=list(range(k)), num_classes=k, ignore_value=None
    )
    model.palette = None
    assert model_background(model) == 0 and background_is_a_class(model)
    assert class_palette(model)[0].tolist() != [0, 0, 0]


def test_evaluate_takes_a_class_named_grain_boundary_as_the_boundary_class(tmp_path):
    """evaluate --pred with the classes so named scores the grains (36 a mask) as its
    objects, not the boundary network (one a mask)."""
    import shutil

    from unetlab.evaluate import evaluate_predictions

    root = write_boundary_set(tmp_path / "data")
    shutil.copytree(root / "masks", tmp_path / "pred")
    names = ["grain", "grain boundary"]
    report = evaluate_predictions(tmp_path / "pred", root / "masks", class_names=names)
    assert report.to_dict()["boundary_class"] == "grain boundary"
    assert "objects            108 predicted, 108 true" in report.table()


def _with_unsure_corners(root):
    """:func:`write_boundary_set`'s masks with a 3 x 3 corner of mask value 2 (unsure: the
    value ``data.ignore_value`` ignores), and a names file naming it too."""
    for mask in (root / "masks").iterdir():
        values = np.asarray(Image.open(mask)).copy()
        values[:3, :3] = 2
        Image.fromarray(values).save(mask)
    (root / "class_names.txt").write_text("grain\ngrain boundary\nunknown\n")
    return root


def test_the_plan_counts_no_class_of_the_ignored_value_it_names(tmp_path, capsys, caplog):
    """class_names.txt names the ignored value too (s67 re-review): the plan took three
    classes, so no boundary background, and sized tiles by the boundary network (48 px, no
    border weights); training's two classes make the boundary the background, the grains
    the objects, as with the two names alone."""
    from unetlab.cli import main

    root = _with_unsure_corners(write_boundary_set(tmp_path / "data"))
    caplog.set_level(logging.INFO, logger="unetlab")
    args = ["train", "--data", str(root), "--check", "--set", "data.ignore_value=2"]
    assert main(args) == 0
    printed = capsys.readouterr()
    said = printed.out + printed.err + caplog.text
    assert "data.tile_size = 32: objects are ~8 px across" in said
    assert "data.weight_map = true: 100% of" in said


def test_train_predict_and_evaluate_take_one_background_beside_an_ignored_class(tmp_path):
    """label_values [0, 1, 2] with 2 ignored, named grain, boundary, unsure: two classes, the
    boundary the background for training's objects, predict's labels and --instances and
    evaluate's boundary class alike (training and evaluate took 0, predict --instances 1)."""
    from types import SimpleNamespace

    import torch

    from unetlab.evaluate import evaluate_model
    from unetlab.inference import objects, predict
    from unetlab.models import UNet
    from unetlab.train import prepare_data

    root = _with_unsure_corners(write_boundary_set(tmp_path / "data"))
    names = ["grain", "boundary", "unsure"]
    sets = ["data.label_values=[0, 1, 2]", "data.ignore_value=2", "data.weight_map=false"]
    named = 'data.class_names={0: "grain", 1: "boundary", 2: "unsure"}'
    data = prepare_data(load_config(None, [f"data.root={root}", *sets, named]))
    assert data.objects["count"] == 3 * 24  # the grains no image edge nor unsure corner cuts
    model = SimpleNamespace(classes=names, label_values=[0, 1, 2], ignore_value=2, num_classes=3)
    assert predict.model_background(model) == objects.objects_background(model) == 1
    assert not predict.background_is_a_class(model)
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.classes, net.label_values, net.ignore_value = names, [0, 1, 2], 2
    report = evaluate_model(net, root, progress=False, device="cpu", objects=True)
    assert report.to_dict()["boundary_class"] == "boundary"


def test_predict_and_evaluate_read_the_ignored_value_of_an_old_checkpoint_alike():
    """A checkpoint from before the ignored mask value was recorded (its config's
    data.ignore_value 2): grain / grain boundary / unsure is two classes to predict's
    objects and label images as to evaluate's boundary class (s67 fin-bg: evaluate took
    the boundary, predict --instances 0)."""
    from types import SimpleNamespace

    from unetlab.evaluate.model import _boundary
    from unetlab.inference import objects, predict

    names = ["grain", "grain boundary", "unsure"]
    model = SimpleNamespace(
        classes=names, label_values=[0, 1, 2], ignore_value=None, training_data={"ignore_value": 2}
    )
    assert objects.objects_background(model) == predict.model_background(model) == 1
    assert _boundary("auto", names, model) == 1


@pytest.mark.parametrize("name", ["bg", "Backdrop", "back ground", "Background "])
def test_every_choice_by_name_takes_the_background_names_users_write(name):
    """The plan's background mask value, predict's and predict --instances' background
    class and the names that name no class of their own read one rule
    (:func:`unetlab.data.classes.background_rank`): only "background" was taken."""
    from types import SimpleNamespace

    from unetlab.data.classes import names_a_class
    from unetlab.data.fingerprint import background
    from unetlab.inference import objects, predict

    assert background([0, 255], [10, 90], {0: "cell", 255: name}) == 255
    model = SimpleNamespace(classes=["cell", name], label_values=[0, 255], ignore_value=None)
    assert predict.model_background(model) == objects.objects_background(model) == 1
    assert not names_a_class(name)


@pytest.mark.parametrize("name", ["bg", "Back ground", "BACK_GROUND", "backdrop"])
def test_a_network_fix_names_no_class_by_a_background_name_users_write(name):
    """The line that tells the user to name a network class membrane keeps the other names
    but those naming the background before it (review s68: with the old list only
    'background' and 'membrane' were dropped, so the fix kept {2: 'bg'}, naming 2 the
    background again); a network class so named says nothing of what it is (a plain name:
    not warned of as named for itself)."""
    from unetlab.data.weightmap import background_naming, named_network

    said = background_naming(["cells", "net", name], [0, 1, 2], 1)
    assert f"'{name}' unnamed" in said and '{0: "cells", 1: "membrane"}' in said
    assert not named_network(["background", name, "cells"], [0, 1, 2], 2, 1)

"""bioimage.io packages: the description's pure parts, the files, reading packages back
safely, and the format's own test (bioimageio.core, an optional test dependency)."""

from __future__ import annotations

import importlib
import importlib.util
import io
import logging
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from unetlab.checkpoint import load_model, save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError, first_line
from unetlab.inference.bioimageio import (
    PackageInfo,
    architecture_source,
    export_bioimageio,
    halo,
    min_tile_size,
    model_rdf,
    preprocessing,
    remove_stale_builds,
    sample_size,
    validation_image,
)
from unetlab.inference.export import probability_model
from unetlab.models import UNet
from unetlab.packages import load_package

pytest.importorskip("onnx")  # the packages carry ONNX weights too
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # torch.jit in torch 2.13
    # bioimageio.core runs a package's net once per block, many small calls: on two threads
    # beside other work each waited for the other thread (143 blocks of the tiling test:
    # 31 s, 2.7 s on one thread, load 7.5)
    pytest.mark.usefixtures("one_thread"),
]


def _tiny(padding: str = "valid", **kw) -> UNet:
    norm = "batch" if padding == "same" else None
    model = UNet(1, 2, depth=2, base_channels=4, padding=padding, norm=norm, **kw).eval()
    model.classes, model.label_values = ["membrane", "cell"], [0, 255]
    return model


def _rdf(folder: Path) -> dict:
    return yaml.safe_load((folder / "rdf.yaml").read_text())


def test_preprocessing_in_the_formats_terms():
    model = _tiny()
    assert preprocessing(model, np.dtype(np.uint8)) == [
        {"id": "zero_mean_unit_variance", "kwargs": {"axes": ["y", "x"], "eps": 1e-6}}
    ]
    model.normalization = {"mode": "fixed", "mean": [120.0], "std": [0.0]}
    (step,) = preprocessing(model, np.dtype(np.uint8))
    assert step["id"] == "fixed_zero_mean_unit_variance"
    assert step["kwargs"] == {"mean": [120.0], "std": [1e-6], "axis": "channel"}
    model.normalization = {"mode": "scale"}
    (step,) = preprocessing(model, np.dtype(np.uint16))
    assert step == {"id": "scale_linear", "kwargs": {"gain": 1 / 65535, "offset": 0.0}}


@pytest.mark.usefixtures("frozen_heap")
def test_percentile_normalisation_is_the_formats_scale_range(tmp_path):
    """The plan's choice for 16-bit data could not be packaged ('no bioimage.io equivalent');
    bioimageio.core's scale_range reproduces unetlab's map of a uint16 image."""
    model = _tiny("same")
    model.normalization = {"mode": "percentile", "low": 1.0, "high": 99.8}
    (step,) = preprocessing(model, np.dtype(np.uint16))
    assert step == {
        "id": "scale_range",
        "kwargs": {"axes": ["y", "x"], "min_percentile": 1.0, "max_percentile": 99.8, "eps": 1e-6},
    }
    model.normalization = {"mode": "percentile", "low": 0.1, "high": 0.9}
    with pytest.raises(UnetlabError, match="takes more than 1; export --onnx"):
        preprocessing(model, np.dtype(np.uint16))
    model.normalization = {"mode": "percentile", "low": 2.0, "high": 99.0}
    rng = np.random.default_rng(4)
    sample = (rng.gamma(2.0, 900.0, (160, 160)) + 300).clip(0, 65535).astype(np.uint16)
    dest = export_bioimageio(model, tmp_path / "p.zip", sample=sample, weight_formats=("onnx",))
    core = pytest.importorskip(
        "bioimageio.core", reason="bioimageio.core not installed (pip install bioimageio.core)"
    )
    summary = core.test_model(dest)
    assert summary.status == "passed", [d.name for d in summary.details if d.status != "passed"]


@pytest.mark.usefixtures("frozen_heap")
def test_ct_normalisation_is_the_formats_clip_then_fixed_statistics(tmp_path):
    """A ct model (clipped to the training foreground's percentiles, then standardised with
    its mean and std) was refused with advice to retrain with percentiles, far worse on CT
    (s71 review): its package clips, then standardises, and bioimageio.core's test
    reproduces unetlab's probabilities on a CT slice of air, tissue and bone."""
    model = _tiny("same")
    ct = {"mode": "ct", "low": 0.5, "high": 99.5, "lower": [-60.0], "upper": [140.0]}
    model.normalization = ct | {"mean": [40.0], "std": [30.0]}
    assert preprocessing(model, np.dtype(np.int16)) == [
        {"id": "clip", "kwargs": {"min": -60.0, "max": 140.0}},
        {
            "id": "fixed_zero_mean_unit_variance",
            "kwargs": {"mean": [40.0], "std": [30.0], "axis": "channel"},
        },
    ]
    rgb = UNet(3, 2, depth=2, base_channels=4).eval()
    rgb.normalization = model.normalization | {"lower": [-60.0, -50.0, -60.0]}
    with pytest.raises(UnetlabError, match="clips each of the 3 channels to its own range"):
        preprocessing(rgb, np.dtype(np.int16))
    rng = np.random.default_rng(5)
    hu = rng.normal(40, 30, (160, 160))
    hu[:, :40], hu[60:80, 60:80] = -1000, 1200  # air, bone
    sample = hu.astype(np.int16)
    dest = export_bioimageio(model, tmp_path / "p.zip", sample=sample, weight_formats=("onnx",))
    core = pytest.importorskip(
        "bioimageio.core", reason="bioimageio.core not installed (pip install bioimageio.core)"
    )
    said = "Input normalisation: unetlab `ct` (clip then fixed_zero_mean_unit_variance in"
    with zipfile.ZipFile(dest) as package:
        assert said in package.read("README.md").decode()
        rdf = yaml.safe_load(package.read("rdf.yaml"))
    assert rdf["config"]["unetlab"]["normalization"] == model.normalization  # for unetlab
    summary = core.test_model(dest)
    assert summary.status == "passed", [d.name for d in summary.details if d.status != "passed"]


def test_a_grey_sample_for_an_rgb_model_is_said(tmp_path, caplog):
    """It was taken silently; predict warns in the same case."""
    model = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    grey = (np.random.default_rng(6).random((128, 128)) * 255).astype(np.uint8)
    with caplog.at_level("WARNING", logger="unetlab.inference.bioimageio"):
        export_bioimageio(model, tmp_path / "p", sample=grey, weight_formats=("onnx",))
    assert "the sample image is grey, the model takes 3 channels: its channel is repeated" in (
        caplog.text
    )


def test_package_names_the_format_refuses():
    for name in ("best", "a/b model", "x" * 129):
        with pytest.raises(UnetlabError, match=r"choose another name \(PackageInfo\(name=") as e:
            PackageInfo(name=name)
        assert first_line(e.value, cli=True).endswith("choose another --name")  # s54
    assert PackageInfo(name="U-Net (EM 2x)").name == "U-Net (EM 2x)"


def test_tiling_rule_of_valid_and_same_nets():
    valid = UNet.from_preset("paper")  # border 92, valid sizes 188 + 16 n
    rdf = model_rdf(valid, PackageInfo(pixel_size=0.5), ["torchscript"])
    y_in = rdf["inputs"][0]["axes"][2]
    y_out = rdf["outputs"][0]["axes"][2]
    assert y_in["size"] == {"min": 188, "step": 16}
    assert y_out["size"] == {"tensor_id": "raw", "axis_id": "y", "offset": -184}
    assert "halo" not in y_out and y_out["unit"] == "micrometer" and y_out["scale"] == 0.5
    assert sample_size(valid) == 252  # 184 + 64 -> the next valid size
    same = UNet.from_preset("small")  # depth 4: receptive field 89 -> 44 + 8 + 1 -> 56
    assert same.receptive_field // 2 == 44 and halo(same) == 56  # on the pooling grid (8)
    assert min_tile_size(same) == 120  # the first multiple of 8 above 2 x 56
    rdf = model_rdf(same, PackageInfo(), ["torchscript"])
    assert rdf["inputs"][0]["axes"][3]["size"] == {"min": 120, "step": 8}
    x_out = rdf["outputs"][0]["axes"][3]
    assert x_out["halo"] == 56 and x_out["size"]["offset"] == 0


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_a_tile_is_the_whole_images_map_beyond_the_halo(depth, upsample):
    """The halo's oracle: a same net run on a tile that starts or ends on the size grid gives
    the whole image's map (float64) from a halo inside the tile's edge on; a tile starting
    off the grid (a halo of 44 on a step of 8) does not."""
    torch.manual_seed(depth)
    net = UNet(1, 2, depth=depth, base_channels=2, padding="same", upsample=upsample)
    net = net.double().eval()
    step, h = net.size_multiple, halo(net)
    assert h % step == 0
    x = torch.randn(1, 1, step, 2 * h + 6 * step, dtype=torch.float64)
    with torch.inference_mode():
        whole = net(x)
        for cut in range(step, 3 * step, step):
            left = net(x[..., cut:])  # a tile whose left edge is at ``cut``
            torch.testing.assert_close(left[..., h:], whole[..., cut + h :], rtol=0, atol=1e-9)
            right = net(x[..., : x.shape[-1] - cut])
            end = right.shape[-1] - h
            torch.testing.assert_close(right[..., :end], whole[..., :end], rtol=0, atol=1e-9)
        if depth > 2:  # off the grid: the pools pair other pixels
            shifted = net(x[..., step // 2 : step // 2 + x.shape[-1] - step])
            assert not torch.allclose(
                shifted[..., h:-h], whole[..., step // 2 + h : -h - step // 2]
            )


@pytest.mark.usefixtures("frozen_heap")
def test_bioimageio_core_tiles_give_unetlab_map(tmp_path):
    """bioimageio.core's tiled prediction of a same net's package is unetlab's map away
    from the image edges (with half the receptive field as the halo, 20 px here: 0.03 apart;
    a depth-4 net's 44, off the size step: up to 0.8 apart, 99.7% of the labels)."""
    core = pytest.importorskip(
        "bioimageio.core", reason="bioimageio.core not installed (pip install bioimageio.core)"
    )
    from unetlab.inference.predict import predict_image

    torch.manual_seed(0)
    model = UNet(1, 2, depth=3, base_channels=4, padding="same").eval()  # step 4, halo 28
    torch.nn.init.normal_(model.head.weight, 0, 2.0)  # a net whose map changes with the grid
    image = (np.random.default_rng(3).random((84, 100)) * 255).astype(np.uint8)
    dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=("torchscript",))
    pipeline = core.create_prediction_pipeline(core.load_description(dest / "rdf.yaml"))
    tensor = core.Tensor(image[None, None].astype(np.float32), dims=("batch", "channel", "y", "x"))
    out = core.predict(model=pipeline, inputs={"raw": tensor}, blocksize_parameter=1)
    got = out.members["probabilities"].data.values[0]
    expected = predict_image(model, image)
    assert got.shape == expected.shape
    h = halo(model)
    inner = (slice(None), slice(h, -h), slice(h, -h))
    assert np.abs(got[inner] - expected[inner]).max() < 1e-4


def test_architecture_source_runs_without_unetlab(tmp_path):
    model = _tiny("same", upsample="bilinear", fusion="add")
    source = tmp_path / "arch.py"
    source.write_text(architecture_source())
    assert "unetlab" not in "".join(
        line for line in source.read_text().splitlines() if line.startswith(("import", "from"))
    )
    spec = importlib.util.spec_from_file_location("arch_under_test", source)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules["arch_under_test"] = module  # as bioimageio.core imports it
    try:
        spec.loader.exec_module(module)
        from dataclasses import asdict

        net = module.ProbabilityUNet(**asdict(model.config)).eval()
        net.load_state_dict(model.state_dict())
        x = torch.randn(2, 1, 24, 32)
        with torch.inference_mode():
            assert torch.equal(net(x), probability_model(model)(x))
        model.label_offset = (0.25, -1.0)  # the move is in the file too
        moved = module.ProbabilityUNet(**asdict(model.config), label_offset=[0.25, -1.0])
        moved.load_state_dict(model.state_dict())
        with torch.inference_mode():
            assert torch.equal(moved.eval()(x), probability_model(model)(x))
            assert not torch.equal(moved(x), net(x))
    finally:
        del sys.modules["arch_under_test"]


def test_architecture_source_refuses_a_bad_size_without_unetlab(tmp_path):
    """The package's unet_architecture.py raised NameError: UnetlabError (its import line was
    dropped) instead of naming the sizes to use; run in a fresh interpreter, unetlab hidden."""
    source = tmp_path / "unet_architecture.py"
    source.write_text(architecture_source())
    script = (
        "import sys; sys.modules['unetlab'] = None\n"
        "import runpy, torch\n"
        f"ns = runpy.run_path({str(source)!r})\n"
        "net = ns['ProbabilityUNet'](1, 2, depth=3, base_channels=2, padding='same').eval()\n"
        "print(tuple(net(torch.zeros(1, 1, 12, 16)).shape))\n"
        "try:\n    net(torch.zeros(1, 1, 13, 16))\n"
        "except ValueError as exc:\n    print(type(exc).__name__, exc)\n"
        "net = ns['UNet'].from_preset('small-valid')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "(1, 2, 12, 16)",
        "UnetlabError 13 is not a valid input size for this net: try 12 or 16",
    ]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_package_files_and_round_trip(tmp_path, padding):
    model = _tiny(padding)
    model.ignore_value = 7  # the mask value its training counted nowhere
    model.channel = 1  # trained on channel 1 of two-channel images (data.channel)
    dest = export_bioimageio(model, tmp_path / "pkg", info=PackageInfo(name="tiny net"))
    rdf = _rdf(dest)
    assert rdf["format_version"].startswith("0.5.") and rdf["type"] == "model"
    assert rdf["outputs"][0]["axes"][1]["channel_names"] == ["membrane", "cell"]
    assert rdf["cite"][0]["doi"] == "10.1007/978-3-319-24574-4_28"
    assert set(rdf["weights"]) == {"torchscript", "onnx", "pytorch_state_dict"}
    assert "## Validation" in (dest / "README.md").read_text()
    assert "channel 1 (counting from 0) of the multi-channel" in (dest / "README.md").read_text()
    with Image.open(dest / "cover.png") as cover:
        assert cover.width == 2 * cover.height
    raw = np.load(dest / "test_input.npy")
    expected = np.load(dest / "test_output.npy")
    size = sample_size(model)
    assert raw.shape == (1, 1, size, size) and raw.dtype == np.float32
    assert expected.shape == (1, 2, *model.output_size((size, size)))
    np.testing.assert_allclose(expected.sum(1), 1.0, atol=1e-5)
    # read back: the same weights and metadata, and it predicts like the original
    loaded = load_package(dest)
    assert loaded.config == model.config
    assert loaded.classes == model.classes and loaded.label_values == [0, 255]
    assert loaded.ignore_value == 7 and loaded.channel == 1
    assert loaded.normalization == model.normalization
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert isinstance(load_model(dest / "rdf.yaml"), UNet)


def test_a_nuclei_models_package_gives_its_checkpoints_objects(tmp_path, caplog):
    """Audit s28 interchange, finding 1: a package lost the object record, so its objects
    were semantic (596 against 505 on the demo) with a fixed min area."""
    from tests.test_predict_objects import local_net, nuclei_image
    from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
    from unetlab.inference.predict import predict_image
    from unetlab.napari.core import load_for_widget

    model = UNet(1, 3, depth=2, base_channels=4, padding="valid").eval()
    model.classes = ["background", "boundary", "interior"]
    model.label_values = [0, 1, 2]
    model.objects = {"target": "instances", "count": 9, "area_p05": 60.0}
    model.palette = [[v, v, 255 - v] for v in range(256)]
    ckpt = save_model(tmp_path / "m.pt", model)
    # a model fresh from training may hold numpy numbers: the package holds plain ones
    model.objects["area_p05"], model.palette = np.float64(60.0), np.asarray(model.palette)
    export_bioimageio(model, tmp_path / "m.zip")
    # the objects of one probability map (a net that finds nuclei) by each one's options
    probs = predict_image(local_net(), nuclei_image(90, 90), tta=False)
    ids = {}
    for source in (ckpt, tmp_path / "m.zip"):
        loaded = load_for_widget(source)  # the napari widget's loader: load_model's
        assert loaded.objects == {"target": "instances", "count": 9, "area_p05": 60.0}
        assert loaded.palette == model.palette.tolist()
        ids[source.suffix] = objects_from_probabilities(probs, ObjectOptions.for_model(loaded))
    assert ids[".pt"].max() >= 5 and np.array_equal(ids[".pt"], ids[".zip"])
    semantic = objects_from_probabilities(probs, ObjectOptions(min_area=15))
    assert not np.array_equal(semantic, ids[".pt"])  # the loss the record prevents
    # a package from before the record: semantic objects, and its load says so
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist() if n != "rdf.yaml"}
        rdf = yaml.safe_load(zf.read("rdf.yaml"))
    del rdf["config"]["unetlab"]["objects"]
    with caplog.at_level("INFO", logger="unetlab.packages"):
        assert load_model(_zip_with(tmp_path / "old.zip", rdf, files)).objects is None
    assert "records no object facts" in caplog.text and "export it again" in caplog.text


def test_zip_package_is_written_atomically_and_read_back(tmp_path):
    model = _tiny()
    dest = tmp_path / "model.zip"
    export_bioimageio(model, dest)
    with zipfile.ZipFile(dest) as zf:
        assert "rdf.yaml" in zf.namelist() and "weights.pt" in zf.namelist()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    loaded = load_model(dest)
    assert torch.equal(loaded.head.weight, model.head.weight)
    export_bioimageio(model, dest)  # its own package is replaced


def test_refuses_to_replace_what_unetlab_did_not_write(tmp_path):
    model = _tiny()
    foreign_zip = tmp_path / "theirs.zip"
    with zipfile.ZipFile(foreign_zip, "w") as zf:
        zf.writestr("rdf.yaml", "type: model\n")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for dest in (foreign_zip, folder):
        with pytest.raises(UnetlabError, match="not a package unetlab wrote"):
            export_bioimageio(model, dest)
    assert (folder / "notes.txt").read_text() == "mine"
    assert zipfile.ZipFile(foreign_zip).read("rdf.yaml") == b"type: model\n"
    export_bioimageio(model, tmp_path / "pkg")
    export_bioimageio(model, tmp_path / "pkg")  # its own folder is replaced
    assert (tmp_path / "pkg" / "rdf.yaml").is_file()


_KILLED_EXPORT = """
import os, signal, sys
import unetlab.inference.bioimageio as bioimageio
from unetlab.models import UNet

def killed(net, folder, *rest):
    (folder / "weights.pt").write_bytes(b"a copy of the weights")
    os.kill(os.getpid(), signal.SIGKILL)

bioimageio._write_package = killed
model = UNet(1, 2, depth=2, base_channels=4).eval()
bioimageio.export_bioimageio(model, sys.argv[1], weight_formats=("pytorch_state_dict",))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGKILL, no flock")
def test_a_killed_exports_build_folder_goes_with_the_next_export_of_that_name(tmp_path):
    import fcntl

    dest = tmp_path / "pkg"
    killed = subprocess.run([sys.executable, "-c", _KILLED_EXPORT, str(dest)], check=False)
    assert killed.returncode == -9
    (stale,) = tmp_path.iterdir()  # .pkg.<12 hex>.tmp, with its copy of the weights
    assert (stale / "weights.pt").is_file() and not dest.exists()
    other = tmp_path / ".pkg2.0123456789ab.tmp"  # another package's, killed too
    other.mkdir()
    running = tmp_path / ".pkg.abcdef012345.tmp"  # an export of the same name, still at work
    running.mkdir()
    (running / "weights.pt").write_bytes(b"in progress")
    held = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as an export holds its build folder
        export_bioimageio(_tiny(), dest, weight_formats=("pytorch_state_dict",))
    finally:
        os.close(held)
    assert not stale.exists()  # removed
    assert (running / "weights.pt").is_file() and other.is_dir()  # held; not its name
    assert (dest / "rdf.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, running.name, "pkg"])


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_an_exports_build_folder_is_held_while_it_works(tmp_path, monkeypatch):
    import unetlab.inference.bioimageio as bioimageio

    write = bioimageio._write_package
    swept = []

    def write_then_sweep(net, folder, *rest):
        write(net, folder, *rest)
        swept.extend(remove_stale_builds(tmp_path / "pkg"))  # another export of that name, now

    monkeypatch.setattr(bioimageio, "_write_package", write_then_sweep)
    export_bioimageio(_tiny(), tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    assert swept == [] and (tmp_path / "pkg" / "rdf.yaml").is_file()
    export_bioimageio(_tiny(), tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    assert swept == [] and [p.name for p in tmp_path.iterdir()] == ["pkg"]  # replaced


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_package_folder_has_the_mode_a_plain_mkdir_gives(tmp_path):
    model = _tiny()
    old = os.umask(0o027)
    try:
        for umask, mode in ((0o027, 0o750), (0o002, 0o775)):  # new, then replaced
            os.umask(umask)
            dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=("torchscript",))
            assert dest.stat().st_mode & 0o777 == mode, oct(dest.stat().st_mode)
            assert (dest / "rdf.yaml").stat().st_mode & 0o777 == mode & 0o666
    finally:
        os.umask(old)


def _zip_with(path: Path, rdf: dict, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("rdf.yaml", yaml.safe_dump(rdf))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


class _Payload:
    """Unpickling this would create a file: weights_only must refuse it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_import_refuses_escaping_names_and_pickled_code(tmp_path):
    model = _tiny()
    export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    rdf = _rdf(tmp_path / "pkg")
    entry = rdf["weights"]["pytorch_state_dict"]
    del entry["sha256"]
    for name in ("../weights.pt", "/etc/passwd", "a/../../weights.pt"):
        entry["source"] = name
        bad = _zip_with(tmp_path / "escape.zip", rdf, {})
        with pytest.raises(UnetlabError, match="leaves the package"):
            load_package(bad)
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump(rdf))
        with pytest.raises(UnetlabError, match="leaves the package"):
            load_package(tmp_path / "pkg")
    marker = tmp_path / "unpickled"
    buffer = io.BytesIO()
    torch.save({"head.weight": _Payload(marker)}, buffer)
    entry["source"] = "weights.pt"
    bad = _zip_with(tmp_path / "pickle.zip", rdf, {"weights.pt": buffer.getvalue()})
    with pytest.raises(UnetlabError, match="holds more than tensors"):
        load_package(bad)
    assert not marker.exists()
    del entry["architecture"]["kwargs"]
    bad = _zip_with(tmp_path / "foreign.zip", rdf, {"weights.pt": buffer.getvalue()})
    with pytest.raises(UnetlabError, match="no pytorch_state_dict weights of a unetlab UNet"):
        load_package(bad)


def test_an_architecture_unetlab_does_not_take_is_said_with_its_reason(tmp_path):
    export_bioimageio(_tiny(), tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    rdf = _rdf(tmp_path / "pkg")
    kwargs = rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]
    for change, reason in (({"hidden": 3}, "hidden"), ({"depth": 0}, "depth must be")):
        rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"] = {**kwargs, **change}
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump(rdf))
        with pytest.raises(UnetlabError, match=f"not this unetlab's UNetConfig .*{reason}"):
            load_package(tmp_path / "pkg")


def test_a_damaged_tta_or_label_offset_is_one_line_naming_the_part(tmp_path):
    """They were read unchecked (s58): a label_offset of text or one number a ValueError or
    IndexError called a bug; a tta of text prediction's "unknown TTA transforms ['f', 'l',
    ...]", naming no part of the package."""
    export_bioimageio(_tiny(), tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    good = _rdf(tmp_path / "pkg")
    arch = "weights.pytorch_state_dict.architecture.kwargs.label_offset is"
    for value, said in (("ab", f"{arch} 'ab', not two numbers"), ([1], f"{arch} [1], not two")):
        rdf = _rdf(tmp_path / "pkg")
        rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]["label_offset"] = value
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump(rdf))
        with pytest.raises(
            UnetlabError, match=re.escape(f"a damaged or foreign package: its {said}")
        ):
            load_model(tmp_path / "pkg")
    for value in ("flips", ["spin"]):
        rdf = {**good, "config": {"unetlab": {**good["config"]["unetlab"], "tta": value}}}
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump(rdf))
        with pytest.raises(UnetlabError) as caught:
            load_package(tmp_path / "pkg")
        assert f"its config.unetlab.tta is {value!r}, not a list of the transforms identity, " in (
            str(caught.value)
        )
        assert str(caught.value).endswith("; export the package again from its checkpoint")


def test_an_offset_beyond_a_pixel_or_a_record_of_no_mapping_is_one_line(tmp_path):
    """A label_offset [3, 3] or [nan, 0] passed as two numbers, then offset.py's ValueError
    was called a bug; a config.unetlab of a list or text an AttributeError (s58 review G)."""
    export_bioimageio(_tiny(), tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    good = _rdf(tmp_path / "pkg")
    for value in ([3.0, 3.0], [float("nan"), 0.0]):
        rdf = _rdf(tmp_path / "pkg")
        rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]["label_offset"] = value
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump(rdf))
        with pytest.raises(UnetlabError, match=r"label_offset is \[.*within one pixel \(-1 to 1\)"):
            load_model(tmp_path / "pkg")
    for config, said in (({"unetlab": [1]}, "config.unetlab is a list"), (["x"], "config is a")):
        (tmp_path / "pkg" / "rdf.yaml").write_text(yaml.safe_dump({**good, "config": config}))
        with pytest.raises(UnetlabError, match=f"damaged or foreign package: its {said}"):
            load_model(tmp_path / "pkg")


def test_a_package_without_state_dict_weights_says_how_to_load_it(tmp_path):
    pkg = export_bioimageio(
        _tiny(), tmp_path / "ts", info=PackageInfo(name="ts only"), weight_formats=("torchscript",)
    )
    with pytest.raises(UnetlabError, match=r"\(its weights: torchscript\).*export again"):
        load_package(pkg)


def test_cli_export_and_predict_with_a_package(tmp_path, capsys):
    ckpt = save_model(tmp_path / "m.pt", _tiny())
    pkg = tmp_path / "m.zip"
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(ckpt),
                "--bioimageio",
                str(pkg),
                "--name",
                "tiny net",
                "--author",
                "A. Person",
            ]
        )
        == 0
    )
    assert "wrote bioimage.io package" in capsys.readouterr().out
    image = (np.random.default_rng(0).random((40, 40)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "img.png")
    out = {}
    for name, source in (("ckpt", ckpt), ("pkg", pkg)):
        assert (
            main(
                [
                    "predict",
                    "--checkpoint",
                    str(source),
                    "--input",
                    str(tmp_path / "img.png"),
                    "--output",
                    str(tmp_path / name),
                ]
            )
            == 0
        )
        out[name] = np.asarray(Image.open(tmp_path / name / "img.png"))
    assert np.array_equal(out["ckpt"], out["pkg"])


@pytest.mark.usefixtures("frozen_heap")
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_bioimageio_core_model_test_passes(tmp_path, padding):
    core = pytest.importorskip(
        "bioimageio.core", reason="bioimageio.core not installed (pip install bioimageio.core)"
    )
    dest = export_bioimageio(_tiny(padding), tmp_path / "pkg.zip")
    summary = core.test_model(dest)
    failed = [d.name for d in summary.details if d.status != "passed"]
    assert summary.status == "passed", failed
    names = " ".join(d.name for d in summary.details)
    for weights in ("torchscript", "onnx", "pytorch_state_dict"):
        assert f"Reproduce test outputs from test inputs ({weights})" in names


@pytest.mark.usefixtures("frozen_heap")
@pytest.mark.slow
@pytest.mark.parametrize("preset", ["small", "small-valid"])
def test_demo_models_pass_the_formats_test(tmp_path, preset):
    """The acceptance check: a model trained the demo's way (quick), same and valid padding,
    exported by the CLI, passes bioimageio.core's model test."""
    core = pytest.importorskip(
        "bioimageio.core", reason="bioimageio.core not installed (pip install bioimageio.core)"
    )
    from unetlab.config import load_config
    from unetlab.data.synthetic import write_synthetic_dataset
    from unetlab.demo import QUICK, demo_overrides
    from unetlab.train import fit

    write_synthetic_dataset(tmp_path / "data", n_train=2, n_val=1, size=96, seed=0)
    plan = {**QUICK, "tile": 92 if preset == "small-valid" else 32}
    overrides = demo_overrides(tmp_path / "data", plan, minutes=1.0, seed=0)
    cfg = load_config(None, [*overrides, f"model.preset={preset}", "train.device=cpu"])
    trained = fit(cfg, run_dir=tmp_path / "run", progress=False)
    pkg = tmp_path / "demo.zip"
    args = ["export", "--checkpoint", str(trained["best_checkpoint"]), "--bioimageio", str(pkg)]
    assert main(args) == 0
    summary = core.test_model(pkg)
    assert summary.status == "passed", [d.name for d in summary.details if d.status != "passed"]
    assert load_package(pkg).padding == ("same" if preset == "small" else "valid")


@pytest.mark.usefixtures("frozen_heap")
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_a_moved_model_packages_its_move(tmp_path, padding):
    """A model with a label offset: every weight format and the architecture file give the
    moved probabilities unetlab predicts, the tiling rule counts a valid net's extra loss,
    the format's own test passes where installed, and reading it back keeps the move."""
    from dataclasses import asdict

    from unetlab.inference.predict import probability_fn

    model = _tiny(padding)
    model.label_offset = (-0.5, -0.25)
    dest = export_bioimageio(model, tmp_path / "pkg", info=PackageInfo(name="moved net"))
    rdf = _rdf(dest)
    kwargs = rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]
    assert kwargs == asdict(model.config) | {"label_offset": [-0.5, -0.25]}
    assert rdf["config"]["unetlab"]["label_offset"] == [-0.5, -0.25]
    crop = model.size_multiple if padding == "valid" else 0
    y_out = rdf["outputs"][0]["axes"][2]
    assert y_out["size"]["offset"] == -2 * (model.border + crop)
    assert "0.50 px up, 0.25 px left" in (dest / "README.md").read_text()
    raw = torch.from_numpy(np.load(dest / "test_input.npy"))
    from unetlab.data.normalize import normalize

    x = torch.from_numpy(normalize(raw[0, 0].numpy(), model.normalization))[None]
    with torch.inference_mode():
        expected = probability_fn(model)(x).numpy()
    np.testing.assert_allclose(np.load(dest / "test_output.npy"), expected, atol=1e-5)
    loaded = load_package(dest)
    assert loaded.label_offset == (-0.5, -0.25)
    try:
        core = importlib.import_module("bioimageio.core")
    except ImportError:
        return  # the format's test: test_bioimageio_core_model_test_passes says why it skips
    summary = core.test_model(dest)
    assert summary.status == "passed", [d.name for d in summary.details if d.status != "passed"]


def test_without_a_sample_the_package_shows_a_validation_image_of_its_data(tmp_path, caplog):
    """An RGB scene model's test tensor and cover come from its own validation images, not
    from the synthetic EM image (said in one line either way)."""
    import logging

    from unetlab.data.scenes import write_voc_scenes

    voc = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=2, size=(140, 160))
    model = UNet(3, 7, depth=2, base_channels=4, padding="same").eval()
    model.classes = [str(i) for i in range(7)]
    model.training_data = {"root": str(voc), "val_fraction": 0.2, "seed": 0}
    caplog.set_level(logging.INFO, logger="unetlab.inference.bioimageio")
    export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    first_val = voc / "JPEGImages" / "scene_002.jpg"  # val.txt: scene_002, scene_003
    assert f"sample image: {first_val}, from the checkpoint's validation data" in caplog.text
    image = np.asarray(Image.open(first_val), np.float32)
    size = sample_size(probability_model(model))
    top, left = (140 - size) // 2, (160 - size) // 2
    crop = np.moveaxis(image[top : top + size, left : left + size], -1, 0)
    np.testing.assert_array_equal(np.load(tmp_path / "pkg" / "test_input.npy")[0], crop)
    for gone, why in ((tmp_path / "nowhere", "its data folder"), (None, "records no data folder")):
        model.training_data = {"root": None if gone is None else str(gone)}
        caplog.clear()
        export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
        assert "sample image: a synthetic EM image (" in caplog.text and why in caplog.text
        assert "as sample= gives the test tensors and the cover a real one" in caplog.text
    small = UNet(3, 7, depth=2, base_channels=4, padding="valid").eval()
    small.training_data = {"root": str(voc)}
    assert "none of the 2 validation images" in validation_image(small, 999)[1]


def test_a_package_says_it_cannot_hold_the_normalisation_floor(tmp_path, caplog):
    model = _tiny()
    model.normalization = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [48.0]}
    with caplog.at_level(logging.WARNING, logger="unetlab.inference.bioimageio"):
        dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    assert "bioimage.io's preprocessing cannot say that" in caplog.text
    assert "a floor, half the least contrast" in (dest / "README.md").read_text()
    assert _rdf(dest)["inputs"][0]["preprocessing"][0]["id"] == "scale_range"


def test_a_package_says_its_percentiles_count_saturated_pixels(tmp_path, caplog):
    """unetlab's percentiles leave out saturated pixels (ignore_saturated); scale_range cannot
    (grainsfix, s31): said at export."""
    model = _tiny()
    model.normalization = {"mode": "percentile", "low": 1.0, "high": 99.8}
    with caplog.at_level(logging.WARNING, logger="unetlab.inference.bioimageio"):
        export_bioimageio(model, tmp_path / "a", weight_formats=["pytorch_state_dict"])
    assert "saturated" not in caplog.text
    model.normalization["ignore_saturated"] = True
    with caplog.at_level(logging.WARNING, logger="unetlab.inference.bioimageio"):
        export_bioimageio(model, tmp_path / "b", weight_formats=["pytorch_state_dict"])
    assert "bioimage.io's scale_range counts them" in caplog.text


def test_a_package_keeps_the_rows_its_model_leaves_out(tmp_path, caplog):
    """A data-bar model (data.exclude_rows) exported and loaded back leaves the same rows out
    in unetlab, and the export says other tools will not (review s31 3)."""
    from unetlab.inference.predict import PredictOptions

    model = _tiny()
    model.training_data = {"exclude_rows": {"top": 0, "bottom": 8}}
    with caplog.at_level(logging.WARNING, logger="unetlab.inference.bioimageio"):
        dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    assert "leaves rows top=0,bottom=8 of every image out" in caplog.text
    loaded = load_model(dest)
    assert PredictOptions.for_model(loaded).exclude_rows == (0, 8)
    plain = load_model(
        export_bioimageio(_tiny(), tmp_path / "b", weight_formats=["pytorch_state_dict"])
    )
    assert PredictOptions.for_model(plain).exclude_rows is None


def test_a_package_names_the_features_a_reader_must_know(tmp_path):
    """Like a checkpoint, a package whose model uses a part older readers would ignore (a
    label offset, rows left out) says so under format 2, and a reader refuses a package that
    uses a feature it does not know instead of predicting without it."""
    model = _tiny()
    model.label_offset = (-0.5, -0.25)
    model.training_data = {"exclude_rows": {"top": 0, "bottom": 8}}
    dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    record = _rdf(dest)["config"]["unetlab"]
    assert record["format_version"] == 2
    assert record["features"] == ["label_offset", "data.exclude_rows"]
    plain = export_bioimageio(_tiny(), tmp_path / "plain", weight_formats=["pytorch_state_dict"])
    assert _rdf(plain)["config"]["unetlab"]["format_version"] == 1
    assert "features" not in _rdf(plain)["config"]["unetlab"]
    assert load_model(dest).label_offset == (-0.5, -0.25)

    rdf = _rdf(dest)
    rdf["config"]["unetlab"]["features"].append("a later feature")
    (dest / "rdf.yaml").write_text(yaml.safe_dump(rdf))
    with pytest.raises(
        UnetlabError, match=r"newer unetlab \(unetlab 0\.\d.*a later feature.*upgrade unetlab"
    ):
        load_model(dest)
    rdf["config"]["unetlab"] |= {"format_version": 3, "features": []}
    (dest / "rdf.yaml").write_text(yaml.safe_dump(rdf))
    with pytest.raises(UnetlabError, match="newer unetlab"):
        load_model(dest)


def test_a_package_tells_other_tools_the_axes_its_model_trained_with(tmp_path):
    """data.axes was only in config.unetlab, which deepImageJ, ilastik and QuPath do not
    read: rdf.yaml's input and its batch (planes) and channel (C) axes say them, and so does
    the README; a model trained without them gets none of these words."""
    model = _tiny(padding="same")
    model.training_data = {"axes": "ZYX"}
    dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    (inp,) = _rdf(dest)["inputs"]
    assert "trained on TIFFs read as ZYX" in inp["description"]
    assert inp["axes"][0] == {
        "type": "batch",
        "description": "each plane of a ZYX stack, one at a time",
    }
    assert "description" not in inp["axes"][1]  # no C: the channel axis says nothing of it
    readme = (dest / "README.md").read_text()
    assert "- Training axes: ZYX (unetlab `data.axes`)" in readme
    assert "each plane of a ZYX stack, one at a time" in readme
    model.training_data = {"axes": "TCYX"}
    (inp,) = model_rdf(model, PackageInfo(), ["pytorch_state_dict"])["inputs"]
    assert inp["axes"][0]["description"] == "each time point of a TCYX stack, one at a time"
    assert inp["axes"][1]["description"] == "the C axis of TCYX images"
    model.training_data = None
    (inp,) = model_rdf(model, PackageInfo(), ["pytorch_state_dict"])["inputs"]
    assert inp["description"] == "the raw image; normalised by the preprocessing"
    assert all("description" not in axis for axis in inp["axes"][:2])


def test_a_package_keeps_the_axes_its_model_trained_with(tmp_path):
    """A model trained with data.axes (ZYX: ImageJ stacks saved without axes) exported and
    loaded back reads bare stacks with them, as its checkpoint does (the package recorded
    only exclude_rows: its stacks were read as pages of unknown meaning); an older package
    without them loads as before."""
    import tifffile

    from unetlab.inference.files import predict_file

    model = _tiny(padding="same")
    model.training_data = {"axes": "ZYX", "exclude_rows": {"top": 0, "bottom": 8}}
    dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    assert load_model(dest).training_data == model.training_data
    stack = np.random.default_rng(0).integers(0, 255, (3, 48, 40), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "m.tif", stack, photometric="minisblack")  # no axes
    written = predict_file(load_model(dest), tmp_path / "m.tif", tmp_path / "o")
    with tifffile.TiffFile(written[-1]) as tif:
        assert tif.series[0].axes == "ZYX"
    rdf = _rdf(dest)
    del rdf["config"]["unetlab"]["axes"]  # an older package's
    (dest / "rdf.yaml").write_text(yaml.safe_dump(rdf))
    assert load_model(dest).training_data == {"exclude_rows": {"top": 0, "bottom": 8}}


@pytest.mark.parametrize(
    ("stale", "said"),
    [
        (1, "removed 1 build folder of a stopped export of "),
        (2, "removed 2 build folders of stopped exports of "),
    ],
)
def test_removed_build_folders_are_counted_in_words(tmp_path, caplog, stale, said):
    """The line said "removed 1 build folder(s) of stopped exports" for one."""
    for i in range(stale):
        (tmp_path / f".pkg.{i:012x}.tmp").mkdir()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert len(remove_stale_builds(tmp_path / "pkg")) == stale
    assert f"{said}{tmp_path / 'pkg'}" in caplog.messages

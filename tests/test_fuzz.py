"""Fuzzing (hypothesis): whatever files, configs and flags a user gives, a command succeeds or
fails with exactly one ``UnetlabError`` line (exit 2); never a traceback, never a hang, never
a partial or temporary file left in the output folder.

Bounded to run in well under two minutes on two cores: every test has a small
``max_examples`` and the CLI runs in-process (``unetlab.cli.main``) with a tiny checkpoint
made once per session. ``pytest tests/test_fuzz.py --hypothesis-show-statistics`` prints how
many cases each test tried.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from unetlab import UNet, measure_objects, save_model  # noqa: E402
from unetlab.cli import main  # noqa: E402
from unetlab.config import load_config  # noqa: E402
from unetlab.data.io import read_mask, read_stack  # noqa: E402
from unetlab.errors import ImageReadError, UnetlabError  # noqa: E402
from unetlab.outputs import LOCK, TEMPORARY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: faster on a busy machine

FUZZ = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
#: seconds one case may take before it counts as a hang
HANG_S = 30


@pytest.fixture(scope="session")
def kit(tmp_path_factory) -> dict:
    """A tiny checkpoint and valid PNG / JPEG / TIFF files to mutate, made once."""
    root = tmp_path_factory.mktemp("fuzzkit")
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    model.label_values = [0, 255]
    save_model(root / "model.pt", model)
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 255, (19, 23), dtype=np.uint8)
    files = {}
    for name, kwargs in (("grey.png", {}), ("rgb.jpg", {"quality": 80})):
        array = grey if name.endswith("png") else np.dstack([grey] * 3)
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="PNG" if name.endswith("png") else "JPEG", **kwargs)
        files[name] = buf.getvalue()
    for name, array in (
        ("deep.tif", grey.astype(np.uint16) * 257),
        ("stack.tif", np.stack([grey, grey[::-1]])),
    ):
        buf = io.BytesIO()
        tifffile.imwrite(buf, array, photometric="minisblack")
        files[name] = buf.getvalue()
    return {"checkpoint": root / "model.pt", "files": files}


@contextlib.contextmanager
def _no_hang(seconds: int = HANG_S):
    def hang(signum, frame):
        raise AssertionError(f"a case ran longer than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _cli(argv: list[str]) -> tuple[int, str]:
    """Run ``unetlab ARGV`` in-process: (exit status, stderr)."""
    err = io.StringIO()
    with _no_hang(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a bad flag or value is exit 2 with one line
            code = exc.code
    return code, err.getvalue()


def _check_outcome(code: int, err: str, out_dir: Path | None = None) -> None:
    """The property: success, or exit 2 (stopped before work) or 3 (an input failed) with
    exactly one error line; no traceback; nothing partial or temporary in the output folder."""
    assert "Traceback" not in err and code != 1, err
    assert code in (0, 2, 3), (code, err)
    assert "usage:" not in err, err  # a bad flag or value too: argparse's line alone
    if code in (2, 3):
        lines = [line for line in err.splitlines() if line.startswith("unetlab")]
        errors = [line for line in lines if ": error: " in line or ": failed: " in line]
        assert len(errors) == 1, err
    if out_dir is not None and out_dir.is_dir():
        names = os.listdir(out_dir)
        assert LOCK not in names and not [n for n in names if TEMPORARY.match(n)], names
        for name in names:  # every image written is complete
            if name.endswith((".png", ".tif")):
                read_stack(out_dir / name)


# --- corrupt files ----------------------------------------------------------------------------


@st.composite
def mutated(draw, files: dict) -> tuple[str, bytes]:
    """A valid file truncated, bit-flipped or both."""
    name = draw(st.sampled_from(sorted(files)))
    data = bytearray(files[name])
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return name, bytes(data)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_a_corrupt_file_reads_or_raises_image_read_error(kit, data):
    name, content = data.draw(mutated(kit["files"]))
    with tempfile.TemporaryDirectory() as tmp, _no_hang():
        path = Path(tmp) / name
        path.write_bytes(content)
        for read in (read_stack, read_mask):
            try:
                array = read(path)
            except ImageReadError as exc:
                assert str(name) in str(exc) and "\n" not in str(exc)
            else:
                assert array.ndim in (3, 4) if read is read_stack else array.ndim == 2


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_measure_objects_of_a_corrupt_objects_tiff_measures_or_raises_one_line(kit, data):
    """measure_objects(path) opens the TIFF itself (its axes, pixel size, timing): a file cut
    short was tifffile's ValueError (s51 walkbad)."""
    tiffs = {k: v for k, v in kit["files"].items() if k.endswith(".tif")}
    name, content = data.draw(mutated(tiffs))
    with tempfile.TemporaryDirectory() as tmp, _no_hang():
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            table = measure_objects(path)
        except UnetlabError as exc:
            assert "\n" not in str(exc)
        else:
            assert set(table["id"]) <= set(range(1, 1 << 16))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_predict_on_a_corrupt_file(kit, data):
    name, content = data.draw(mutated(kit["files"]))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in").mkdir()
        (Path(tmp) / "in" / name).write_bytes(content)
        out = Path(tmp) / "out"
        code, err = _cli(
            [
                "predict",
                "--checkpoint",
                str(kit["checkpoint"]),
                "--input",
                str(Path(tmp) / "in"),
                "--output",
                str(out),
                "--device",
                "cpu",
                "--overlay",
                "--save-probabilities",
            ]
        )
        _check_outcome(code, err, out)


# --- headers of 0, 1 and 70,000 px a side --------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 64)  # far less than the header promises
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg_header(width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) says ``width`` x ``height``, with no scan data."""
    sof = struct.pack(">BHHB", 8, min(height, 65535), min(width, 65535), 1) + bytes([1, 0x11, 0])
    dqt = b"\x00" + bytes(range(1, 65))
    return (
        b"\xff\xd8"
        + b"\xff\xdb"
        + struct.pack(">H", len(dqt) + 2)
        + dqt
        + b"\xff\xc0"
        + struct.pack(">H", len(sof) + 2)
        + sof
        + b"\xff\xd9"
    )


def _tiff_header(path: Path, width: int, height: int) -> None:
    """A TIFF whose tags say ``width`` x ``height`` uint8, cut to its first 4 kB."""
    tifffile.imwrite(path, shape=(max(height, 1), max(width, 1)), dtype=np.uint8)
    if 0 in (width, height):  # tifffile refuses empty images: patch the tag's value
        content = bytearray(path.read_bytes())
        tags = {256: width, 257: height}
        count = struct.unpack_from("<H", content, 8)[0]
        for i in range(count):
            at = 10 + 12 * i
            tag, kind = struct.unpack_from("<HH", content, at)
            if tag in tags:
                fmt = "<H" if kind == 3 else "<I"
                struct.pack_into(fmt, content, at + 8, tags[tag])
        path.write_bytes(bytes(content))
    with open(path, "r+b") as f:
        f.truncate(min(4096, os.path.getsize(path)))


SIDES = (0, 1, 70_000)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_headers_of_0_1_and_70000_px_a_side(kit, tmp_path, suffix):
    folder = tmp_path / "in"
    folder.mkdir()
    refused = 0
    for w in SIDES:
        for h in SIDES:
            path = folder / f"w{w}_h{h}{suffix}"
            if suffix == ".png":
                path.write_bytes(_png_header(w, h))
            elif suffix == ".jpg":
                path.write_bytes(_jpeg_header(w, h))
            else:
                _tiff_header(path, w, h)
            with _no_hang():
                try:
                    read_stack(path)
                except ImageReadError as exc:
                    assert path.name in str(exc)
                    refused += 1
    code, err = _cli(
        [
            "predict",
            "--checkpoint",
            str(kit["checkpoint"]),
            "--input",
            str(folder),
            "--output",
            str(tmp_path / "out"),
            "--device",
            "cpu",
        ]
    )
    assert "Traceback" not in err and code in (0, 2, 3), err  # 3: inputs failed
    assert refused >= 7  # at most the 1 x 1 header and a 1 px wide one read (zero-padded)
    assert len([line for line in err.splitlines() if ": failed: " in line]) == refused, err
    _check_outcome(0, "", tmp_path / "out")


# --- odd dtypes, channel counts and masks -------------------------------------------------

DTYPES = [
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
]


@st.composite
def odd_image(draw) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4, 5, 8]))
    shape = (h, w) if channels is None else (h, w, channels)
    special = draw(st.sampled_from(["random", "zeros", "max", "nan"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    else:
        array = (rng.standard_normal(shape) * 1e3).astype(dtype)
    if special == "zeros":
        array[...] = 0
    elif special == "max" and dtype.kind in "iu":
        array[...] = np.iinfo(dtype).max
    elif special == "nan" and dtype.kind in "fc":
        array.flat[:: max(1, array.size // 3)] = np.nan
    return array


@settings(FUZZ, max_examples=50)
@given(image=odd_image(), planar=st.booleans())
def test_predict_odd_dtypes_and_channel_counts(kit, image, planar):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in" / "x.tif"
        path.parent.mkdir()
        several = image.ndim == 3 and image.shape[-1] > 1
        kwargs = {"planarconfig": "separate" if planar else "contig"} if several else {}
        try:
            tifffile.imwrite(path, image, photometric="minisblack", **kwargs)
        except ValueError:  # a layout tifffile cannot write (e.g. planar (1, 1, 2))
            hypothesis.reject()
        out = Path(tmp) / "out"
        code, err = _cli(
            [
                "predict",
                "--checkpoint",
                str(kit["checkpoint"]),
                "--input",
                str(path),
                "--output",
                str(out),
                "--device",
                "cpu",
                "--overlay",
            ]
        )
        _check_outcome(code, err, out)


@settings(FUZZ, max_examples=40)
@given(
    values=st.lists(st.integers(0, 65535), min_size=1, max_size=6),
    shape=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    other=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    seed=st.integers(0, 2**16),
    flags=st.lists(
        st.sampled_from(
            [
                "--label-values",
                "--gt-instances",
                "--ignore-value",
                "--boundary-class",
                "--class-names",
                "--connectivity",
            ]
        ),
        unique=True,
        max_size=3,
    ),
    numbers=st.lists(st.integers(-3, 300), min_size=1, max_size=3),
)
def test_evaluate_masks_with_random_values(kit, values, shape, other, seed, flags, numbers):
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        pred, gt = Path(tmp) / "pred", Path(tmp) / "gt"
        pred.mkdir(), gt.mkdir()
        dtype = np.uint16 if max(values) > 255 else np.uint8
        Image.fromarray(rng.choice(values, shape).astype(dtype)).save(gt / "a.png")
        pshape = shape if rng.random() < 0.7 else other
        Image.fromarray(rng.integers(0, 4, pshape).astype(np.uint8)).save(pred / "a.png")
        argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", f"{tmp}/r.json"]
        for flag in flags:
            argv.append(flag)
            if flag in ("--label-values", "--class-names"):
                argv += [str(n) for n in numbers]
            elif flag == "--connectivity":
                argv.append(str(4 if numbers[0] % 2 else 8))
            elif flag != "--gt-instances":
                argv.append(str(numbers[0]))
        code, err = _cli(argv)
        _check_outcome(code, err, Path(tmp))


# --- configs and flags ---------------------------------------------------------------------

SECTIONS = {
    "model": ["preset", "depth", "base_channels", "padding", "norm", "dropout", "bogus"],
    "data": [
        "val_fraction",
        "label_values",
        "class_names",
        "ignore_value",
        "normalization",
        "tile_size",
        "tiles_per_epoch",
        "weight_map",
        "w0",
        "sigma",
    ],
    "augment": ["enabled", "elastic", "grid", "rotate", "contrast", "p_flip", "gamma"],
    "train": [
        "epochs",
        "batch_size",
        "optimizer",
        "lr",
        "schedule",
        "loss",
        "amp",
        "channels_last",
        "patience",
        "val_every",
        "grad_clip",
        "momentum",
    ],
    "run": ["name", "dir"],
    "bogus": ["x"],
}
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 600)
    | st.floats(allow_nan=True)
    | st.sampled_from(
        [
            "",
            "off",
            "same",
            "valid",
            "sgd",
            "adamw",
            "ce+dice",
            "poly",
            "batch",
            "none",
            "scale",
            "paper",
            "small",
            "[0, 255]",
            "1e-3",
        ]
    )
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def config_dict(draw) -> dict:
    sections = draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True, max_size=4))
    return {
        s: draw(st.dictionaries(st.sampled_from(SECTIONS[s]), VALUES, max_size=4)) for s in sections
    }


@settings(FUZZ, max_examples=200)
@given(
    content=config_dict().map(lambda d: yaml.safe_dump(d)) | st.text(max_size=80),
    overrides=st.lists(
        st.text(max_size=30)
        | st.builds(
            lambda s, k, v: f"{s}.{k}={v}",
            st.sampled_from(sorted(SECTIONS)),
            st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks})),
            st.text(max_size=10) | SCALARS.map(str),
        ),
        max_size=3,
    ),
)
def test_random_configs_and_set_values_load_or_raise_unetlab_error(content, overrides):
    with tempfile.TemporaryDirectory() as tmp, _no_hang():
        path = Path(tmp) / "c.yaml"
        path.write_text(content)
        try:
            load_config(path, overrides)
        except UnetlabError as exc:
            assert str(exc).strip()


#: keeps a fuzzed training run to one step of a tiny net (these come last: they win)
TINY = [
    "model.preset=small",
    "model.depth=2",
    "model.base_channels=2",
    "model.padding=same",
    "data.tile_size=16",
    "data.tiles_per_epoch=2",
    "train.batch_size=1",
    "train.epochs=1",
    "train.num_workers=0",
    "train.device=cpu",
    "train.max_minutes=0",
]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzzdata")
    rng = np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(
            root / "images" / f"{i}.png"
        )
        Image.fromarray((rng.random((24, 24)) > 0.5).astype(np.uint8) * 255).save(
            root / "masks" / f"{i}.png"
        )
    return root


@settings(FUZZ, max_examples=8)
@given(config=config_dict(), resume=st.booleans())
def test_train_with_a_random_config(tiny_data, config, resume):
    for section in ("model", "data"):
        config.get(section, {}).pop("preset", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(yaml.safe_dump(config))
        argv = [
            "train",
            "--config",
            str(path),
            "--data",
            str(tiny_data),
            "--no-progress",
            "--run-dir",
            f"{tmp}/run",
            *[a for o in TINY for a in ("--set", o)],
        ]
        code, err = _cli(argv + (["--resume"] if resume else []))
        _check_outcome(code, err, Path(tmp) / "run" / "checkpoints")


def _flag_values():
    return st.sampled_from(
        [
            "0",
            "1",
            "-1",
            "7",
            "16",
            "32",
            "572",
            "100000",
            "x",
            "",
            "auto",
            "cpu",
            "cuda",
            "mean",
            "gaussian",
            "fp32",
            "bf16",
            "3.5",
        ]
    )


PREDICT_FLAGS = {
    "--color": 0,
    "--label-values": 0,
    "--save-probabilities": 0,
    "--overlay": 0,
    "--skip-existing": 0,
    "--overwrite": 0,
    "--tta": 0,
    "--tile-size": 1,
    "--batch-size": 1,
    "--blend": 1,
    "--precision": 1,
    "--device": 1,
    "--instances": 0,
    "--min-area": 1,
}
SUMMARY_FLAGS = {
    "--preset": 1,
    "--depth": 1,
    "--base-channels": 1,
    "--padding": 1,
    "--norm": 1,
    "--classes": 1,
    "--in-channels": 1,
    "--input-size": 1,
    "--dropout": 1,
    "--upsample": 1,
    "--fusion": 1,
}


@st.composite
def flags(draw, table: dict) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(table)), unique=True, max_size=5))
    argv = []
    for flag in chosen:
        argv.append(flag)
        if table[flag]:
            argv.append(draw(_flag_values()))
    return argv


@settings(FUZZ, max_examples=60)
@given(argv=flags(PREDICT_FLAGS))
def test_predict_with_random_flags(kit, argv):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in").mkdir()
        for name in ("grey.png", "stack.tif"):
            (Path(tmp) / "in" / name).write_bytes(kit["files"][name])
        out = Path(tmp) / "out"
        code, err = _cli(
            [
                "predict",
                "--checkpoint",
                str(kit["checkpoint"]),
                "--input",
                f"{tmp}/in",
                "--output",
                str(out),
                *argv,
            ]
        )
        _check_outcome(code, err, out)


@settings(FUZZ, max_examples=80)
@given(command=st.sampled_from(["summary", "sizes"]), argv=flags(SUMMARY_FLAGS))
def test_summary_and_sizes_with_random_flags(command, argv):
    if command == "sizes":
        argv = [a.replace("--input-size", "--count") for a in argv]
    code, err = _cli([command, *argv])
    _check_outcome(code, err)


@settings(FUZZ, max_examples=40)
@given(
    argv=st.lists(
        st.sampled_from(
            [
                "--checkpoint",
                "--data",
                "--pred",
                "--gt",
                "--json",
                "--best-threshold",
                "--gt-instances",
                "--tta",
                "--tile-size",
                "--worst",
                "--label-values",
            ]
        ),
        unique=True,
        max_size=5,
    ),
    value=_flag_values(),
)
def test_evaluate_with_random_flags(kit, tiny_data, argv, value):
    paths = {
        "--checkpoint": str(kit["checkpoint"]),
        "--data": str(tiny_data),
        "--pred": str(tiny_data / "masks"),
        "--gt": str(tiny_data),
    }
    with tempfile.TemporaryDirectory() as tmp:
        full = ["evaluate"]
        for flag in argv:
            full.append(flag)
            if flag == "--json":
                full.append(f"{tmp}/r.json")
            elif flag in paths:
                full.append(paths[flag])
            elif flag in ("--tile-size", "--worst", "--label-values"):
                full.append(value)
        code, err = _cli(full)
        _check_outcome(code, err, Path(tmp))


@settings(FUZZ, max_examples=15)
@given(argv=flags({"--input-size": 1, "--static": 0, "--opset": 1, "--overwrite": 0}))
def test_export_with_random_flags(kit, argv):
    pytest.importorskip("onnx")
    with tempfile.TemporaryDirectory() as tmp:
        code, err = _cli(
            [
                "export",
                "--checkpoint",
                str(kit["checkpoint"]),
                "--onnx",
                f"{tmp}/m.onnx",
                "--no-check",
                *argv,
            ]
        )
        _check_outcome(code, err, Path(tmp))

"""CREMI's connectomics samples (s74 user): ``sample_A.hdf`` holds its image
(``volumes/raw``, uint8 zyx, its ``resolution`` (40, 4, 4) nm) and its labels
(``volumes/labels/neuron_ids``, uint64 ids; no object 0 or 0xffffffffffffffff) in one file.
Before: ``.hdf`` was not read, a file was never its own mask, its voxel size was unread."""

import shutil

import numpy as np
import pytest

pytest.importorskip("h5py", reason="h5py is not installed (optional: unetlab[h5])")

from tests.h5_writer import write_cremi, write_keras  # noqa: E402
from unetlab.data.h5 import h5_dataset_read_as, h5_mask_dataset_read_as  # noqa: E402
from unetlab.data.pairs import PairReader, find_pairs  # noqa: E402
from unetlab.data.tiffmeta import read_page_axes, read_pixel_size  # noqa: E402

RNG = np.random.default_rng(0)
RAW, IDS = "volumes/raw", "volumes/labels/neuron_ids"
VOID = 0xFFFFFFFFFFFFFFFF


def _samples(root, z: int = 2):
    """CREMI's samples A (no object: uint64's largest) and B (no object: 0) in ``root``,
    and their (raw, ids)."""
    root.mkdir(parents=True)
    made = {}
    for name, void in (("sample_A.hdf", VOID), ("sample_B.h5", None)):
        raw = RNG.integers(0, 255, (z, 32, 32)).astype(np.uint8)
        ids = np.zeros((z, 32, 32), np.uint64)
        ids[:, 4:14, 4:14], ids[:, 18:30, 16:30] = 2**31 - 5, 1_234_567
        write_cremi(root / name, raw, ids, void)
        made[name] = raw, ids
    return made


def test_a_folder_of_cremi_samples_pairs_each_file_with_its_own_labels(tmp_path, caplog):
    made = _samples(tmp_path / "cremi")
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        pairs = find_pairs(tmp_path / "cremi")
        read = PairReader()
        got = {(p.image.name, p.page): read(p) for p in pairs}
    assert all(p.image == p.mask for p in pairs) and len(pairs) == 4
    for (name, page), (image, mask) in got.items():
        raw, ids = made[name]
        np.testing.assert_array_equal(image, raw[page])
        np.testing.assert_array_equal(mask, ids[page])  # uint64's largest: 0, as B's is
    said = [r.getMessage() for r in caplog.records if "0xffffffffffffffff" in r.getMessage()]
    assert len(said) == 1 and "sample_A.hdf: volumes/labels/neuron_ids's value" in said[0]


def test_a_cremi_volumes_resolution_is_its_voxel_size_in_nm(tmp_path):
    _samples(tmp_path / "cremi", z=3)
    with h5_dataset_read_as(RAW):
        found = read_pixel_size(tmp_path / "cremi" / "sample_A.hdf")
        axes = read_page_axes(tmp_path / "cremi" / "sample_A.hdf", 3)
    assert found.size == pytest.approx((0.004, 0.004)) and found.spacing == pytest.approx(0.04)
    assert axes.letters == "Z"  # not pages of no known meaning: a z resolution


def test_evaluate_reads_the_masks_dataset_the_checkpoint_trained_on(
    tmp_path, instance_checkpoint, caplog
):
    from unetlab.checkpoint import update_checkpoint
    from unetlab.cli import main

    _samples(tmp_path / "cremi")
    model = str(shutil.copy(instance_checkpoint, tmp_path / "cremi.pt"))
    trained = {"h5_dataset": RAW, "h5_mask_dataset": IDS}
    update_checkpoint(model, train_config={"data": trained})
    caplog.set_level("INFO")
    assert main(["evaluate", "--checkpoint", model, "--data", str(tmp_path / "cremi")]) == 0
    assert f"{IDS!r} read as masks, as the checkpoint trained (its data.h5_mask_dataset" in (
        caplog.text
    )


def test_a_cut_short_file_beside_the_data_set_does_not_stop_train(tmp_path, caplog):
    """s74 review: par/sample_C.hdf, its first 5000 bytes, beside par/cremi/ stopped train
    --data par/cremi ("cannot be read as HDF5 (truncated ...)"): a file no command read."""
    from unetlab.cli import main

    _samples(tmp_path / "cremi")
    cut = (tmp_path / "cremi" / "sample_A.hdf").read_bytes()[:5000]
    (tmp_path / "sample_C.hdf").write_bytes(cut)
    (tmp_path / "x.h5").write_text("not HDF5")
    caplog.set_level("INFO")
    sets = ["--set", f"data.h5_dataset={RAW}", "--set", f"data.h5_mask_dataset={IDS}"]
    assert main(["train", "--data", str(tmp_path / "cremi"), "--check", *sets]) == 0
    assert "sample_C" not in caplog.text and "x.h5" not in caplog.text


def test_a_pair_reader_keeps_the_masks_dataset_named_where_it_was_made(tmp_path):
    """A data loader's worker (a fresh thread, pickled reader) reads the mask dataset of the
    command that made the reader, not the image's (s74 review: no test caught it dropped)."""
    import pickle
    import threading

    made = _samples(tmp_path / "cremi")
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        reader = pickle.dumps(PairReader())
    got = {}
    path = tmp_path / "cremi" / "sample_B.h5"
    worker = threading.Thread(
        target=lambda: got.update(mask=pickle.loads(reader).stack(path, mask=True))
    )
    worker.start()
    worker.join()
    np.testing.assert_array_equal(got["mask"], made["sample_B.h5"][1])


def test_the_checkpoints_datasets_are_said_only_where_an_hdf5_file_reads_them(
    tmp_path, instance_checkpoint, caplog
):
    """s74 review: predict with a CREMI checkpoint on a.png and b.tif said "HDF5 files of
    several datasets: 'volumes/raw' read, as the checkpoint trained" (evaluate the masks'
    too), no HDF5 file read."""
    import tifffile
    from PIL import Image

    from unetlab.checkpoint import update_checkpoint
    from unetlab.cli import main

    root = tmp_path / "data"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    Image.fromarray(np.full((32, 32), 9, np.uint8)).save(root / "images" / "a.png")
    tifffile.imwrite(root / "images" / "b.tif", np.full((32, 32), 9, np.uint8))
    for name in ("a", "b"):
        Image.fromarray(np.eye(32, dtype=np.uint8)).save(root / "masks" / f"{name}.png")
    model = str(shutil.copy(instance_checkpoint, tmp_path / "cremi.pt"))
    update_checkpoint(model, train_config={"data": {"h5_dataset": RAW, "h5_mask_dataset": IDS}})
    caplog.set_level("INFO")
    predict = ["predict", "--checkpoint", model, "--input", str(root / "images")]
    assert main([*predict, "--output", str(tmp_path / "out")]) == 0
    assert main(["evaluate", "--checkpoint", model, "--data", str(root)]) == 0
    assert "as the checkpoint trained" not in caplog.text


def test_a_cremi_folder_without_the_masks_dataset_named_is_told_how(
    tmp_path, instance_checkpoint, capsys
):
    """s74 review: train --data cremi --set data.h5_dataset=volumes/raw and evaluate
    --h5-dataset volumes/raw ended in the long 'no data set found' line, naming no HDF5."""
    from unetlab.cli import main

    _samples(tmp_path / "cremi")
    data = ["--data", str(tmp_path / "cremi")]
    assert main(["train", *data, "--check", "--set", f"data.h5_dataset={RAW}"]) == 2
    said = capsys.readouterr().err
    assert "HDF5 files of several datasets (sample_A.hdf: volumes/labels/clefts, " in said
    assert "their own mask, the labels' dataset named: --set data.h5_mask_dataset=volumes" in said
    evaluate = ["evaluate", "--checkpoint", str(instance_checkpoint), *data, "--h5-dataset", RAW]
    assert main([*evaluate, "--h5-mask-dataset", "labels"]) == 2
    said = capsys.readouterr().err
    assert "neuron_ids, volumes/raw), none holding 'labels': HDF5 files holding" in said
    assert "named: --h5-mask-dataset volumes/labels/neuron_ids" in said


@pytest.mark.parametrize(
    "shape, resolution, size, spacing",
    [
        ((3, 8, 8), (40.0, 4.0, 8.0), (0.004, 0.008), 0.04),
        ((8, 8), (4.0, 8.0), (0.004, 0.008), None),
    ],
)
def test_a_resolution_is_read_z_y_x_or_y_x(tmp_path, shape, resolution, size, spacing):
    """Pins (s74 review: no test told y from x, nor read a 2-D dataset's resolution)."""
    import h5py

    path = tmp_path / "a.hdf"
    with h5py.File(path, "w") as f:
        data = f.create_dataset(RAW, data=np.zeros(shape, np.uint8))
        data.attrs["resolution"] = np.array(resolution)
        f.create_dataset(IDS, data=np.zeros(shape, np.uint64))
    with h5_dataset_read_as(RAW):
        found = read_pixel_size(path)
    assert found.size == pytest.approx(size)
    assert found.spacing == (None if spacing is None else pytest.approx(spacing))


def test_an_unlabelled_cremi_volume_beside_the_samples_is_said_left_out(tmp_path, caplog):
    """s75: CREMI's test volume sample_A+.hdf (raw alone) beside the labelled samples was
    left out of training unsaid; the line names it and that predict reads it."""
    import h5py

    _samples(tmp_path / "cremi")
    with h5py.File(tmp_path / "cremi" / "sample_A+.hdf", "w") as f:
        f.create_dataset(RAW, data=np.zeros((2, 32, 32), np.uint8))
    write_keras(tmp_path / "cremi" / "unet.h5")  # weights, no image: not named (review)
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        assert len(find_pairs(tmp_path / "cremi")) == 4
    said = [r.getMessage() for r in caplog.records if "sample_A+" in r.getMessage()]
    assert len(said) == 1 and f"cremi: sample_A+.hdf holds no {IDS} (unlabelled" in said[0]
    assert "left out; predict it (unetlab predict --checkpoint MODEL --input" in said[0]


PADDED = "give the unpadded file, or crop volumes/raw"
_AT = " (where its labels' offset puts them)"


@pytest.mark.parametrize(
    ("raw", "ids", "offsets", "fix"),
    [
        ((5, 32, 32), (3, 16, 16), (None, (40, 32, 32)), f"{PADDED} to [1:4, 8:24, 8:24]"),
        ((5, 32, 32), (3, 16, 16), (None, None), PADDED),
        # s75 review: the raw's own offset (cremi_python writes it where not 0) taken
        (
            (5, 32, 32),
            (3, 16, 16),
            ((40, 64, 64), (80, 128, 128)),
            f"{PADDED} to [1:4, 16:32, 16:32]",
        ),
        # s75 review: a crop out of the raw was named ([10:13, 64:128, ...] of 5 pages)
        ((5, 32, 32), (3, 16, 16), (None, (400, 256, 256)), PADDED),
        # s75 review: labels larger than the raw were called a padded volume
        (
            (3, 16, 16),
            (5, 32, 32),
            (None, None),
            f"labels larger than the image: give the file whose {RAW} they label",
        ),
        # s75 review: padded in y and x alone, refused page by page as masks of another size
        ((3, 32, 32), (3, 16, 16), (None, (0, 32, 32)), f"{PADDED} to [0:3, 8:24, 8:24]"),
    ],
)
def test_a_padded_cremi_volume_is_refused_naming_the_fix(tmp_path, raw, ids, offsets, fix):
    """s75: CREMI's padded volumes (raw padded around its labels: 5 pages of raw, 3 of
    labels) were refused as "5 pages but its mask ... has 3", naming no fix; where the
    labels record their offset (nm, less the raw's) the crop inside the raw is named."""
    import h5py

    from unetlab.errors import DatasetError

    (tmp_path / "padded").mkdir()
    labels = np.zeros(ids, np.uint64)
    labels[:, 2:9, 2:9] = 5
    path = write_cremi(tmp_path / "padded" / "sample_A_padded.hdf", np.zeros(raw, np.uint8), labels)
    with h5py.File(path, "a") as f:
        for name, offset in zip((RAW, IDS), offsets):
            if offset is not None:
                f[name].attrs["offset"] = np.array(offset, float)
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS), pytest.raises(DatasetError) as e:
        find_pairs(tmp_path / "padded")
    said = str(e.value)
    assert f": {RAW} {raw} and {IDS} {ids} differ in size: " in said and fix in said
    assert ("a padded volume" in said) == (PADDED in fix) and said.count("\n") == 0
    assert ("pages but its mask" in said) == (raw[0] != ids[0]) and said.endswith(
        fix + _AT * ("to [" in fix)
    )


def test_an_hdf4_file_in_a_cremi_folder_is_passed_over_not_a_refusal(tmp_path, caplog):
    """s75 review: an HDF4 .hdf (MODIS') beside the CREMI samples was said passed over, then
    train was refused because of it (the look for the labels' dataset opened it as HDF5)."""
    from unetlab.data.h5 import HDF4_MAGIC

    _samples(tmp_path / "cremi")
    (tmp_path / "cremi" / "MOD09.hdf").write_bytes(HDF4_MAGIC + bytes(500))
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        assert len(find_pairs(tmp_path / "cremi")) == 4
    assert "MOD09.hdf: an HDF4 file, not HDF5 (unetlab reads HDF5 alone): passed over" in (
        caplog.text
    )

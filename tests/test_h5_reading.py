"""Which dataset of an HDF5 file of several is read (s75): the Python API takes a checkpoint's
``data.h5_dataset`` as the command line does, and a folder's look opens each file once."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("h5py", reason="h5py is not installed (optional: unetlab[h5])")

from tests.h5_writer import write_cremi, write_ilastik  # noqa: E402
from unetlab.data.h5 import h5_dataset_read_as, h5_mask_dataset_read_as  # noqa: E402
from unetlab.data.tiff_files import HEADERS  # noqa: E402

RNG = np.random.default_rng(0)
RAW, IDS = "volumes/raw", "volumes/labels/neuron_ids"


def _of_several(root):
    """``root``/images and masks of 2 ilastik-style files whose images hold ``raw`` beside
    ``exported_data`` and a thumbnail."""
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(2):
        img = RNG.integers(0, 255, (32, 32)).astype(np.uint8)
        write_ilastik(root / "images" / f"{i}.h5", img[..., None], raw=img, thumb=img[::4, ::4])
        write_ilastik(
            root / "masks" / f"{i}.h5", np.tile([1, 2], (32, 16)).astype(np.uint8)[..., None]
        )
    return root


@pytest.fixture
def raw_model(tmp_path, instance_checkpoint):
    """A loaded model whose checkpoint trained on the dataset ``raw``."""
    from unetlab.checkpoint import load_model, update_checkpoint

    path = shutil.copy(instance_checkpoint, tmp_path / "raw.pt")
    update_checkpoint(path, train_config={"data": {"h5_dataset": "raw"}})
    return load_model(path)


def test_predict_folder_and_file_read_the_dataset_a_loaded_model_trained_on(
    tmp_path, raw_model, caplog
):
    """Only the command line took it: predict_folder(load_model(...)) refused each file
    ('an HDF5 file of 3 datasets ... name the one to read'), predict_file raised so."""
    from unetlab import predict_file, predict_folder

    root = _of_several(tmp_path / "data")
    caplog.set_level("INFO")
    result = predict_folder(raw_model, root / "images", tmp_path / "out", progress=False)
    assert not result.failed and len(result.written) == 2
    said = "'raw' read, as the checkpoint trained (its data.h5_dataset; h5_dataset_read_as(NAME)"
    assert said in caplog.text  # s75 review: a Python caller was told --h5-dataset
    written = predict_file(raw_model, root / "images" / "0.h5", tmp_path / "one")
    assert [p.name for p in written] == ["0.png"]
    with h5_dataset_read_as("thumb"):  # one named holds over the checkpoint's (review)
        (two,) = predict_file(raw_model, root / "images" / "1.h5", tmp_path / "two")
    assert np.asarray(Image.open(two)).shape == (8, 8)  # the thumbnail's, not raw's 32x32


def test_predict_folder_and_tree_given_a_loader_read_as_its_model_trained(
    tmp_path, raw_model, caplog
):
    """s75 review: predict_folder(lambda: load_model(...)) predicted the first file, then
    raised ImageReadError past its failed files (the loaded model's dataset was not taken);
    predict_tree of a loader the same. Taken once it loads, undone after the call."""
    from unetlab import predict_folder
    from unetlab.data.h5 import h5_datasets_reading
    from unetlab.inference.tree import predict_tree

    root = _of_several(tmp_path / "data")
    caplog.set_level("INFO")
    result = predict_folder(lambda: raw_model, root / "images", tmp_path / "out", progress=False)
    assert not result.failed and len(result.written) == 2
    assert "'raw' read, as the checkpoint trained (its data.h5_dataset" in caplog.text
    assert h5_datasets_reading() == (None, None)
    tree = predict_tree(lambda: raw_model, root, tmp_path / "tree", progress=False)
    assert len(tree[Path("images")].written) == 2 and not tree[Path("images")].failed
    assert h5_datasets_reading() == (None, None)


def test_evaluate_model_reads_the_dataset_a_checkpoint_trained_on(tmp_path, raw_model):
    """evaluate_model of a loaded model, or of its checkpoint's path, on files of several."""
    from unetlab import evaluate_model

    root = _of_several(tmp_path / "data")
    assert len(evaluate_model(raw_model, root, progress=False).images) == 2
    assert len(evaluate_model(raw_model.checkpoint, root, progress=False).images) == 2


def test_a_sources_kept_read_is_that_of_the_dataset_named(tmp_path, monkeypatch):
    """h5_source's key holds the dataset read: a file read as 'raw', then as its
    thumbnail, within one command's kept headers."""
    from unetlab import read_once
    from unetlab.data.h5 import h5_source

    path = _of_several(tmp_path / "data") / "images" / "0.h5"
    monkeypatch.setattr(read_once, "_vouching", lambda stamp: stamp)  # kept, just written
    with HEADERS.kept():
        with h5_dataset_read_as("raw"):
            assert h5_source(path).inner == (32, 32)
        with h5_dataset_read_as("thumb"):
            assert h5_source(path).inner == (8, 8)


def test_a_cremi_folders_look_and_pairing_open_each_file_once(tmp_path, monkeypatch):
    """s75: the look at a folder of CREMI files (is each its own mask?) and pairing them
    opened each file 4 times (200 files: 800 opens), twice for the look."""
    import h5py

    from unetlab import read_once
    from unetlab.data.pairs import find_pairs

    monkeypatch.setattr(read_once, "_vouching", lambda stamp: stamp)  # kept, just written

    for i in range(3):
        ids = np.zeros((1, 16, 16), np.uint64)
        ids[:, 2:9, 2:9] = 5
        raw = RNG.integers(0, 255, (1, 16, 16)).astype(np.uint8)
        write_cremi(tmp_path / f"s{i}.hdf", raw, ids)
    opens: list[str] = []
    opened = h5py.File
    monkeypatch.setattr(h5py, "File", lambda p, mode: opens.append(p) or opened(p, mode))
    with HEADERS.kept(), h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        assert len(find_pairs(tmp_path)) == 3
    assert len(opens) <= 2 * 3, opens  # 5 a file before


def _counted_opens(monkeypatch) -> list:
    """The paths h5py.File opens from now (each file's stamp vouching: just written)."""
    import h5py

    from unetlab import read_once

    monkeypatch.setattr(read_once, "_vouching", lambda stamp: stamp)
    opens: list = []
    opened = h5py.File
    monkeypatch.setattr(h5py, "File", lambda p, *a, **k: opens.append(p) or opened(p, *a, **k))
    return opens


def test_train_and_evaluates_data_look_open_each_cremi_file_4_times(
    tmp_path, monkeypatch, instance_checkpoint
):
    """s75 review: the header cache held only within HEADERS.kept(), which train and evaluate
    never entered: prepare_data opened each CREMI file 10 times (train --check 20: 200
    files, 4000 opens), evaluate_model 10; now the look, the pairing, image and mask."""
    from unetlab import evaluate_model
    from unetlab.config import load_config
    from unetlab.train.setup import prepare_data

    (tmp_path / "cremi").mkdir()
    for i in range(5):
        ids = np.zeros((1, 16, 16), np.uint64)
        ids[:, 2:9, 2:9], ids[:, 10:14, 10:14] = 5, 7
        raw = RNG.integers(0, 255, (1, 16, 16)).astype(np.uint8)
        write_cremi(tmp_path / "cremi" / f"s{i}.hdf", raw, ids)
    sets = [f"data.root={tmp_path / 'cremi'}", f"data.h5_dataset={RAW}"]
    cfg = load_config(None, [*sets, f"data.h5_mask_dataset={IDS}"])
    opens = _counted_opens(monkeypatch)
    assert len(prepare_data(cfg).train) == 4
    assert len(opens) <= 4 * 5 + 2, len(opens)  # 50 before
    opens.clear()
    with h5_dataset_read_as(RAW), h5_mask_dataset_read_as(IDS):
        evaluate_model(instance_checkpoint, tmp_path / "cremi", progress=False)
    assert len(opens) <= 4 * 5, len(opens)  # 50 before

"""Arrays set on a config in a notebook (audit s32 notebook 7): ``cfg.data.root = [frame0,
frame5]`` failed at plan or fit with numpy's "truth value of an array is ambiguous" or "can
only convert an array of size 1"; now one line names unetlab.write_dataset, where the arrays
are assigned (and again where the config is checked)."""

from __future__ import annotations

import numpy as np
import pytest

import unetlab
from unetlab.config import load_config
from unetlab.config.load import changed_keys
from unetlab.config.sections import DataSection
from unetlab.errors import UnetlabError

FRAMES = np.zeros((2, 16, 16), np.uint16)


@pytest.mark.parametrize("root", [[FRAMES[0], FRAMES[1]], FRAMES])
def test_arrays_as_data_root_are_refused_where_assigned(root):
    cfg = load_config(None)
    with pytest.raises(UnetlabError, match="^data.root must be a folder path, not") as err:
        cfg.data.root = root  # refused here, not at the plan or fit cells later
    assert "unetlab.write_dataset(images, masks, 'data')" in str(err.value)
    assert "\n" not in str(err.value) and cfg.data.root is None  # the config is unchanged
    with pytest.raises(UnetlabError, match="data.root must be a folder path"):
        DataSection(root=root)


@pytest.mark.parametrize("root", [[FRAMES[0], FRAMES[1]], FRAMES])
def test_arrays_as_data_root_are_one_line_naming_write_dataset(root, tmp_path):
    cfg = load_config(None)
    object.__setattr__(cfg.data, "root", root)  # past the assignment's check: checked again
    assert "data.root" in changed_keys(cfg)  # compared without numpy's ambiguity error
    for call in (cfg.checked, lambda: unetlab.plan_training(cfg)):
        with pytest.raises(UnetlabError, match="training reads files") as err:
            call()
        assert "unetlab.write_dataset(images, masks, 'data')" in str(err.value)
        assert "\n" not in str(err.value)
    with pytest.raises(UnetlabError, match="data.root must be a folder path, not"):
        unetlab.fit(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_numpy_array_of_numbers_reads_as_a_list(tmp_path):
    cfg = load_config(None)
    cfg.data.root = tmp_path  # a path is a path
    cfg.train.class_weights = np.array([1.0, 2.5])
    checked = cfg.checked()
    assert checked.train.class_weights == [1.0, 2.5] and checked.data.root == str(tmp_path)

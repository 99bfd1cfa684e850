"""Bad input, s55 badinput5: one clear line, naming the file so it can be found."""

import pytest

from unetlab.errors import UnetlabError
from unetlab.inference.every_file import most_channels, refuse_for_every_file

from .test_bad_input4 import _ngff, _zarr


def test_an_ome_zarr_whose_scale_is_given_by_path_has_its_channels_counted(tmp_path):
    """most_channels was None for an OME-Zarr whose levels give their scale by 'path' (the
    reader refuses such a scale), so a --channel beyond its channels was refused per file,
    after the model loaded, not up front (s54 noticed): its axes and shape are read."""
    ngff = _ngff()
    for dataset in ngff["multiscales"][0]["datasets"]:
        dataset["coordinateTransformations"] = [{"type": "scale", "path": "s" + dataset["path"]}]
    store = _zarr(tmp_path / "a.ome.zarr", 2, ngff)
    assert most_channels(store) == 2
    with pytest.raises(UnetlabError, match=r"has 2 channels \(valid: channel=0 to 1\)"):
        refuse_for_every_file(tmp_path, [store], {"channel": 5})
    refuse_for_every_file(tmp_path, [store], {"channel": 1})  # it has that one

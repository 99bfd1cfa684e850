"""A TIFF stored with a compression nobody here decodes is named as such, not as a truncated
or corrupt file (s43 slide: a slide whose Compression tag held a vendor's code 50999 failed
with ``... (ValueError: 50999 is not a known COMPRESSION); the file looks truncated or
corrupt: copy or export it again``, and a small one ``is it a complete PNG, JPEG or TIFF
file?``; copying it again cannot help)."""

import numpy as np
import pytest
import tifffile

from unetlab.data.io import read_image
from unetlab.data.slides import open_slide
from unetlab.data.tiff_codecs import undecodable_line
from unetlab.errors import ImageReadError


def _tiff(path, code: int | None, **kw):
    """A small deflate TIFF whose Compression tag is then set to ``code`` (None: kept)."""
    pixels = np.random.default_rng(0).integers(0, 4000, (512, 512), dtype=np.uint16)
    tifffile.imwrite(path, pixels, compression="zlib", **kw)
    if code is not None:
        with tifffile.TiffFile(path) as tif:
            where = [page.tags["Compression"].valueoffset for page in tif.pages]
        with open(path, "r+b") as f:
            for offset in where:
                f.seek(offset)
                f.write(code.to_bytes(2, "little"))
    return path


def test_a_slide_of_an_unknown_compression_names_it(tmp_path):
    path = _tiff(tmp_path / "scan.tif", 50999, tile=(256, 256))
    with pytest.raises(ImageReadError) as err, open_slide(path) as slide:
        slide.page(0)[0:256, 0:256]
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: its pixels are stored with TIFF compression 50999")
    assert "truncated" not in line and "convert it" in line


def test_an_image_read_whole_of_an_unknown_compression_names_it(tmp_path):
    path = _tiff(tmp_path / "a.tif", 50999)
    with pytest.raises(ImageReadError, match="TIFF compression 50999 .*convert it"):
        read_image(path)


def test_a_damaged_file_of_a_known_compression_is_not_blamed_on_it(tmp_path):
    path = _tiff(tmp_path / "ok.tif", None, tile=(256, 256))
    assert undecodable_line(path) is None
    assert undecodable_line(tmp_path / "missing.tif") is None
    assert undecodable_line(tmp_path / "a.png") is None


def test_a_level_of_a_file_without_a_pyramid_says_to_drop_it(tmp_path):
    """Not ``has 1 pyramid level(s); choose --level 0 to 0`` (s43 slide)."""
    from unetlab.errors import UnetlabError

    path = _tiff(tmp_path / "flat.tif", None, tile=(256, 256))
    with pytest.raises(UnetlabError) as err:
        open_slide(path, level=1)
    # s55 slides5: and how to make one (it said only "drop --level 1"); each caller's form
    # s55 fixC: the copy named after it, outside its folder; the file by its path
    copy = f"or predict a pyramidal copy of it (libvips: vips tiffsave {path} "
    copy += "DIR/flat_pyramid.tif --tile --pyramid --subifd, DIR a folder outside the inputs)"
    said = f"{path}: has no pyramid (level 0 alone): "
    assert err.value.cli == f"{said}drop --level 1 (full resolution), {copy}"
    assert str(err.value) == f"{said}give level=0 (full resolution), {copy}"


def test_level_past_a_pyramid_names_the_levels_in_each_callers_form(tmp_path):
    from unetlab.errors import UnetlabError

    path = tmp_path / "p.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(np.zeros((64, 64), np.uint8), tile=(32, 32), subifds=1)
        tif.write(np.zeros((32, 32), np.uint8), tile=(32, 32), subfiletype=1)
    with pytest.raises(UnetlabError) as err:
        open_slide(path, level=3)
    assert err.value.cli == f"{path}: has 2 pyramid levels; choose --level 0 to 1"
    assert str(err.value) == f"{path}: has 2 pyramid levels; choose level=0 to level=1"


def test_predict_level_of_a_png_or_flat_tiff_says_how_to_make_a_pyramid(tmp_path, capsys):
    """A PNG's ``--level 1`` said only ``--level applies to TIFF and OME-Zarr``."""
    from PIL import Image

    from unetlab import UNet, save_model
    from unetlab.cli import main

    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "a.png")
    _tiff(tmp_path / "flat.tif", None, tile=(256, 256))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    for name in ("a.png", "flat.tif"):
        capsys.readouterr()
        out = ["--output", str(tmp_path / "o"), "--no-progress", "--level", "1"]
        assert main([*argv, "--input", str(tmp_path / name), *out]) == 3  # the input failed
        said = capsys.readouterr().err
        assert "has no pyramid (level 0 alone): drop --level 1 (full resolution)" in said, said
        copy = f"{tmp_path / name} DIR/{name[:-4]}_pyramid.tif --tile --pyramid --subifd"
        assert f"vips tiffsave {copy}, DIR a folder outside the inputs)" in said, said
        assert "Traceback" not in said and "level=0" not in said, said  # the CLI's form


def test_a_pyramid_cut_off_before_its_levels_is_named_truncated(tmp_path):
    """Its SubIFD levels follow level 0 in the file: a copy cut off in level 0 has one level
    left, and ``--level 2`` said ``has no pyramid`` (s43 slide: a 30,000^2 pyramidal
    OME-TIFF cut at 300 MB), which sends the user to drop --level, not to copy it again."""
    path = tmp_path / "slide.ome.tif"
    pixels = np.random.default_rng(0).integers(0, 4000, (1024, 1024), dtype=np.uint16)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(pixels, tile=(256, 256), compression="zlib", subifds=2)
        for step in (2, 4):
            tif.write(pixels[::step, ::step], tile=(256, 256), compression="zlib", subfiletype=1)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ImageReadError) as err:
        open_slide(path, level=2)
    assert str(err.value).startswith(f"{path}: truncated: its header promises ")

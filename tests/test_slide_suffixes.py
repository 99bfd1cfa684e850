"""Slide scanners' and confocals' TIFF-based files (Aperio .svs, Hamamatsu .ndpi, Leica .scn,
Zeiss .lsm, BigTIFF .btf) are TIFFs: a folder search passed over them without a word, and a
named one was read whole through Pillow, never streamed, whatever its size (s36)."""

import numpy as np
import tifffile

import unetlab
from unetlab.data.io import find_images
from unetlab.models import UNet


def _slide(path, image):
    """A tiled, compressed TIFF as scanners write them, under ``path``'s name."""
    tifffile.imwrite(path, image, tile=(64, 64), compression="zlib", resolution=(2.0, 2.0))


def test_a_folder_search_takes_tiff_based_slides(tmp_path):
    for name in ("a.svs", "b.ndpi", "c.scn", "d.lsm", "e.btf", "f.mrxs"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_images(tmp_path)] == ["a.svs", "b.ndpi", "c.scn", "d.lsm", "e.btf"]


def test_an_svs_is_streamed_like_a_tif_and_gives_the_same_labels(tmp_path):
    image = (np.random.default_rng(0).random((192, 160)) * 255).astype(np.uint8)
    for name in ("slide.svs", "same.tif"):
        (tmp_path / "in").mkdir(exist_ok=True)
        _slide(tmp_path / "in" / name, image)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    result = unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out", large_threshold=1000)
    assert sorted(p.name for p in result.written) == ["same.tif", "slide.svs"]
    svs, tif = (tifffile.imread(tmp_path / "out" / f"{s}.tif") for s in ("slide", "same"))
    assert svs.shape == (192, 160) and np.array_equal(svs, tif)  # streamed: a TIFF output


def test_an_aperio_slide_gives_the_mpp_of_its_description(tmp_path):
    """Aperio's .svs carry their pixel size as 'MPP = 0.4990' in the first page's
    description, often without resolution tags: their outputs had no scale."""
    from unetlab.data.tiffmeta import tiff_pixel_size

    description = (
        "Aperio Image Library v12.0.15 \n256x256 [0,0 256x256] (64x64) JPEG/RGB Q=70"
        "|AppMag = 20|MPP = 0.4990|Filename = x"
    )
    path = tmp_path / "scan.svs"
    tifffile.imwrite(path, np.zeros((256, 256), np.uint8), description=description, tile=(64, 64))
    with tifffile.TiffFile(path) as tif:
        assert tiff_pixel_size(tif, tif.pages[0]) == (0.499, 0.499)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    unetlab.predict_folder(net, path, tmp_path / "out", large_threshold=1000)
    with tifffile.TiffFile(tmp_path / "out" / "scan.tif") as out:  # streamed: OME-TIFF
        assert 'PhysicalSizeX="0.499"' in out.ome_metadata

"""TIFF outputs that viewers open scaled and named: pixel size and class names read back with
tifffile from the ImageJ hyperstack fields Fiji uses."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from unetlab.data import tiffmeta
from unetlab.data.slides import open_slide
from unetlab.data.tiffmeta import (
    PixelSize,
    class_table,
    imagej_kwargs,
    ome_pixel_size,
    read_pixel_size,
    scale_kwargs,
)
from unetlab.inference.files import predict_file
from unetlab.models import UNet


def test_read_pixel_size_from_imagej_and_plain_resolution_tags(tmp_path):
    image = np.zeros((8, 8), np.uint8)
    tifffile.imwrite(
        tmp_path / "ij.tif", image, imagej=True, resolution=(4.0, 4.0), metadata={"unit": "um"}
    )
    assert read_pixel_size(tmp_path / "ij.tif") == PixelSize((0.25, 0.25), "um")
    tifffile.imwrite(
        tmp_path / "cm.tif", image, resolution=(20000.0, 20000.0), resolutionunit="CENTIMETER"
    )
    assert read_pixel_size(tmp_path / "cm.tif") == PixelSize((0.5, 0.5), "um")
    tifffile.imwrite(tmp_path / "none.tif", image)  # tifffile's default: 1 px per no unit
    assert read_pixel_size(tmp_path / "none.tif") is None
    assert read_pixel_size(tmp_path / "x.png") is None
    stack = np.zeros((3, 8, 8), np.uint8)
    meta = {"unit": "nm", "axes": "ZYX", "spacing": 50.0}
    tifffile.imwrite(tmp_path / "z.tif", stack, imagej=True, resolution=(0.25, 0.25), metadata=meta)
    assert read_pixel_size(tmp_path / "z.tif") == PixelSize((0.004, 0.004), "um", 0.05)
    tifffile.imwrite(
        tmp_path / "z.ome.tif",
        stack,
        metadata={"axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "PhysicalSizeZ": 1.5},
    )
    assert read_pixel_size(tmp_path / "z.ome.tif") == PixelSize((0.2, 0.2), "um", 1.5)


def test_opening_an_ome_tiff_reads_its_ome_xml_once(tmp_path, monkeypatch):
    """Pixel size and plane spacing come from one reading of the OME-XML (it can hold
    megabytes of instrument metadata), when a slide is opened and when it is asked for."""
    stack = np.zeros((3, 8, 8), np.uint8)
    meta = {"axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "PhysicalSizeZ": 1.5}
    tifffile.imwrite(tmp_path / "z.ome.tif", stack, metadata=meta)
    read, real = [], tiffmeta._ome_pixels
    monkeypatch.setattr(tiffmeta, "_ome_pixels", lambda xml, *a: read.append(xml) or real(xml, *a))
    with open_slide(tmp_path / "z.ome.tif") as slide:
        assert (slide.pixel_size, slide.z_spacing) == (pytest.approx((0.2, 0.2)), 1.5)
    assert read_pixel_size(tmp_path / "z.ome.tif") == PixelSize((0.2, 0.2), "um", 1.5)
    assert len(read) == 2


def test_ome_xml_is_read_up_to_its_first_pixels_only():
    """What follows the first image's Pixels (planes, original metadata: megabytes) is not
    parsed: here it is not even XML."""
    head = '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image><Pixels '
    pixels = 'PhysicalSizeX="0.5" PhysicalSizeY="250" PhysicalSizeYUnit="nm">'
    rest = "<Plane/>" * 20000 + "</Pixels></Image><Image><Pixels PhysicalSizeX='9'><<"
    assert ome_pixel_size(head + pixels + rest) == (0.25, 0.5)
    assert ome_pixel_size(head[:-8] + "<<") is None


def test_imagej_keywords_exact():
    assert class_table(["membrane", "cell"]) == {0: "membrane", 1: "cell"}
    assert class_table(["membrane", "cell"], [0, 255]) == {0: "membrane", 255: "cell"}
    kwargs = imagej_kwargs(
        np.uint8,
        axes="YX",
        classes=["membrane", "cell"],
        values=[0, 255],
        pixel=PixelSize((0.5, 0.5), "um"),
    )
    assert kwargs["imagej"] is True and kwargs["resolution"] == (2.0, 2.0)
    meta = kwargs["metadata"]
    assert meta["unit"] == "um" and meta["axes"] == "YX" and "Labels" not in meta
    assert meta["Info"].splitlines()[1:] == ["0: membrane", "255: cell"]
    assert json.loads(meta["Properties"]["unetlab.classes"]) == {"0": "membrane", "255": "cell"}
    assert imagej_kwargs(np.int32, axes="YX", classes=["a", "b"]) == {}
    probs = imagej_kwargs(np.float32, axes="ZCYX", classes=["a", "b"], channel_labels=3)
    assert probs["metadata"]["Labels"] == ["a", "b"] * 3 and "resolution" not in probs


def _check_labels_tiff(path, names: dict, size: float):
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        ij = tif.imagej_metadata
        x_res = tif.pages[0].tags["XResolution"].value
    assert ij["unit"] == "um" and x_res[1] / x_res[0] == pytest.approx(size)
    assert json.loads(ij["Properties"]["unetlab.classes"]) == names
    for value, name in names.items():
        assert f"{value}: {name}" in ij["Info"]


@pytest.mark.parametrize("large", [False, True])
def test_label_and_probability_tiffs_carry_pixel_size_and_names(tmp_path, large):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.classes, model.label_values = ["membrane", "cell"], [0, 255]
    stack = np.random.default_rng(0).integers(0, 255, (2, 24, 32), dtype=np.uint8)
    tifffile.imwrite(
        tmp_path / "s.tif",
        stack,
        imagej=True,
        resolution=(1 / 0.3, 1 / 0.3),
        metadata={"unit": "um", "axes": "ZYX", "spacing": 0.05},
    )
    threshold = 100 if large else 10**9
    labels, probs = predict_file(
        model,
        tmp_path / "s.tif",
        tmp_path / "out",
        label_values=True,
        save_probabilities=True,
        large_threshold=threshold,
    )
    if large:  # a large image's outputs are pyramidal OME-TIFFs (inference.slides)
        _check_ome_tiff(labels, {"0": "membrane", "255": "cell"}, 0.3)
        for path in (labels, probs):
            assert read_pixel_size(path) == PixelSize(pytest.approx((0.3, 0.3)), "um", 0.05)
    else:
        _check_labels_tiff(labels, {"0": "membrane", "255": "cell"}, 0.3)
        with tifffile.TiffFile(labels) as tif:  # Fiji's voxel depth
            assert tif.imagej_metadata["spacing"] == pytest.approx(0.05)
    assert set(np.unique(tifffile.imread(labels))) <= {0, 255}
    with tifffile.TiffFile(probs) as tif:
        if large:
            assert tif.ome_metadata.count('Name="membrane"') == 1  # one per channel
        else:
            assert tif.imagej_metadata["Labels"] == ["membrane", "cell"] * 2
        assert tif.series[0].shape == (2, 2, 24, 32)


def _check_ome_tiff(path, names: dict, size: float):
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        xml = tif.ome_metadata
        x_res = tif.pages[0].tags["XResolution"].value
    assert f'PhysicalSizeX="{size}"' in xml and x_res[1] / x_res[0] * 1e4 == pytest.approx(size)
    for value, name in names.items():
        assert f"{value}: {name}" in xml


def test_a_large_stack_as_ome_zarr_keeps_its_plane_spacing(tmp_path):
    import zarr

    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    stack = np.random.default_rng(1).integers(0, 255, (3, 24, 32), dtype=np.uint8)
    meta = {"unit": "um", "axes": "ZYX", "spacing": 0.8}
    tifffile.imwrite(tmp_path / "s.tif", stack, imagej=True, resolution=(2.0, 2.0), metadata=meta)
    (labels,) = predict_file(
        model, tmp_path / "s.tif", tmp_path / "out", large_threshold=100, output_format="ome-zarr"
    )
    attrs = dict(zarr.open_group(str(labels), mode="r").attrs)["multiscales"][0]
    assert [a.get("unit") for a in attrs["axes"]] == ["micrometer"] * 3
    assert attrs["datasets"][0]["coordinateTransformations"][0]["scale"] == [0.8, 0.5, 0.5]
    from unetlab.data.slides import open_slide

    with open_slide(labels) as slide:  # and read back as an input
        assert slide.z_spacing == 0.8 and slide.pixel_size == (0.5, 0.5)


def test_scale_kwargs_give_object_ids_and_overlays_the_pixel_size(tmp_path):
    import tifffile

    from unetlab.data.tiffmeta import PixelSize, read_pixel_size, scale_kwargs

    pixel = PixelSize((0.325, 0.325), "um")
    assert scale_kwargs(np.uint16, axes="YX", pixel=None) == {}
    for dtype, axes, shape in [
        (np.uint16, "YX", (8, 8)),
        (np.uint32, "YX", (8, 8)),
        (np.uint8, "YXS", (8, 8, 3)),
    ]:
        path = tmp_path / f"{np.dtype(dtype).name}_{axes}.tif"
        tifffile.imwrite(
            path, np.zeros(shape, dtype), **scale_kwargs(dtype, axes=axes, pixel=pixel)
        )
        assert read_pixel_size(path) == PixelSize(pytest.approx((0.325, 0.325)), "um"), path.name


def test_a_pixel_size_from_resolution_tags_reads_as_written(tmp_path):
    """0.325 um came back as 0.32499999999999996 and went on into every output's metadata."""
    import tifffile

    from unetlab.data.tiffmeta import read_pixel_size

    path = tmp_path / "ij.tif"
    meta = {"unit": "um"}
    tifffile.imwrite(
        path, np.zeros((8, 8), np.uint16), imagej=True, resolution=(1 / 0.325,) * 2, metadata=meta
    )
    assert read_pixel_size(path).size == (0.325, 0.325)


@pytest.mark.parametrize(("meta", "size"), [({"unit": "micron"}, (1.0, 1.0)), ({}, None)])
def test_one_pixel_per_micron_in_an_imagej_tiff_is_a_1_um_pixel(tmp_path, meta, size):
    """Fiji's 1 px = 1 micron (unit in the description) read as no pixel size, like
    tifffile's uncalibrated 1 px per unit: a 1.0 um input lost its scale in its outputs."""
    path = tmp_path / "one.tif"
    tifffile.imwrite(
        path, np.zeros((8, 8), np.uint16), imagej=True, resolution=(1, 1), metadata=meta
    )
    found = read_pixel_size(path)
    assert (found and found.size) == size


@pytest.mark.parametrize("unit", ["microns", "micron", "Microns", "\\u00B5m", "UM", "um"])
def test_imagej_units_as_fiji_writes_them_give_the_pixel_size_and_spacing(tmp_path, unit):
    """Fiji writes "microns" and escapes µ as "\\u00B5m": both were lost, silently."""
    path = tmp_path / "z.tif"
    meta = {"axes": "ZYX", "unit": unit, "spacing": 0.5}
    tifffile.imwrite(
        path, np.zeros((2, 8, 8), np.uint16), imagej=True, resolution=(5, 5), metadata=meta
    )
    assert read_pixel_size(path) == PixelSize((0.2, 0.2), "um", 0.5)


def test_micrometres_per_reads_units_as_files_write_them():
    for unit in ["µm", "μm", "\\u00b5m", " Micrometres", "microns", "um"]:  # micro sign, Greek mu
        assert tiffmeta.micrometres_per(unit) == 1.0, unit
    assert tiffmeta.micrometres_per("inches") == 25400.0
    assert tiffmeta.micrometres_per("nanometers") == 1e-3
    assert tiffmeta.micrometres_per("\\u00C5") == tiffmeta.micrometres_per("Angstrom") == 1e-4
    assert tiffmeta.micrometres_per("picometres") == 1e-6
    assert tiffmeta.micrometres_per("furlong") is None


def _ome(path, **pixels) -> None:
    tifffile.imwrite(path, np.zeros((2, 8, 8), np.uint16), metadata={"axes": "ZYX", **pixels})


@pytest.mark.parametrize(
    ("unit", "value", "um"),
    [("Å", 8.0, 8e-4), ("pm", 800.0, 8e-4), ("nm", 250.0, 0.25), ("mm", 0.002, 2.0)],
)
def test_ome_sizes_in_any_length_unit_are_micrometres(tmp_path, unit, value, um):
    """Audit s28 interchange, finding 2: an 8 Å OME pixel came out as 8 um (800 pm as 800 um)."""
    units = {f"PhysicalSize{a}Unit": unit for a in "XYZ"}
    _ome(
        tmp_path / "a.ome.tif",
        PhysicalSizeX=value,
        PhysicalSizeY=value,
        PhysicalSizeZ=value,
        **units,
    )
    found = read_pixel_size(tmp_path / "a.ome.tif")
    assert found == PixelSize(pytest.approx((um, um)), "um", pytest.approx(um))
    with open_slide(tmp_path / "a.ome.tif") as slide:
        assert slide.pixel_size == pytest.approx((um, um))


@pytest.mark.parametrize(("unit", "level"), [("pixel", "INFO"), ("furlong", "WARNING")])
def test_an_ome_size_in_pixels_or_an_unknown_unit_is_no_size(tmp_path, caplog, unit, level):
    units = {f"PhysicalSize{a}Unit": unit for a in "XYZ"}
    _ome(tmp_path / "a.ome.tif", PhysicalSizeX=2.0, PhysicalSizeY=2.0, PhysicalSizeZ=3.0, **units)
    with caplog.at_level("INFO", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(tmp_path / "a.ome.tif") is None  # not 2 um, nor 1 um
        with open_slide(tmp_path / "a.ome.tif") as slide:  # a header read twice: one line
            assert slide.pixel_size is None and slide.z_spacing is None
    (record,) = caplog.records
    assert record.levelname == level and "a.ome.tif" in record.getMessage()
    assert repr(unit) in record.getMessage() and "not used" in record.getMessage()


def test_an_ome_size_of_one_side_is_square_pixels_said(tmp_path, caplog):
    _ome(tmp_path / "x.ome.tif", PhysicalSizeX=0.3)
    with caplog.at_level("INFO", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(tmp_path / "x.ome.tif").size == (0.3, 0.3)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "PhysicalSizeX alone" in line and "square pixels of 0.3 um assumed" in line


def test_a_pixel_size_from_dpi_is_said_once_and_used(tmp_path, caplog, monkeypatch):
    """A figure saved at 300 dpi reads as 84.67 um pixels: the value stays, a line says why."""
    monkeypatch.setattr(tiffmeta, "_WARNED", set())
    for name, dpi in (("a.tif", 300), ("b.tif", 300), ("c.tif", 72)):
        tifffile.imwrite(tmp_path / name, np.zeros((8, 8), np.uint8), resolution=(dpi, dpi))
    with caplog.at_level("INFO", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(tmp_path / "a.tif").size == pytest.approx((84.6667,) * 2)
        assert read_pixel_size(tmp_path / "b.tif").size == pytest.approx((84.6667,) * 2)
        assert read_pixel_size(tmp_path / "c.tif") is None  # a screen default: no size
    (line,) = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert "a.tif" in line and "300 dpi" in line and "84.6667 x 84.6667 um" in line


def test_an_unknown_unit_is_said_once_not_dropped_silently(tmp_path, caplog):
    path = tmp_path / "z.tif"
    meta = {"axes": "ZYX", "unit": "furlong", "spacing": 0.5}
    tifffile.imwrite(
        path, np.zeros((2, 8, 8), np.uint16), imagej=True, resolution=(5, 5), metadata=meta
    )
    with caplog.at_level("WARNING", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(path) is None
        with open_slide(path) as slide:  # predict reads a header more than once
            assert slide.pixel_size is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert "z.tif" in line and "'furlong'" in line and "not used" in line
    caplog.clear()
    tifffile.imwrite(path, np.zeros((8, 8), np.uint16), imagej=True, metadata={"unit": "pixel"})
    with caplog.at_level("WARNING", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(path) is None  # uncalibrated, not unknown: no warning
    assert not caplog.records


@pytest.mark.parametrize(
    ("dpi", "unit", "size"),
    [
        (72, "INCH", None),  # an exporter's default: no pixel size
        (96, "INCH", None),
        (72, None, None),  # no ResolutionUnit tag: TIFF's default, inch
        (2400, "INCH", 10.5833333333),  # a scanner's real sampling: kept
        (72, "CENTIMETER", 138.888888889),  # centimetres stay used
    ],
)
def test_a_nominal_72_or_96_dpi_is_no_pixel_size(tmp_path, dpi, unit, size):
    """72 dpi became a 352.8 um pixel: um columns and output scale from a screen default."""
    path = tmp_path / "d.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint16), resolution=(dpi, dpi), resolutionunit=unit)
    if unit is None:  # tifffile writes INCH when told nothing: drop the tag
        with tifffile.TiffFile(path) as tif:
            offset = tif.pages[0].tags["ResolutionUnit"].offset
        data = bytearray(path.read_bytes())
        data[offset : offset + 2] = (305).to_bytes(2, "little")  # Software: an unused tag
        path.write_bytes(bytes(data))
        with tifffile.TiffFile(path) as tif:
            assert "ResolutionUnit" not in tif.pages[0].tags
    pixel = read_pixel_size(path)
    assert (pixel and pixel.size) == (size and pytest.approx((size, size)))


@pytest.mark.parametrize(
    ("resolution", "unit", "size"),
    [
        (2.0, "MICROMETER", 0.5),  # tifffile's codes 5 and 4: were dropped without a word
        (2000.0, "MILLIMETER", 0.5),
        (20000.0, "CENTIMETER", 0.5),
        (20000.0, "NONE", None),  # no unit: no pixel size, said at level info
    ],
)
def test_resolution_units_millimetre_and_micrometre_are_read(
    tmp_path, caplog, monkeypatch, resolution, unit, size
):
    monkeypatch.setattr(tiffmeta, "_WARNED", set())
    path = tmp_path / "u.tif"
    image = np.zeros((8, 8, 3), np.uint8)
    tifffile.imwrite(
        path, image, photometric="rgb", resolution=(resolution,) * 2, resolutionunit=unit
    )
    with caplog.at_level("INFO", logger="unetlab.data.tiffmeta"):
        pixel = read_pixel_size(path)
        read_pixel_size(path)  # said once a file, though predict reads a header more than once
    assert (pixel and pixel.size) == (size and pytest.approx((size, size)))
    assert caplog.text.count("no pixel size") == (size is None)


def test_an_implausible_pixel_size_is_said_once_and_not_used(tmp_path, caplog):
    """0.5 px/cm (um per pixel written as pixels per unit) made area_um2 6.84e10 for a 171 px
    nucleus, and a 20,000 um PhysicalSize in the outputs, without a word."""
    path = tmp_path / "x.tif"
    image = np.zeros((8, 8, 3), np.uint8)
    tifffile.imwrite(
        path, image, photometric="rgb", resolution=(0.5, 0.5), resolutionunit="CENTIMETER"
    )
    with caplog.at_level("WARNING", logger="unetlab.data.tiffmeta"):
        assert read_pixel_size(path) is None
        with open_slide(path) as slide:  # predict reads a header more than once
            assert slide.pixel_size is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert "x.tif" in line and "20000 x 20000 um" in line and "not used" in line
    tifffile.imwrite(path, image, photometric="rgb", resolution=(2e4,) * 2, resolutionunit=5)
    assert read_pixel_size(path) == PixelSize((5e-5, 5e-5), "um")  # a 50 pm STEM pixel: kept


def test_non_square_pixels_are_read_and_written_as_y_and_x(tmp_path):
    """Only X was kept: a 0.4 x 0.2 um pixel read as 0.2 x 0.2 and was written so."""
    image = np.zeros((8, 8), np.uint16)
    meta = {"unit": "um", "axes": "ZYX", "spacing": 1.5}
    tifffile.imwrite(
        tmp_path / "ij.tif", image[None], imagej=True, resolution=(5, 2.5), metadata=meta
    )
    assert read_pixel_size(tmp_path / "ij.tif") == PixelSize((0.4, 0.2), "um", 1.5)
    ome = {"axes": "YX", "PhysicalSizeY": 400, "PhysicalSizeYUnit": "nm", "PhysicalSizeX": 0.2}
    tifffile.imwrite(tmp_path / "o.ome.tif", image, metadata=ome)
    assert read_pixel_size(tmp_path / "o.ome.tif") == PixelSize((0.4, 0.2), "um")
    pixel = PixelSize((0.4, 0.2), "um")
    written = {
        "ids32.tif": (np.uint32, scale_kwargs(np.uint32, axes="YX", pixel=pixel)),
        "rgb.tif": (np.uint8, scale_kwargs(np.uint8, axes="YXS", pixel=pixel)),
        "prob.tif": (np.float32, imagej_kwargs(np.float32, axes="YX", classes="ab", pixel=pixel)),
    }
    for name, (dtype, kwargs) in written.items():
        shape = (8, 8, 3) if name == "rgb.tif" else (8, 8)
        tifffile.imwrite(tmp_path / name, np.zeros(shape, dtype), **kwargs)
        assert read_pixel_size(tmp_path / name) == PixelSize(pytest.approx((0.4, 0.2)), "um")


def test_tiffs_without_a_resolution_unit_give_one_line_per_command_not_per_file(
    tmp_path, caplog, monkeypatch
):
    """Plain tifffile.imwrite (1 px per unit NONE) printed a line for every file: 1000
    images gave 1000 lines. 1 px per unit is no size at all (silent); other values once."""
    monkeypatch.setattr(tiffmeta, "_WARNED", set())
    image = np.zeros((8, 8), np.uint8)
    for i in range(3):
        tifffile.imwrite(tmp_path / f"plain{i}.tif", image)
        tifffile.imwrite(
            tmp_path / f"dpi{i}.tif", image, resolution=(300.0, 300.0), resolutionunit="NONE"
        )
    with caplog.at_level("INFO", logger="unetlab.data.tiffmeta"):
        for i in range(3):
            assert read_pixel_size(tmp_path / f"plain{i}.tif") is None
        assert "no pixel size" not in caplog.text
        for i in range(3):
            assert read_pixel_size(tmp_path / f"dpi{i}.tif") is None
    assert caplog.text.count("no pixel size") == 1 and "dpi0.tif" in caplog.text


def test_a_given_pixel_size_line_names_no_z_spacing_neither_side_has(caplog):
    """A 2-D image's line said 'z spacing none µm: taken as 0.325, none µm as given' (audit
    s41 auditslide); a size 1000x the file's asks whether it was given in nm, naming the
    setting as the caller gives it (Python was told --pixel-size: s56 review)."""
    import logging

    from unetlab.data.tiffmeta import PixelSize, given_sizes
    from unetlab.errors import command_spelling

    caplog.set_level(logging.INFO)
    flat = PixelSize((0.65, 0.65), "um", None, ())
    given_sizes(flat, "a.tif", 0.325, None)
    given_sizes(flat, "b.tif", 650, None)
    given_sizes(PixelSize((0.65, 0.65), "um", 2.0, ()), "z.tif", 0.325, None)
    assert caplog.messages == [
        "a.tif records pixel size 0.65x0.65 µm: taken as 0.325 µm as given",
        "b.tif records pixel size 0.65x0.65 µm: taken as 650 µm as given (1000x the file's: "
        "pixel_size=UM is in µm, not nm)",
        "z.tif records pixel size 0.65x0.65 µm, z spacing 2 µm: taken as 0.325, 2 µm as given",
    ]
    caplog.clear()
    with command_spelling():
        given_sizes(flat, "b.tif", 650, None)
    assert caplog.messages[0].endswith("(1000x the file's: --pixel-size UM is in µm, not nm)")


def test_z_spacing_without_a_pixel_size_names_the_settings_as_the_caller_gives_them():
    """Python is told z_spacing= and pixel_size=UM, the command line --z-spacing and
    --pixel-size UM (it was told both inline, "--z-spacing (z_spacing=)": s56)."""
    from unetlab.data.tiffmeta import given_sizes
    from unetlab.errors import UnetlabError, first_line

    with pytest.raises(UnetlabError) as caught:
        given_sizes(None, "s.tif", None, 2.0)
    line = "s.tif records no pixel size, and {} weighs its planes against its pixels: give {} too"
    assert str(caught.value) == line.format("z_spacing=", "pixel_size=UM")
    assert first_line(caught.value, cli=True) == line.format("--z-spacing", "--pixel-size UM")


def write_fiji(path, planes: np.ndarray, *, unit="micron", per_unit=5.0, more="") -> None:
    """A stack of ``planes`` as Fiji saves it: its own ImageJ version (tifffile writes
    1.11a), ``slices=N``, ``unit`` and ``more`` lines (``"spacing=0.5\n"``; none: ImageJ
    writes no spacing at 1), ``per_unit`` pixels per unit."""
    n = len(planes)
    said = f"ImageJ=1.54f\nimages={n}\nslices={n}\nunit={unit}\n{more}loop=false\n"
    with tifffile.TiffWriter(path) as tif:
        for i, page in enumerate(planes):
            tif.write(
                page,
                description=said if i == 0 else None,
                metadata=None,
                contiguous=True,
                resolution=(per_unit, per_unit),
                resolutionunit=1,
                photometric="minisblack",
            )


@pytest.mark.parametrize(
    ("unit", "per_unit", "more", "spacing"),
    [
        ("micron", 5, "", 1.0),  # Fiji's stack of 1 µm steps: no spacing= written at 1
        ("nm", 0.5, "", 1e-3),
        ("micron", 5, "spacing=0.5\n", 0.5),  # recorded
        ("pixel", 1, "", None),  # not calibrated
        ("inch", 72, "", None),  # a scan's dpi: not 25,400 µm apart (s75 review)
        ("cm", 300, "", None),
        ("mm", 5, "", None),
    ],
)
def test_a_fiji_stack_of_no_spacing_is_spaced_one_unit(tmp_path, unit, per_unit, more, spacing):
    """ImageJ omits ``spacing=`` at 1, so a stack Fiji saved of slices (``slices=N``) in a
    microscope's unit but no spacing is 1 unit apart, as Fiji reads it back; it had no z
    spacing (s75). Seen failing without the fix: None for micron and nm. Not in mm, cm or
    inches (a 72-dpi stack read 25,400 µm apart); seen failing without that fix (s75
    review): 25400.0, 10000.0, 1000.0."""
    planes, path = np.zeros((3, 8, 8), np.uint8), tmp_path / "s.tif"
    write_fiji(path, planes, unit=unit, per_unit=per_unit, more=more)
    with tifffile.TiffFile(path) as tif:
        found = tiffmeta.tiff_sizes(tif, tif.pages[0])[1]
    assert found == (None if spacing is None else pytest.approx(spacing))
    if spacing is not None:
        assert tiffmeta.read_pixel_size(path).implied == (not more)


@pytest.mark.parametrize(
    ("axes", "unit"),
    [("ZYX", "um"), ("TZYX", "nm"), ("ZYX", "pixel"), ("TYX", "um"), ("YX", "um")],
)
def test_a_stack_tifffile_saved_without_spacing_has_none(tmp_path, axes, unit):
    """tifffile (and unetlab's outputs, written by it) leaves ``spacing=`` out where it is
    unknown, not at 1: such a stack has no z spacing, as before s75 (its objects read back
    at 1 µm with volumes unsaid, s75 review). Seen failing without the fix: 1.0 for the
    ZYX in um, 0.001 for the TZYX in nm."""
    path = tmp_path / "s.tif"
    shape = {"ZYX": (3, 8, 8), "TZYX": (2, 3, 8, 8), "TYX": (3, 8, 8), "YX": (8, 8)}[axes]
    meta = {"axes": axes, "unit": unit}
    tifffile.imwrite(path, np.zeros(shape, np.uint8), imagej=True, resolution=(5, 5), metadata=meta)
    with tifffile.TiffFile(path) as tif:
        assert "spacing" not in tif.imagej_metadata
        assert tiffmeta.tiff_sizes(tif, tif.pages[0])[1] is None


@pytest.mark.parametrize("more", ["spacing=abc\n", "slices=abc\n"])
def test_a_spacing_or_slices_that_is_no_number_is_said_in_one_line(tmp_path, caplog, more):
    """``spacing=abc`` (or ``slices=abc``) in a Fiji stack's description: no z spacing, in
    one line that names it, not a ValueError's traceback. Seen failing without the fix:
    ValueError (s75 review)."""
    write_fiji(tmp_path / "s.tif", np.zeros((3, 8, 8), np.uint8), more=more)
    with caplog.at_level("WARNING"):
        for _ in range(2):
            assert tiffmeta.read_pixel_size(tmp_path / "s.tif").spacing is None
    key = more.split("=")[0]
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 's.tif'}: its ImageJ description's {key}, 'abc', is no number: its z "
        "spacing is not "
        "used (Fiji: Image > Properties)"
    ]


def test_a_count_that_is_no_number_is_one_line_naming_it(tmp_path):
    """``slices=abc`` in a Fiji stack's description: tifffile cannot lay out its pages (a
    TypeError). Reading it, or its page axes (as evaluate's cases ask), is one line naming
    the key and Fiji's Image > Properties. Seen failing without the fix (second s75
    review): read_stack's 'cannot read this image (TypeError ...); is it a complete PNG,
    JPEG or TIFF file?', read_page_axes' bare TypeError."""
    from unetlab.data.io import read_stack
    from unetlab.errors import ImageReadError

    path = tmp_path / "s.tif"
    write_fiji(path, np.zeros((4, 8, 8), np.uint8))
    path.write_bytes(path.read_bytes().replace(b"slices=4", b"slices=x"))
    line = (
        f"{path}: its ImageJ description's slices=x is no number, so its pages cannot be "
        "laid out (the pixels need not be damaged): set Slices in Fiji's Image > "
        "Properties and save it again"
    )
    for read in (read_stack, lambda p: tiffmeta.read_page_axes(p, 4)):
        with pytest.raises(ImageReadError) as caught:
            read(path)
        assert str(caught.value) == line


def test_a_given_z_spacing_is_no_implied_one():
    """A stack read at Fiji's implied 1 µm (``PixelSize.implied``) given --z-spacing 0.5
    has a spacing the user stated: no longer implied (a recorded one would beat it in a
    case); given only --pixel-size, its spacing is still Fiji's implied one. Seen failing
    without the fix (second s75 review): implied kept after --z-spacing."""
    from unetlab.data.tiffmeta import PixelSize, given_sizes

    fiji = PixelSize((0.2, 0.2), "um", 1.0, implied=True)
    assert not given_sizes(fiji, "a.tif", None, 0.5).implied
    assert given_sizes(fiji, "a.tif", 0.3, None).implied


def test_a_folder_of_spacings_that_are_no_number_is_said_once_with_its_paths(tmp_path, caplog):
    """evaluate --pred of 3 cases whose images, masks and predictions are Fiji stacks of
    ``spacing=abc``: the first file's line names its path (an image and its mask share a
    name), the files are counted at the end. Seen failing without the fix (second s75
    review): 6 lines, 'a.tif: ...' twice."""
    from unetlab.cli import main

    data, pred = tmp_path / "data", tmp_path / "pred"
    for folder in (data / "images", data / "masks", pred):
        folder.mkdir(parents=True)
    planes = np.zeros((4, 8, 8), np.uint8)
    planes[:, 2:6, 2:6] = 1
    for name in ("a.tif", "b.tif", "c.tif"):
        for path, scale in ((data / "images" / name, 100), (data / "masks" / name, 1)):
            write_fiji(path, planes * scale, more="spacing=abc\n")
        write_fiji(pred / name, planes, more="spacing=abc\n")
    (pred / "predict.json").write_text("{}")
    argv = ["evaluate", "--pred", str(pred), "--gt", str(data), "--no-progress"]
    with caplog.at_level("WARNING"):
        assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    said = [r.getMessage() for r in caplog.records if "no number" in r.getMessage()]
    assert len(said) == 2, said
    assert said[0].endswith(
        "a.tif: its ImageJ description's spacing, 'abc', is no number: its z spacing is not "
        "used (Fiji: Image > Properties)"
    )
    assert said[0].startswith(str(tmp_path)) and said[1].startswith("6 files in all")

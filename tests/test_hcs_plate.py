"""OME-Zarr HCS plates given to predict whole (s75 hcs): every field of every well its
metadata lists predicted, outputs named by well and field, the objects tables' plate
columns and each plate's per-well table and picture. Plates of 64² fields
(:mod:`tests.hcs_writer`)."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unetlab import load_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder

from .hcs_writer import PIXEL_SIZE, write_field, write_plate

WELLS = ["B/3", "A/1", "A/2"]  # the metadata's order, not the folders'


def _stems(out: Path) -> list[str]:
    return sorted(p.name[: -len(".tif")] for p in out.glob("*.tif") if "_objects" not in p.name)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_a_plate_predicts_each_listed_field_named_by_its_well(
    tmp_path, instance_checkpoint, version
):
    """``--input plate.ome.zarr`` was refused ("give one image's folder inside it"): each
    field of each well its metadata lists is predicted, in that order, its outputs named
    ``plate_B03_f0`` (the column in two digits, so a file browser sorts them), zarr v2 / NGFF
    0.4 and zarr v3 / NGFF 0.5 alike."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2, version=version)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    assert main([*argv, "--output", str(out)]) == 0
    wells = ["A01", "A02", "B03"]
    assert _stems(out) == [f"plate_{w}_f{f}" for w in wells for f in (0, 1)]
    done = json.loads((out / "predict.json").read_text())
    assert "plate.ome.zarr/B/3/0" in json.dumps(done)  # the fields by their paths


def test_a_well_given_predicts_its_fields_and_a_field_is_named_as_in_its_plate(
    tmp_path, instance_checkpoint
):
    """``--input plate.ome.zarr/A/2`` (a well) predicts its fields; a field given alone
    has the name it has when its plate is given (``plate_A02_f1``, was ``plate_A_2_1``)."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    predict_folder(load_model(instance_checkpoint), plate / "A" / "2", tmp_path / "a")
    assert _stems(tmp_path / "a") == ["plate_A02_f0", "plate_A02_f1"]
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate / "A/2/1")]
    assert main([*argv, "--output", str(tmp_path / "b")]) == 0
    assert _stems(tmp_path / "b") == ["plate_A02_f1"]


def test_a_well_or_field_missing_is_said_and_passed_over(tmp_path, instance_checkpoint, caplog):
    """A well folder, or a field, that the metadata lists but the disk lacks (a copy cut
    short) is said in one line and passed over; the others are predicted."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    shutil.rmtree(plate / "A" / "2")
    shutil.rmtree(plate / "B" / "3" / "1")
    result = predict_folder(load_model(instance_checkpoint), plate, tmp_path / "out", objects=True)
    assert len(result.written) == 3
    assert _stems(tmp_path / "out") == ["plate_A01_f0", "plate_A01_f1", "plate_B03_f0"]
    said = caplog.text
    assert f"{plate}: well A/2 is listed in its metadata but not on disk: passed over" in said
    assert f"{plate / 'B' / '3'}: field 1 is listed in its metadata but not on disk" in said


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_damaged_plate_metadata_is_one_line_naming_its_file(
    tmp_path, instance_checkpoint, capsys, caplog, version
):
    """A ``wells`` entry without a row/column path is one line naming the metadata file
    and the entry, not a traceback; the plate fails as one input, nothing predicted."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1, version=version)
    group = zarr.open_group(plate, mode="a")
    file = plate / (".zattrs" if version == "0.4" else "zarr.json")
    for bad in ("A1", "../B", "/A/1"):  # ../ and absolute: outside the plate (review 7)
        attrs = dict(group.attrs)
        found = attrs["ome"] if version == "0.5" else attrs
        found["plate"]["wells"][1] = {"path": bad}
        group.attrs.update(attrs)
        argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
        assert main([*argv, "--output", str(tmp_path / "out")]) != 0
        err = capsys.readouterr().err + caplog.text
        caplog.clear()
        assert f"{file}: its 'plate' entry 1 of 'wells' ({{'path': {bad!r}}}) has no path" in err
        assert "Traceback" not in err
    assert not list((tmp_path / "out").glob("*.tif"))


def test_a_well_whose_metadata_is_damaged_is_said_and_passed_over(
    tmp_path, instance_checkpoint, caplog
):
    """A well whose ``.zattrs`` is not JSON is one line naming it, and passed over; the
    other wells are predicted (untested before: review 7)."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    (plate / "A" / "2" / ".zattrs").write_text("{not json", encoding="utf-8")
    predict_folder(load_model(instance_checkpoint), plate, tmp_path / "out")
    assert _stems(tmp_path / "out") == ["plate_A01_f0", "plate_B03_f0"]
    assert f"{plate / 'A' / '2' / '.zattrs'}: cannot read its metadata" in caplog.text
    assert "well A/2 passed over" in caplog.text


@pytest.mark.parametrize("field_count", [True, False])
def test_field_numbers_are_padded_to_the_plates_most_fields(
    tmp_path, instance_checkpoint, monkeypatch, field_count
):
    """Fields are named ``f00`` ... ``f10`` on a plate of 11 fields a well, so a file browser
    sorts them; where the plate metadata has no ``field_count`` (ome-zarr-py leaves it out)
    the well of most fields says it, in a well of fewer too (f10 sorted before f2, review 9)."""
    import zarr

    plate = write_plate(tmp_path / "p.ome.zarr", ["A/1", "A/2"], 11, size=32)
    group = zarr.open_group(plate / "A" / "2", mode="a")
    group.attrs["well"] = group.attrs["well"] | {"images": [{"path": "0"}, {"path": "1"}]}
    if not field_count:
        root = zarr.open_group(plate, mode="a")
        root.attrs["plate"] = {k: v for k, v in root.attrs["plate"].items() if k != "field_count"}
    import unetlab.data.plates as plates

    read, real = [], plates._attrs
    monkeypatch.setattr(plates, "_attrs", lambda folder: read.append(folder) or real(folder))
    predict_folder(load_model(instance_checkpoint), plate, tmp_path / "out")
    fields = [f"p_A01_f{f:02d}" for f in range(11)] + ["p_A02_f00", "p_A02_f01"]
    assert _stems(tmp_path / "out") == fields
    wells_read = [f for f in read if f.name in ("1", "2")]
    assert len(wells_read) <= 4  # its fields listed, its count once: not at each name asked


def test_objects_tables_end_with_the_plate_columns_and_each_well_is_summed(
    tmp_path, instance_checkpoint
):
    """With objects, each field's table ends with ``well, row, column, field`` (after the
    columns it had), and ``plate_wells.csv`` sums each well's fields (objects, per field,
    mean and median areas in px² and µm²) beside ``plate_wells.png``, a plate grid."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    out = tmp_path / "out"
    predict_folder(load_model(instance_checkpoint), plate, out, objects=True)
    rows = _rows(out / "plate_B03_f1_objects.csv")
    assert list(rows[0])[-6:] == ["image", "path", "well", "row", "column", "field"]
    assert {(r["well"], r["row"], r["column"], r["field"]) for r in rows} == {
        ("B03", "B", "3", "1")
    }
    wells = _rows(out / "plate_wells.csv")
    assert [w["well"] for w in wells] == ["B03", "A01", "A02"]
    for well in wells:
        tables = [_rows(out / f"plate_{well['well']}_f{f}_objects.csv") for f in (0, 1)]
        areas = np.array([float(r["area"]) for t in tables for r in t])
        assert (int(well["fields"]), int(well["objects"])) == (2, len(areas))
        assert float(well["objects_per_field"]) == len(areas) / 2
        assert float(well["median_area"]) == pytest.approx(np.median(areas))
        assert float(well["mean_area_um2"]) == pytest.approx(areas.mean() * PIXEL_SIZE**2)
    picture = np.asarray(Image.open(out / "plate_wells.png"))
    assert picture.ndim == 3 and picture.shape[1] > picture.shape[0]  # 8 x 12 wells


def test_a_plate_rerun_skips_each_field_done(tmp_path, instance_checkpoint):
    """``--skip-existing`` resumes a plate field by field: a field whose outputs were
    lost is the only one predicted again, and the wells' table counts all of them."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    argv += ["--output", str(out), "--instances"]
    assert main(argv) == 0
    before = _rows(out / "plate_wells.csv")
    for lost in out.glob("plate_A02_f1*"):
        lost.unlink()
    result = predict_folder(
        load_model(instance_checkpoint), plate, out, objects=True, skip_existing=True
    )
    assert [p.parts[-3:] for p in result.written] == [("A", "2", "1")]
    assert len(result.skipped) == 5
    assert _rows(out / "plate_wells.csv") == before


def test_no_plate_metadata_is_still_refused(tmp_path, instance_checkpoint):
    """A plate's folders without ``plate`` metadata are not guessed at: refused, naming one
    field's folder, as before."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    group = zarr.open_group(plate, mode="a")
    group.attrs.clear()
    with pytest.raises(UnetlabError, match="an HCS plate of 3 wells"):
        predict_folder(load_model(instance_checkpoint), plate, tmp_path / "out", failed=_raise)


def _raise(line: str):
    raise UnetlabError(line)


def test_a_field_output_by_its_older_name_is_said_and_kept(tmp_path, instance_checkpoint, caplog):
    """A field given alone was named ``plate_A_1_0`` before its outputs took its well's
    name (``plate_A01_f0``): an output folder holding such labels kept them beside the new
    ones silently. Now one line names both; the old file is kept, untouched."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--output", str(out)]
    import zarr

    group = zarr.open_group(plate, mode="a")
    attrs = dict(group.attrs)
    group.attrs.clear()  # no plate: the field named as all plates' were (a real earlier run)
    assert main([*argv, "--input", str(plate / "A/1/0")]) == 0
    group.attrs.update(attrs)
    before = (out / "plate_A_1_0.tif").read_bytes()
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--input", str(plate), "--skip-existing"]) == 0
    said = "plate_A_1_0.tif beside its plate_A01_f0.tif is what its labels were named before"
    assert [r for r in caplog.text.splitlines() if said in r] != []
    assert (out / "plate_A_1_0.tif").read_bytes() == before
    assert _stems(out) == ["plate_A01_f0", "plate_A02_f0", "plate_A_1_0", "plate_B03_f0"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_outputs_of_a_plate_make_an_output_plate(tmp_path, instance_checkpoint, version):
    """``--output-format ome-zarr`` wrote each field's ``<stem>.ome.zarr`` and no plate:
    now ``out/plate.ome.zarr`` has the input's row/column/field layout with NGFF ``plate``
    and ``well`` metadata, each field its labels (and its objects as its label ``objects``),
    and a rerun that predicts one field again makes it whole again."""

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2, version=version)
    before = _tree(plate)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    argv += ["--output", str(out), "--output-format", "ome-zarr", "--instances"]
    assert main(argv) == 0
    _check_output_plate(out)
    assert all(_linked(out, "plate_B03_f1", "B/3/1"))  # hard links: no second copy on disk
    shutil.rmtree(out / "plate_A02_f1.ome.zarr")
    assert main([*argv, "--skip-existing"]) == 0
    _check_output_plate(out)
    assert _tree(plate) == before  # the input plate untouched


def _check_output_plate(out: Path) -> None:
    import zarr

    root = zarr.open_group(out / "plate.ome.zarr", mode="r")
    meta = root.attrs["plate"]
    assert [w["path"] for w in meta["wells"]] == WELLS
    for well in meta["wells"]:
        row, column = well["path"].split("/")
        assert meta["rows"][well["rowIndex"]]["name"] == row
        assert meta["columns"][well["columnIndex"]]["name"] == column
        images = root[well["path"]].attrs["well"]["images"]
        assert [i["path"] for i in images] == ["0", "1"]
        for f in ("0", "1"):
            field = root[f"{well['path']}/{f}"]
            stem = f"plate_{row}{column.zfill(2)}_f{f}"
            own = zarr.open_group(out / f"{stem}.ome.zarr", mode="r")
            assert np.array_equal(field["0"][:], own["0"][:])
            assert field.attrs["multiscales"][0]["datasets"][0]["path"] == "0"
            assert field["labels"].attrs["labels"] == ["objects"]
            objects = field["labels/objects"]
            assert "image-label" in objects.attrs
            ids = zarr.open_group(out / f"{stem}_objects.ome.zarr", mode="r")["0"][:]
            assert np.array_equal(objects["0"][:], ids)
    assert meta["field_count"] == 2 and meta["version"] == "0.4"
    assert [r["name"] for r in meta["rows"]] == list("ABCDEFGH")  # the 96-well grid, empty
    assert [c["name"] for c in meta["columns"]] == [str(c) for c in range(1, 13)]  # wells too


def _linked(out: Path, stem: str, place: str) -> list[bool]:
    """Whether each file of the field's own labels is the same file in the output plate."""
    own = out / f"{stem}.ome.zarr"
    field = out / "plate.ome.zarr" / place
    return [(field / p.relative_to(own)).samefile(p) for p in own.rglob("*") if p.is_file()]


def test_an_output_plate_in_its_input_plate_is_refused(tmp_path, instance_checkpoint, capsys):
    """``--output`` inside the input plate (any output format: it was written into), or the
    plate's own folder with ome-zarr (its output plate would be the input), is one line
    before any work; the input is untouched."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    before = _tree(plate)
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    zarr_out = ["--output-format", "ome-zarr"]
    for out, asked, said in (
        (plate / "out", [], f"an output folder inside the input {plate}"),
        (plate / "A" / "out", zarr_out, f"an output folder inside the input {plate}"),
        (tmp_path, zarr_out, "the output plate would be written over the input plate"),
    ):
        assert main([*argv, *asked, "--output", str(out), "--overwrite"]) != 0
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err
    assert _tree(plate) == before


def test_an_output_in_any_input_store_is_refused_on_real_paths(
    tmp_path, instance_checkpoint, capsys
):
    """``--output`` inside a plate not named ``.zarr`` (P001/out), inside an image's store
    given whole (a.ome.zarr/out), or reached through a link into the plate: one line, before
    any work; the inputs untouched (each was written into before, s75 review 6)."""
    import zarr

    plate = write_plate(tmp_path / "P001", WELLS, 1)
    image = tmp_path / "a.ome.zarr"
    write_field(zarr.open_group(image, mode="w", zarr_format=2), 64, 1, "0.4", "a")
    (tmp_path / "link").symlink_to(plate / "A", target_is_directory=True)
    before = {p: _tree(p) for p in (plate, image)}
    for given, out, store in (
        (plate, plate / "out", plate),
        (image, image / "out", image),
        (plate, tmp_path / "link" / "out", plate),
    ):
        argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(given)]
        assert main([*argv, "--output", str(out)]) != 0
        err = capsys.readouterr().err
        assert f"an output folder inside the input {store}" in err and "Traceback" not in err
    assert {p: _tree(p) for p in (plate, image)} == before


def test_a_field_level_whose_metadata_is_not_json_is_one_line_naming_it(
    tmp_path, instance_checkpoint, capsys
):
    """A field whose level's ``.zarray`` is not JSON fails as one input in one line naming
    that file (a JSONDecodeError traceback, "a bug in unetlab", s75 review A); the other
    fields are predicted."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    (plate / "A" / "1" / "0" / "0" / ".zarray").write_text("{not json", encoding="utf-8")
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    assert main([*argv, "--output", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bug in unetlab" not in err
    assert f"{Path('A', '1', '0', '0', '.zarray')}: the metadata of the level '0'" in err
    assert _stems(tmp_path / "out") == ["plate_A02_f0", "plate_B03_f0"]


def test_an_output_plate_is_copied_where_the_disk_has_no_hard_links(
    tmp_path, instance_checkpoint, monkeypatch, caplog
):
    """Where the file system has no hard links (FAT's EPERM) the output plate's files are
    copies, said in one line (twice the disk: review 9); another OSError is no copy."""
    import errno
    import os

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)

    out, real = tmp_path / "out", os.link

    def no_links(source, target, **kwargs):  # across outputs; zarr's own within one stay
        if Path(source).relative_to(out).parts[0] != Path(target).relative_to(out).parts[0]:
            raise OSError(errno.EPERM, "Operation not permitted")
        return real(source, target, **kwargs)

    monkeypatch.setattr(os, "link", no_links)
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    assert main([*argv, "--output", str(out), "--output-format", "ome-zarr"]) == 0
    assert not any(_linked(out, "plate_B03_f1", "B/3/1"))
    assert f"{out / 'plate.ome.zarr'}: " in caplog.text
    assert "files copied, not linked (this file system has no hard links)" in caplog.text


def test_the_plate_picture_says_its_wells_fields_and_shows_per_field_where_they_differ(
    tmp_path, instance_checkpoint, monkeypatch
):
    """The plate picture's title says how many fields a well has; where wells have different
    counts it shows objects per field (objects per well misled: a well of one field looked
    half empty, review 9), its figures those of the wells table."""
    import unetlab.plots

    drawn, real = [], unetlab.plots.plot_plate
    monkeypatch.setattr(
        unetlab.plots, "plot_plate", lambda *a, **k: drawn.append((a, k)) or real(*a, **k)
    )
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    model = load_model(instance_checkpoint)
    predict_folder(model, plate, tmp_path / "a", objects=True)
    assert drawn[-1][1]["title"] == "plate.ome.zarr: objects per well (2 fields)"
    shutil.rmtree(plate / "B" / "3" / "1")
    predict_folder(model, plate, tmp_path / "b", objects=True)
    (values, rows, columns, _), said = drawn[-1]
    assert said == {"title": "plate.ome.zarr: objects per field (wells of 1-2 fields)"} | {
        "label": "objects per field"
    }
    for well in _rows(tmp_path / "b" / "plate_wells.csv"):
        at = rows.index(well["row"]), columns.index(well["column"])
        assert values[at] == float(well["objects_per_field"])


def test_a_folder_of_plates_predicts_each_plates_fields(tmp_path, instance_checkpoint):
    """A folder holding two plates (zarr v2 and v3) given as ``--input``: each plate's
    fields predicted, named by their plate, well and field, and each plate summed apart."""
    screen = tmp_path / "screen"
    write_plate(screen / "day1.ome.zarr", ["A/1", "B/2"], 1)
    write_plate(screen / "day2.ome.zarr", ["C/3"], 2, version="0.5")
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(screen)]
    assert main([*argv, "--output", str(out), "--instances"]) == 0
    assert _stems(out) == ["day1_A01_f0", "day1_B02_f0", "day2_C03_f0", "day2_C03_f1"]
    assert [w["well"] for w in _rows(out / "day1_wells.csv")] == ["A01", "B02"]
    assert [(w["well"], w["fields"]) for w in _rows(out / "day2_wells.csv")] == [("C03", "2")]


def test_an_output_plate_never_replaces_a_folder_unetlab_did_not_write(
    tmp_path, instance_checkpoint, capsys
):
    """The output folder holds the user's own ``plate.ome.zarr`` (a copy, with a note):
    refused with ``--overwrite`` too (it was replaced whole, the note gone), in one line."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    out = tmp_path / "out"
    shutil.copytree(plate, out / "plate.ome.zarr")
    (out / "plate.ome.zarr" / "NOTE.txt").write_text("mine")
    argv = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(plate)]
    argv += ["--output", str(out), "--output-format", "ome-zarr", "--overwrite"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert f"{out / 'plate.ome.zarr'} exists and unetlab did not write it" in err
    assert (out / "plate.ome.zarr" / "NOTE.txt").read_text() == "mine"


def test_plate_wide_outputs_of_one_name_are_refused_before_any_work(tmp_path, instance_checkpoint):
    """Two plates named alike in two folders (their wells apart) wrote one
    ``plate_wells.csv``, the second's wells only; ``plate.tif`` beside ``plate.ome.zarr``
    had its labels ``plate.ome.zarr`` replaced by the output plate. Both refused, nothing
    written."""
    import tifffile

    one = write_plate(tmp_path / "s1" / "plate.ome.zarr", ["A/1"], 1)
    two = write_plate(tmp_path / "s4" / "plate.ome.zarr", ["B/2"], 1)
    model = load_model(instance_checkpoint)
    with pytest.raises(UnetlabError, match="plate_wells.csv: both .* would write it"):
        predict_folder(model, [one, two], tmp_path / "o1", objects=True)
    write_plate(tmp_path / "s3" / "plate.ome.zarr", ["A/1"], 1)
    tifffile.imwrite(tmp_path / "s3" / "plate.tif", np.zeros((64, 64), np.uint16))
    with pytest.raises(UnetlabError, match="plate.ome.zarr: both .* would write it"):
        predict_folder(model, tmp_path / "s3", tmp_path / "o2", output_format="ome-zarr")
    assert not list((tmp_path / "o1").glob("*.tif")) + list((tmp_path / "o2").glob("*"))


def test_a_plate_that_cannot_be_read_fails_as_one_input(tmp_path, instance_checkpoint):
    """A folder of three plates, one whose ``.zattrs`` is damaged and one cut short (no
    field on disk): the whole run was refused, nothing predicted. Each fails as one input
    with its line (a fix in it), the good plate is predicted."""
    screen = tmp_path / "screen"
    write_plate(screen / "a.ome.zarr", ["A/1"], 2)
    (write_plate(screen / "b.ome.zarr", ["A/1"], 1) / ".zattrs").write_text("{not json")
    cut = write_plate(screen / "c.ome.zarr", ["A/1", "B/2"], 1)
    shutil.rmtree(cut / "A")
    shutil.rmtree(cut / "B")
    result = predict_folder(load_model(instance_checkpoint), screen, tmp_path / "out")
    assert _stems(tmp_path / "out") == ["a_A01_f0", "a_A01_f1"]
    failed = {p.name: why for p, why in result.failed.items()}
    assert "cannot read" in failed["b.ome.zarr"]
    assert "lists no field on disk: copy the plate again whole" in failed["c.ome.zarr"]


def _plate_argv(checkpoint: Path, given: Path, out: Path, *flags: str) -> list[str]:
    return [
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--input",
        str(given),
        "--output",
        str(out),
        *flags,
    ]


def test_a_field_failed_now_is_left_out_of_the_plate_and_its_wells(tmp_path, instance_checkpoint):
    """The user's own ``plate_A01_f0.ome.zarr`` in the output folder: its field failed
    (never replaced), yet the folder was linked into the output plate as field A/1/0.
    Now only outputs predict made of a field count, of this run's fields those done."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    out = tmp_path / "out"
    write_field(zarr.open_group(out / "plate_A01_f0.ome.zarr", mode="w"), 64, 7, "0.4", "mine")
    flags = ("--output-format", "ome-zarr", "--overwrite")
    assert main(_plate_argv(instance_checkpoint, plate, out, *flags)) != 0  # A/1/0 failed
    images = zarr.open_group(out / "plate.ome.zarr", mode="r")["A/1"].attrs["well"]["images"]
    assert [i["path"] for i in images] == ["1"]


def test_a_plate_predicted_well_by_well_keeps_every_well(tmp_path, instance_checkpoint):
    """Predicting well A/1, then well B/3, into one folder: the wells table and the output
    plate held B03 only (objects_summary.csv kept all 4 images); now both wells."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 2)
    out = tmp_path / "out"
    for well in ("A/1", "B/3"):
        flags = ("--instances", "--output-format", "ome-zarr")
        assert main(_plate_argv(instance_checkpoint, plate / well, out, *flags)) == 0
    assert [w["well"] for w in _rows(out / "plate_wells.csv")] == ["A01", "B03"]
    wells = zarr.open_group(out / "plate.ome.zarr", mode="r").attrs["plate"]["wells"]
    assert [w["path"] for w in wells] == ["A/1", "B/3"]


def test_plate_outputs_whose_fields_outputs_are_gone_are_removed(tmp_path, instance_checkpoint):
    """A rerun as TIFF without objects (--overwrite) removed the fields' .ome.zarr and
    objects tables, but kept the output plate and the wells table, out of date: now they
    go too."""
    plate = write_plate(tmp_path / "plate.ome.zarr", WELLS, 1)
    out = tmp_path / "out"
    argv = _plate_argv(instance_checkpoint, plate, out)
    assert main([*argv, "--instances", "--output-format", "ome-zarr"]) == 0
    assert main([*argv, "--overwrite"]) == 0
    assert not list(out.glob("*.ome.zarr")) and not list(out.glob("plate_wells*"))
    assert _stems(out) == ["plate_A01_f0", "plate_A02_f0", "plate_B03_f0"]


def test_a_field_named_by_a_letter_and_a_table_saved_again_are_no_traceback(
    tmp_path, instance_checkpoint, caplog
):
    """NGFF allows a field folder named ``a``: int('a') was a traceback; its tables now
    carry ``a``. An objects table saved again with semicolons, then ``--skip-existing``:
    KeyError 'area'; now one line names it and the well counts the others."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", ["A/1"], 2)
    (plate / "A" / "1" / "1").rename(plate / "A" / "1" / "a")
    well = zarr.open_group(plate / "A" / "1", mode="a")
    well.attrs["well"] = {"images": [{"path": "0"}, {"path": "a"}], "version": "0.4"}
    out = tmp_path / "out"
    argv = _plate_argv(instance_checkpoint, plate, out, "--instances")
    assert main(argv) == 0
    assert {r["field"] for r in _rows(out / "plate_A01_fa_objects.csv")} == {"a"}
    table = out / "plate_A01_f0_objects.csv"
    table.write_text(table.read_text().replace(",", ";"))
    assert main([*argv, "--skip-existing"]) == 0
    assert f"{table}: no number in its 'area' column" in caplog.text
    assert _rows(out / "plate_wells.csv")[0]["fields"] == "1"


def test_a_plate_that_cannot_be_put_in_place_is_one_line_and_the_run_ends(
    tmp_path, instance_checkpoint, monkeypatch, caplog
):
    """An OSError as the output plate is renamed into place (a file in use on Windows) was a
    traceback and no predict.json: now one line, the run concludes."""

    def in_use(stage, final):
        raise PermissionError(13, "in use by another process", str(final))

    monkeypatch.setattr("unetlab.inference.plate_out.replace_folder", in_use)
    plate = write_plate(tmp_path / "plate.ome.zarr", ["A/1"], 1)
    out = tmp_path / "out"
    assert main(_plate_argv(instance_checkpoint, plate, out, "--output-format", "ome-zarr")) == 0
    assert f"{out / 'plate.ome.zarr'}: not written (PermissionError" in caplog.text
    assert (out / "predict.json").is_file()


def test_a_well_with_an_empty_field_has_its_areas_in_square_micrometres(
    tmp_path, instance_checkpoint
):
    """A well with a field of no object had blank µm² figures (only the first row of each
    table was looked at)."""
    import zarr

    plate = write_plate(tmp_path / "plate.ome.zarr", ["A/1"], 2)
    zarr.open_group(plate / "A" / "1" / "1", mode="a")["0"][:] = 0
    out = tmp_path / "out"
    predict_folder(load_model(instance_checkpoint), plate, out, objects=True)
    assert _rows(out / "plate_A01_f1_objects.csv") == []
    well = _rows(out / "plate_wells.csv")[0]
    assert int(well["objects"]) > 0 and float(well["mean_area_um2"]) > 0

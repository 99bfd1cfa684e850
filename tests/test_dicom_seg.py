"""predict --output-format dicom-seg: a DICOM series' labels as a DICOM SEG beside its NIfTI
labels, read back with highdicom and with pydicom alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.dicom_writer import ct_volume, write_series
from unetlab import UNet, predict_file, predict_folder, predict_tree
from unetlab.data.dicom import series_header
from unetlab.data.nifti import read_volume
from unetlab.errors import UnetlabError

pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")
hd = pytest.importorskip("highdicom", reason="highdicom is not installed (unetlab[dicom])")

SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
#: rows turned 30 degrees about the feet-head axis, columns tipped 20 degrees off it
OBLIQUE = (
    *(np.cos(np.pi / 6), np.sin(np.pi / 6), 0.0),
    *(-np.sin(np.pi / 6) * np.cos(np.pi / 9), np.cos(np.pi / 6) * np.cos(np.pi / 9)),
    -np.sin(np.pi / 9),
)
CLASSES = ["background", "liver", "tumour"]


class _Brighter(UNet):
    """A stand-in net of three named classes: class 1 where the normalised pixel is above
    0 (the body, not the air around it), class 2 nowhere (an empty class)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(super().forward(x))
        out[:, 1], out[:, 2] = x[:, 0], -1e4
        return out


def _net(values: list[int] | None = None) -> torch.nn.Module:
    """The stand-in net; ``values``: the mask values it records (its training's)."""
    torch.manual_seed(0)  # the same weights each call: one model's outputs
    net = _Brighter(1, 3, depth=2, base_channels=4, padding="same").eval()
    net.classes = list(CLASSES)
    net.label_values = values
    return net


def _series(root: Path, name: str = "CT_1", orientation=None, step=None) -> Path:
    """A series whose labels change slice by slice (s73 review: the body disc, the same on
    every slice, let frames pointing at the mirror slice pass): 100 HU in the organ, which
    moves a pixel a slice, -100 around it; ``step``: slice k at the origin + k * step."""
    _, organ = ct_volume(slices=6, size=48)
    how = {} if orientation is None else dict(orientation=[float(v) for v in orientation])
    write_series(root / "images" / name, np.where(organ, 100, -100), step=step, **how)
    return root / "images" / name


def _predicted(root: Path, series: Path, **more) -> tuple[Path, np.ndarray]:
    """The SEG of ``series`` and its NIfTI labels, predicted with ``--output-format
    dicom-seg``."""
    net = _net(more.pop("values", None))
    result = predict_folder(net, series, root / "out", output_format="dicom-seg", **more)
    assert not result.failed
    labels = read_volume(root / "out" / f"{series.name}.nii.gz", mask=True)
    return root / "out" / f"{series.name}.seg.dcm", labels


def _uids(series: Path) -> list[str]:
    """The SOP Instance UIDs of the series' slices, in its slice order."""
    import pydicom

    return [pydicom.dcmread(f).SOPInstanceUID for f in series_header(series).files]


@pytest.mark.parametrize(
    ("orientation", "step"),
    [(None, None), (SAGITTAL, None), (OBLIQUE, None), (None, (0.0, 0.0, -2.5))],
    ids=["axial", "sagittal", "oblique", "axial-stepping-down"],
)
def test_the_seg_holds_the_nifti_labels_of_each_slice_for_each_segment(tmp_path, orientation, step):
    series = _series(tmp_path, orientation=orientation, step=step)
    path, labels = _predicted(tmp_path, series)
    assert set(np.unique(labels)) == {0, 1}  # the test sees both
    assert len({labels[z].tobytes() for z in range(len(labels))}) == len(labels)  # all differ
    seg = hd.seg.segread(path)
    assert seg.get_segment_numbers() == [1, 2]
    uids = _uids(series)
    for number, k in ((1, 1), (2, 2)):
        got = seg.get_pixels_by_source_instance(uids, segment_numbers=[number])[..., 0]
        np.testing.assert_array_equal(got, labels == k)


def test_the_seg_references_the_series_and_says_who_made_it(tmp_path):
    import pydicom

    series = _series(tmp_path)
    path, _ = _predicted(tmp_path, series)
    seg, first = pydicom.dcmread(path), pydicom.dcmread(series_header(series).files[0])
    referenced = seg.ReferencedSeriesSequence[0]
    assert referenced.SeriesInstanceUID == first.SeriesInstanceUID
    assert {r.ReferencedSOPInstanceUID for r in referenced.ReferencedInstanceSequence} == set(
        _uids(series)
    )
    assert seg.StudyInstanceUID == first.StudyInstanceUID
    assert seg.FrameOfReferenceUID == first.FrameOfReferenceUID
    assert seg.SeriesInstanceUID != first.SeriesInstanceUID
    assert seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    assert str(seg.ContentCreatorName) == "unetlab"
    segments = seg.SegmentSequence
    assert [s.SegmentLabel for s in segments] == ["liver", "tumour"]  # the empty one too
    for s in segments:
        made = s.SegmentationAlgorithmIdentificationSequence[0]
        assert made.AlgorithmName == "unetlab" and made.AlgorithmVersion
        assert made.AlgorithmFamilyCodeSequence[0].CodeMeaning == "Artificial Intelligence"
        assert s.SegmentedPropertyTypeCodeSequence[0].CodeValue == "85756007"
        assert s.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "85756007"


def test_highdicom_s_lines_stay_off_predict_s_output(tmp_path, caplog):
    """s73: ``unetlab predict --output-format dicom-seg`` printed highdicom's 13 INFO lines a
    series (``copy attributes of module "Patient"``) between its own."""
    import logging

    series = _series(tmp_path)
    with caplog.at_level("INFO"):
        _predicted(tmp_path, series)
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("highdicom")]
    assert logging.getLogger("highdicom").level == logging.NOTSET  # as it was


def test_pydicom_alone_reads_each_frame_as_its_slice_s_labels(tmp_path):
    """Frame by frame, as a reader without highdicom (OHIF's) places them: the slice it
    derives from and its segment, the frame's pixels that segment's voxels of that slice."""
    import pydicom

    series = _series(tmp_path, orientation=SAGITTAL)
    path, labels = _predicted(tmp_path, series)
    seg = pydicom.dcmread(path)
    frames = seg.pixel_array.reshape(-1, *labels.shape[1:])
    where = {uid: z for z, uid in enumerate(_uids(series))}
    seen = set()
    for frame, groups in zip(frames, seg.PerFrameFunctionalGroupsSequence, strict=True):
        source = groups.DerivationImageSequence[0].SourceImageSequence[0]
        z = where[source.ReferencedSOPInstanceUID]
        k = groups.SegmentIdentificationSequence[0].ReferencedSegmentNumber
        np.testing.assert_array_equal(frame, labels[z] == k)
        seen.add((z, k))
    assert {z for z, k in seen if k == 1} == {
        z for z in range(len(labels)) if (labels[z] == 1).any()
    }
    assert not any(k == 2 for _, k in seen)  # no voxel of the empty class: no frame of it


def test_a_seg_is_refused_in_one_line_for_an_input_that_is_no_series(tmp_path):
    from PIL import Image

    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "in" / "a.png")
    with pytest.raises(UnetlabError, match="a.png: not a DICOM series: output_format='dicom-seg'"):
        predict_folder(
            _net(), tmp_path / "in" / "a.png", tmp_path / "out", output_format="dicom-seg"
        )


def test_skip_existing_keeps_the_seg_and_predicts_a_series_that_lacks_one(tmp_path):
    series = _series(tmp_path)
    predict_folder(_net(), series, tmp_path / "out")  # the NIfTI labels alone
    again = predict_folder(
        _net(), series, tmp_path / "out", output_format="dicom-seg", skip_existing=True
    )
    assert [p.name for p in again.written[series]] == ["CT_1.nii.gz", "CT_1.seg.dcm"]
    stamp = (tmp_path / "out" / "CT_1.seg.dcm").stat().st_mtime_ns
    third = predict_folder(
        _net(), series, tmp_path / "out", output_format="dicom-seg", skip_existing=True
    )
    assert not third.written and third.skipped == [series]
    assert (tmp_path / "out" / "CT_1.seg.dcm").stat().st_mtime_ns == stamp


def test_a_seg_a_user_put_there_is_never_replaced(tmp_path):
    from unetlab.errors import OutputError

    series = _series(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "CT_1.seg.dcm").write_bytes(b"theirs")
    with pytest.raises(OutputError):
        predict_folder(_net(), series, tmp_path / "out", output_format="dicom-seg")
    assert (tmp_path / "out" / "CT_1.seg.dcm").read_bytes() == b"theirs"


def test_without_highdicom_the_seg_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def without(name, *args, **kwargs):
        if name == "highdicom":
            raise ImportError("No module named 'highdicom'")
        return real(name, *args, **kwargs)

    for name in ("CT_1", "CT_2"):
        _series(tmp_path, name)
    monkeypatch.setattr(builtins, "__import__", without)
    said = "CT_1: writing a DICOM SEG needs highdicom: pip install 'unetlab\\[dicom\\]'"
    with pytest.raises(UnetlabError, match=said):  # s73: once an input, each predicted first
        predict_folder(_net(), tmp_path / "images", tmp_path / "out", output_format="dicom-seg")
    assert not list(tmp_path.glob("out/*.nii.gz"))


def test_segment_numbers_map_each_kept_class_and_leave_the_rest_none():
    from unetlab.data.dicom_seg import segment_numbers

    labels = np.array([[0, 1, 2, 3]], np.uint8)
    assert segment_numbers(labels, 4, [1, 2, 3]) is labels  # background 0: no copy
    np.testing.assert_array_equal(segment_numbers(labels, 4, [0, 2, 3]), [[1, 0, 2, 3]])
    np.testing.assert_array_equal(segment_numbers(labels, 4, [0, 1, 2, 3]), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(
        segment_numbers(labels.astype(np.int64), 4, [1, 3]), [[0, 1, 0, 2]]
    )


def test_a_seg_of_ten_classes_is_written_from_the_label_map_itself(tmp_path):
    """s73 review: a mask a segment, stacked (Z, Y, X, segments) and copied as uint8, took
    2.3 GB and 11.9 s CPU for 300 slices of 512 x 512 and 10 classes; the label map itself,
    1.3 GB less (the SEG's pixels the same, byte for byte)."""
    import tracemalloc

    from unetlab.data.dicom_seg import write_seg

    z, y, x = np.mgrid[:8, :128, :128]
    labels = ((x // 16 + y // 16 + z) % 10).astype(np.uint8)
    write_series(tmp_path / "s", np.zeros(labels.shape, np.int16))
    classes = [f"class {k}" for k in range(10)]
    write_seg(tmp_path / "warm.seg.dcm", labels, tmp_path / "s", classes=classes)  # imports
    tracemalloc.start()
    try:
        path = write_seg(tmp_path / "s.seg.dcm", labels, tmp_path / "s", classes=classes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 9 * labels.nbytes  # the stack and its copy alone were that
    seg, uids = hd.seg.segread(path), _uids(tmp_path / "s")
    for k in range(1, 10):
        got = seg.get_pixels_by_source_instance(uids, segment_numbers=[k])[..., 0]
        np.testing.assert_array_equal(got, labels == k)


def _lacking(series: Path, key: str) -> None:
    """Take ``key`` out of the third slice of ``series``, as an anonymiser does."""
    import pydicom

    from tests.dicom_writer import save

    ds = pydicom.dcmread(series / "IM0003")
    delattr(ds, key)
    save(ds, series / "IM0003")


@pytest.mark.parametrize("key", ["FrameOfReferenceUID", "StudyInstanceUID"])
def test_a_series_lacking_a_uid_the_seg_needs_gets_its_nifti_labels_alone(tmp_path, key, caplog):
    """s74: one series lacking a UID refused the whole run (s73 review: found once the series
    was predicted, its NIfTI labels lost with the SEG; without StudyInstanceUID highdicom's
    AttributeError as a bug of unetlab's); the others are predicted with their SEGs, said
    in one line."""
    _series(tmp_path, "CT_1")
    _lacking(_series(tmp_path, "CT_2"), key)
    with caplog.at_level("WARNING"):
        result = predict_folder(
            _net(), tmp_path / "images", tmp_path / "out", output_format="dicom-seg"
        )
    assert not result.failed
    names = sorted(p.name for p in (tmp_path / "out").glob("CT_*"))
    assert names == ["CT_1.nii.gz", "CT_1.seg.dcm", "CT_2.nii.gz"]
    said = [r.getMessage() for r in caplog.records if "no DICOM SEG written" in r.getMessage()]
    assert said == [
        f"{tmp_path / 'images' / 'CT_2' / 'IM0003'}: a slice without {key}, by which a DICOM "
        "SEG refers to its series and is placed on it: no DICOM SEG written of CT_2, its "
        "NIfTI labels are; export it again from the PACS for its SEG"
    ]


def test_a_rerun_skips_a_series_that_can_have_no_seg_as_finished(tmp_path, caplog):
    """s74 review: with CT_2 lacking a UID, --skip-existing said "seg missing: drawn from those
    there" and "CT_2: drawn from the labels ..., the net not run", counting CT_2 predicted
    and written though nothing was drawn (its labels' mtime unchanged)."""
    _series(tmp_path, "CT_1")
    _lacking(_series(tmp_path, "CT_2"), "FrameOfReferenceUID")
    how = dict(output_format="dicom-seg", skip_existing=True)
    predict_folder(_net(), tmp_path / "images", tmp_path / "out", **how)
    caplog.clear()
    with caplog.at_level("INFO"):
        again = predict_folder(_net(), tmp_path / "images", tmp_path / "out", **how)
    assert not again.written and sorted(p.name for p in again.skipped) == ["CT_1", "CT_2"]
    assert "drawn from" not in caplog.text and "missing" not in caplog.text
    predict_folder(_net(), tmp_path / "images", tmp_path / "obj", objects=True, **how)
    (tmp_path / "obj" / "CT_1.seg.dcm").unlink()  # with objects: predicted again, as said
    caplog.clear()
    with caplog.at_level("INFO"):
        predict_folder(_net(), tmp_path / "images", tmp_path / "obj", objects=True, **how)
    said = "(seg missing): predicted again, all its outputs"
    assert said in caplog.text and "drawn from" not in caplog.text


def test_a_tree_predicts_past_a_folder_whose_only_series_lacks_a_uid(tmp_path, caplog):
    """s74 review: predict --recursive stopped at p2, whose only series lacked
    FrameOfReferenceUID (refused as a run of every series lacking one), p3 never predicted;
    the tree's series are asked together: p2 gets its NIfTI labels alone, said once."""
    root = tmp_path / "tree"
    for patient, name in (("p1", "CT_1"), ("p2", "CT_2"), ("p3", "CT_3")):
        series = _series(root / patient, name)
    _lacking(root / "p2" / "images" / "CT_2", "FrameOfReferenceUID")
    with caplog.at_level("WARNING"):
        done = predict_tree(_net(), root, tmp_path / "out", output_format="dicom-seg")
    assert not any(r.failed for r in done.values()) and series.name == "CT_3"
    written = sorted(p.name for p in (tmp_path / "out").rglob("CT_*"))
    assert written == ["CT_1.nii.gz", "CT_1.seg.dcm", "CT_2.nii.gz", "CT_3.nii.gz", "CT_3.seg.dcm"]
    assert caplog.text.count("no DICOM SEG written of CT_2") == 1


def test_a_run_whose_every_series_lacks_a_uid_is_refused_before_any_work(tmp_path):
    for name in ("CT_1", "CT_2"):
        _lacking(_series(tmp_path, name), "FrameOfReferenceUID")
    said = "CT_1/IM0003: a slice without FrameOfReferenceUID, by which a DICOM SEG refers to"
    with pytest.raises(UnetlabError, match=said):
        predict_folder(_net(), tmp_path / "images", tmp_path / "out", output_format="dicom-seg")
    assert not list(tmp_path.glob("out/*"))
    with pytest.raises(UnetlabError, match=said):  # one series given alone, as a file
        predict_file(
            _net(), tmp_path / "images" / "CT_1", tmp_path / "out", output_format="dicom-seg"
        )
    result = predict_folder(_net(), tmp_path / "images", tmp_path / "out")  # NIfTI alone: as ever
    assert not result.failed and len(list(tmp_path.glob("out/*.nii.gz"))) == 2


class _Nothing(UNet):
    """A stand-in net that finds only background."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(super().forward(x))
        out[:, 0] = 1.0
        return out


def test_a_prediction_of_background_alone_is_said_in_unetlab_s_line(tmp_path, caplog):
    """s73 review: highdicom printed 'Encoding an empty image with "omit_empty_frames" set
    to True. Reverting to encoding all frames...' (its WARNING let through)."""
    from unetlab.data.read_notes import call_notes

    series = _series(tmp_path)
    net = _Nothing(1, 3, depth=2, base_channels=4, padding="same").eval()
    net.classes = list(CLASSES)
    with caplog.at_level("INFO"), call_notes():
        result = predict_folder(net, series, tmp_path / "out", output_format="dicom-seg")
    assert not result.failed
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("highdicom")]
    assert "CT_1: no voxel of any class but the background: its SEG holds every" in caplog.text
    seg = hd.seg.segread(tmp_path / "out" / "CT_1.seg.dcm")
    assert not seg.get_pixels_by_source_instance(_uids(series), segment_numbers=[1]).any()


def test_highdicom_s_person_name_warning_stays_off_predict_s_output(tmp_path):
    """highdicom warns that ContentCreatorName "unetlab" is no person's name (7 warnings a
    SEG, s73 review: a filter no test held)."""
    import warnings

    series = _series(tmp_path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _predicted(tmp_path, series)
    assert not [str(w.message) for w in seen if "person name" in str(w.message)]


def test_a_seg_is_refused_in_one_line_by_predict_file_too(tmp_path):
    """predict_file of an image that is no series: refused by its file's outputs, as
    predict_folder's inputs are."""
    from PIL import Image

    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "a.png")
    said = "a.png: not a DICOM series: output_format='dicom-seg' writes the SEG"
    with pytest.raises(UnetlabError, match=said):
        predict_file(_net(), tmp_path / "a.png", tmp_path / "out", output_format="dicom-seg")
    assert not list(tmp_path.glob("out/*"))


def _slice_opens(root: Path, out: str, monkeypatch) -> dict[str, int]:
    """How often each slice file under ``root/images`` is opened by a SEG run into ``out``."""
    import builtins
    from collections import Counter

    opened, real = Counter(), builtins.open
    images = str(root / "images")

    def counting(file, *args, **kwargs):
        if str(file).startswith(images):
            opened[str(file)] += 1
        return real(file, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(builtins, "open", counting)
        result = predict_folder(_net(), root / "images", root / out, output_format="dicom-seg")
    assert not result.failed and len(result.written) == 4
    return dict(opened)


def test_a_run_of_more_series_than_are_kept_reads_each_header_once(
    tmp_path, monkeypatch, settled_inputs
):
    """s74: the SEG's check read the headers of 40 series of 5 slices, past the 32 folders
    kept, and the prediction read each again: 1,800 opens of the slices (9 a slice), 920
    with each header read once a run (4 or 5 a slice, as for 8 series). Here 4 series past
    2 kept: the same opens as with all of them kept."""
    from unetlab.data import dicom

    for k in range(4):
        _series(tmp_path, f"CT_{k}")
    monkeypatch.setattr(dicom, "_KEPT", {})  # none read before
    kept = _slice_opens(tmp_path, "kept", monkeypatch)
    monkeypatch.setattr(dicom, "_KEPT", {})
    monkeypatch.setattr(dicom, "KEPT_FOLDERS", 2)
    assert _slice_opens(tmp_path, "past", monkeypatch) == kept
    assert len(dicom._KEPT) <= 2  # those past it dropped once the run ended


@pytest.mark.parametrize("values", [None, [0, 128, 255]], ids=["indices", "label-values"])
def test_skip_existing_writes_a_missing_seg_from_the_nifti_labels_there(tmp_path, caplog, values):
    """s74: with the NIfTI labels this checkpoint and settings wrote there and the SEG
    missing (deleted, or lost), --skip-existing predicted the series again; the SEG is
    written from the labels there, the net not run, said in one line. Labels written as the
    model's mask values (label_values) are read back as its classes (s74 review: unread,
    highdicom's traceback 'Pixel array contains segments that lack descriptions')."""
    series = _series(tmp_path)
    more = {} if values is None else dict(values=values, label_values=True)
    first = _predicted(tmp_path, series, **more)[0]
    seg_before = hd.seg.segread(first).get_pixels_by_source_instance(_uids(series))
    first.unlink()
    stamp = (tmp_path / "out" / "CT_1.nii.gz").stat().st_mtime_ns

    class _Unrun(torch.nn.Module):  # the same weights, which must not run
        def forward(self, x):
            raise AssertionError("the net ran")

    net = _net(values)
    net.forward = _Unrun().forward
    how = dict(output_format="dicom-seg", skip_existing=True, label_values=values is not None)
    with caplog.at_level("INFO"):
        again = predict_folder(net, series, tmp_path / "out", **how)
    assert not again.failed and (tmp_path / "out" / "CT_1.seg.dcm").exists()
    assert "CT_1: drawn from the labels this checkpoint and settings wrote in" in caplog.text
    seg = hd.seg.segread(tmp_path / "out" / "CT_1.seg.dcm")
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance(_uids(series)), seg_before)
    assert (tmp_path / "out" / "CT_1.nii.gz").stat().st_mtime_ns == stamp  # kept as it is


def test_skip_existing_predicts_a_series_whose_labels_another_model_wrote(tmp_path):
    """Labels that are not this checkpoint's (another's weights): predicted again."""
    series = _series(tmp_path)
    other = _net()
    with torch.no_grad():
        next(other.parameters()).add_(1.0)
    predict_folder(other, series, tmp_path / "out", output_format="dicom-seg")
    (tmp_path / "out" / "CT_1.seg.dcm").unlink()
    again = predict_folder(
        _net(),
        series,
        tmp_path / "out",
        output_format="dicom-seg",
        skip_existing=True,
        overwrite=True,
    )
    assert [p.name for p in again.written[series]] == ["CT_1.nii.gz", "CT_1.seg.dcm"]

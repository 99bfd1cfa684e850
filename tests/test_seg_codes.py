"""predict --seg-codes FILE: each class's coded category and type in its DICOM SEG's
segments, from a CSV or YAML file (read back with highdicom and pydicom), bad rows and
unknown classes refused in one line each before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_dicom_seg import _net, _series
from unetlab import predict_file, predict_folder
from unetlab.data.seg_codes import HEADER, read_seg_codes
from unetlab.errors import UnetlabError

pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")
hd = pytest.importorskip("highdicom", reason="highdicom is not installed (unetlab[dicom])")

ANATOMY = ("SCT", "123037004", "Anatomical Structure")
LIVER = ("SCT", "10200004", "Liver")
#: liver coded, tumour left out (the generic code)
CSV = f"{','.join(HEADER)}\nliver,{','.join(ANATOMY)},{','.join(LIVER)}\n"
YAML = (
    "liver:\n  category: [SCT, '123037004', Anatomical Structure]\n"
    "  type: [SCT, 10200004, Liver]\n"  # a code YAML reads as a number too
)


def _codes(tmp_path: Path, text: str, name: str = "codes.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _coded(segment) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """(category, type) of a SEG's segment as (scheme, code, meaning)."""
    seqs = (
        segment.SegmentedPropertyCategoryCodeSequence,
        segment.SegmentedPropertyTypeCodeSequence,
    )
    return tuple((c[0].CodingSchemeDesignator, c[0].CodeValue, c[0].CodeMeaning) for c in seqs)


@pytest.mark.parametrize(("name", "text"), [("codes.csv", CSV), ("codes.yaml", YAML)])
def test_each_segment_carries_its_class_s_codes_and_a_class_left_out_the_generic(
    tmp_path, name, text
):
    """Seen failing without the change: every segment SCT 85756007 "Tissue" (no such option)."""
    series = _series(tmp_path)
    codes = _codes(tmp_path, text, name)
    out = tmp_path / "out"
    result = predict_folder(_net(), series, out, output_format="dicom-seg", seg_codes=codes)
    assert not result.failed
    seg = hd.seg.segread(out / f"{series.name}.seg.dcm")
    liver, tumour = seg.SegmentSequence
    assert liver.SegmentLabel == "liver" and _coded(liver) == (ANATOMY, LIVER)
    generic = ("SCT", "85756007", "Tissue")
    assert tumour.SegmentLabel == "tumour" and _coded(tumour) == (generic, generic)
    import pydicom  # pydicom alone reads the same

    again = pydicom.dcmread(out / f"{series.name}.seg.dcm").SegmentSequence[0]
    assert _coded(again) == (ANATOMY, LIVER)


BAD_ROWS = [
    ("class,scheme,code,meaning\nliver,SCT,1,Liver\n", "its first line must be the header"),
    (f"{','.join(HEADER)}\nliver,SCT,1,Liver\n", "line 2: 4 fields, not 7"),
    (f"{','.join(HEADER)}\nliver,SCT,,A,SCT,1,Liver\n", "line 2: category_code is empty"),
    (
        f"{','.join(HEADER)}\nliver,{','.join(ANATOMY)},{','.join(LIVER)}\n"
        f"liver,{','.join(ANATOMY)},{','.join(LIVER)}\n",
        r"line 3: 'liver' again \(line 2\): one row a class",
    ),
    (f"{','.join(HEADER)}\nliver,SCT,1,A,SCT,2,{'x' * 65}\n", "type_meaning 'x+' is over 64"),
    (f"{','.join(HEADER)}\n", "no class's codes"),
    # s75 review: pydicom read "Leber (Lappen) \\ links" back as two values; "ä" was
    # written as Latin-1 without a character set, invalid in DICOM's default repertoire
    (
        f"{','.join(HEADER)}\nliver,SCT,1,A,SCT,2,Leber (Lappen) \\ links\n",
        r"line 2: type_meaning 'Leber \(Lappen\) \\\\ links' holds a backslash: .* ASCII",
    ),
    (f"{','.join(HEADER)}\nliver,SCT,1,A,SCT,2,Leber\x07\n", "holds a control character"),
    (f"{','.join(HEADER)}\nliver,SCT,1,A,SCT,2,Lebergef\u00e4\u00dfe\n", "holds 'ä'"),
]


@pytest.mark.parametrize(("text", "said"), BAD_ROWS)
def test_a_bad_csv_row_is_one_line_naming_the_file_and_row(tmp_path, text, said):
    with pytest.raises(UnetlabError, match=said) as caught:
        read_seg_codes(_codes(tmp_path, text))
    assert "codes.csv" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- liver\n", "a mapping of each class"),
        ("liver: {type: [SCT, '1', Liver]}\n", "class 'liver': give its category and type"),
        ("liver: {category: [SCT, '1'], type: [SCT, '1', L]}\n", "category must be"),
        ("liver: {category: [SCT, [1], A], type: [SCT, '1', L]}\n", "are words"),
        ("liver: [\n", "not YAML"),
    ],
)
def test_a_bad_yaml_class_is_one_line_naming_the_file_and_class(tmp_path, text, said):
    with pytest.raises(UnetlabError, match=said) as caught:
        read_seg_codes(_codes(tmp_path, text, "codes.yaml"))
    assert "codes.yaml" in str(caught.value) and "\n" not in str(caught.value)


def test_unquoted_yaml_codes_and_classes_are_read_as_written(tmp_path):
    """s75 review: YAML's numbers and booleans changed them without a word: 010200004 read
    as octal 2162692, 0x1F as 31, 1.50 as 1.5, a class ``on`` as True. Seen failing without
    the fix: "its category's scheme, code and meaning are words, not ['SCT', 1.5, True]"."""
    text = (
        "on:\n  category: [SCT, 0x1F, Anatomical Structure]\n  type: [SCT, 010200004, Liver]\n"
        "liver:\n  category: [SCT, 1.50, yes]\n  type: [SCT, 1e3, 'null']\n"
    )
    codes = read_seg_codes(_codes(tmp_path, text, "codes.yaml")).record()
    assert codes == {
        "on": [["SCT", "0x1F", "Anatomical Structure"], ["SCT", "010200004", "Liver"]],
        "liver": [["SCT", "1.50", "yes"], ["SCT", "1e3", "null"]],
    }


def test_a_missing_file_or_another_kind_is_one_line(tmp_path):
    with pytest.raises(UnetlabError, match="cannot read the SEG codes"):
        read_seg_codes(tmp_path / "none.csv")
    with pytest.raises(UnetlabError, match="read from a .csv or a .yaml file, not '.txt'"):
        read_seg_codes(_codes(tmp_path, CSV, "codes.txt"))


def test_a_class_the_model_has_not_is_refused_before_any_work(tmp_path):
    series = _series(tmp_path)
    codes = _codes(tmp_path, CSV.replace("liver,", "livre,"))
    said = r"codes.csv: 'livre' is none of the model's segments \(liver, tumour\)"
    out = tmp_path / "out"
    with pytest.raises(UnetlabError, match=said):
        predict_folder(_net(), series, out, output_format="dicom-seg", seg_codes=codes)
    with pytest.raises(UnetlabError, match=said):
        predict_file(_net(), series, out, output_format="dicom-seg", seg_codes=codes)
    assert not list(out.glob("*"))


def test_codes_without_a_seg_are_refused_in_the_caller_s_words(tmp_path):
    said = "seg_codes code the segments of a DICOM SEG: add output_format='dicom-seg', or drop"
    with pytest.raises(UnetlabError, match=said) as caught:
        predict_folder(_net(), tmp_path, tmp_path / "out", seg_codes=_codes(tmp_path, CSV))
    assert caught.value.cli == (
        "--seg-codes code the segments of a DICOM SEG: add --output-format dicom-seg, or drop "
        "--seg-codes"
    )


def test_skip_existing_writes_again_a_seg_coded_otherwise(tmp_path):
    """The codes are in the record: a SEG of generic codes is not kept as finished."""
    series, out = _series(tmp_path), tmp_path / "out"
    assert not predict_folder(_net(), series, out, output_format="dicom-seg").failed
    codes = _codes(tmp_path, CSV)
    again = dict(output_format="dicom-seg", seg_codes=codes, skip_existing=True, overwrite=True)
    assert not predict_folder(_net(), series, out, **again).failed
    liver = hd.seg.segread(out / f"{series.name}.seg.dcm").SegmentSequence[0]
    assert _coded(liver) == (ANATOMY, LIVER)


def test_codes_changed_are_named_by_their_flag_as_one_setting(tmp_path, caplog):
    """A folder's SEG predicted again with other codes, or none: the line names
    --seg-codes and the classes coded otherwise (s75 review: each class was named as a flag
    of its own, "--liver [[...]] there, [...] here"; without codes "seg_codes given
    there")."""
    import logging

    from unetlab.errors import command_spelling

    series, out = _series(tmp_path), tmp_path / "out"
    kind = dict(output_format="dicom-seg", progress=False)
    other = CSV.replace("Liver", "Liver structure")
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        predict_folder(_net(), series, out, seg_codes=_codes(tmp_path, CSV), **kind)
        predict_folder(_net(), series, out, seg_codes=_codes(tmp_path, other, "o.csv"), **kind)
        predict_folder(_net(), series, out, **kind)
    lines = [m for m in caplog.messages if "made with other output settings" in m]
    assert [line.split("settings ")[1] for line in lines] == [
        "(--seg-codes: other codes for liver): predicted again, replacing them",
        "(--seg-codes given there, not given here): predicted again, replacing them",
    ]

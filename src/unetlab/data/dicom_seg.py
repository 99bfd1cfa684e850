"""Write the labels of a DICOM series as a DICOM Segmentation object (SEG), which a PACS
stores beside the series and OHIF and 3D Slicer's DICOM browser load over it, with
highdicom (an optional extra: ``pip install 'unetlab[dicom]'``).

One binary SEG a series: a segment per foreground class, labelled with the class's name,
its SegmentedPropertyCategory and SegmentedPropertyType those ``--seg-codes`` gives it
(:mod:`unetlab.data.seg_codes`), else the generic SNOMED CT code 85756007 "Tissue" (3D
Slicer's for a segment it knows nothing of; a user maps names to codes later, in Slicer's
Segment Editor), algorithm type AUTOMATIC, identified as unetlab
of this version, family "Artificial Intelligence" (DCM 123110 of CID 7162). Its frames
reference the series' slices by SOP Instance UID in the series' slice order; it joins the
series' study and patient in a new series. A class no voxel holds is still a segment (a
viewer lists every class of the model), with no frame: highdicom leaves empty frames out
(but where no voxel is of any segment: a SEG holds one frame at least, so every slice's,
empty, said in one line).
DICOM standard, A.51 (https://dicom.nema.org/medical/dicom/current/output/chtml/part03/
sect_A.51.html).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.dicom import DicomSeries, series_header
from unetlab.data.read_notes import note_once
from unetlab.data.seg_codes import SegCodes
from unetlab.errors import ImageReadError, UnetlabError

#: the output format that writes a series' SEG (``--output-format dicom-seg``)
DICOM_SEG = "dicom-seg"
#: the ending of a series' SEG, after the series' folder name
SEG_ENDING = ".seg.dcm"
#: the line a user reads where highdicom is not installed
NEEDS_HIGHDICOM = "writing a DICOM SEG needs highdicom: pip install 'unetlab[dicom]'"
#: what every segment is said to be: (value, scheme, meaning), SNOMED CT "Tissue"
GENERIC = ("85756007", "SCT", "Tissue")
#: who made it (ContentCreatorName, Manufacturer, the algorithm's name)
CREATOR = "unetlab"
#: the patient and study attributes highdicom copies from the slices, of DICOM type 2 (may
#: be empty): a converter's or anonymiser's series that lacks one gets it empty
TYPE_2 = (
    *("PatientID", "PatientName", "PatientBirthDate", "PatientSex"),
    *("StudyID", "StudyDate", "StudyTime", "ReferringPhysicianName", "AccessionNumber"),
)
#: the SEG's SeriesNumber: the series' own plus this, so that a viewer lists it after it
SERIES_OFFSET = 1000


def highdicom_for(where: str | os.PathLike):
    """The highdicom module; UnetlabError naming ``where`` and the extra to install where it
    is not installed (asked before any work: s73, the line came once an input, each
    predicted for nothing, through predict's failed list)."""
    try:
        import highdicom
    except ImportError as exc:
        raise UnetlabError(f"{where}: {NEEDS_HIGHDICOM}") from exc
    return highdicom


def write_seg(
    path: str | os.PathLike,
    labels: np.ndarray,
    series: str | os.PathLike,
    *,
    classes: Sequence[str],
    background: int | None = 0,
    codes: SegCodes | None = None,
) -> Path:
    """Write ``labels`` (Z, Y, X) class indices of the DICOM series in the folder ``series``
    (its slices in :func:`~unetlab.data.dicom.series_header`'s order) as a binary DICOM SEG
    ``path``, atomically: one segment per class of ``classes`` (their names) but
    ``background`` (None: every class a segment), coded as ``codes`` give (a class they
    leave out, or none given: :data:`GENERIC`). Returns ``path``."""
    hd, path = highdicom_for(path), Path(path)
    head = series_header(series)
    if labels.shape != head.shape:
        raise ValueError(f"labels of shape {labels.shape} for a series of {head.shape}")
    sources = _sources(head)
    kept = [k for k in range(len(classes)) if k != background]
    segments = [_segment(hd, i + 1, str(classes[k]), codes) for i, k in enumerate(kept)]
    first = sources[0]
    number = first.get("SeriesNumber")
    with _quiet():
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=_said_if_empty(segment_numbers(labels, len(classes), kept), head),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=segments,
            series_instance_uid=hd.UID(),
            series_number=SERIES_OFFSET + (int(number) if number not in (None, "") else 0),
            sop_instance_uid=hd.UID(),
            instance_number=1,
            content_creator_name=CREATOR,
            **_device(),
            series_description=f"{CREATOR} {head.name}"[:64],
        )
    with atomic_path(path) as tmp:
        seg.save_as(tmp)
    return path


def segment_numbers(labels: np.ndarray, count: int, kept: Sequence[int]) -> np.ndarray:
    """``labels`` (class indices below ``count``) as the segment numbers a SEG's label map
    holds: class ``kept[i]`` segment i + 1, any other 0 (none); ``labels`` itself where
    that is what it holds (s73 review: a mask a segment, stacked and copied, took 11.9 s
    and 2.3 GB for 300 slices of 512 x 512 and 10 classes)."""
    table = np.zeros(count, np.uint8 if len(kept) < 256 else np.uint16)
    table[list(kept)] = np.arange(1, len(kept) + 1)
    if labels.dtype == table.dtype and np.array_equal(table, np.arange(count)):
        return labels
    return table[labels]


#: the line for a series where no voxel is of a class but the background
EMPTY = (
    "{series}: no voxel of any class but the background: its SEG holds every slice's frame, "
    "empty (a SEG holds one frame at least)"
)


def _said_if_empty(numbers: np.ndarray, head: DicomSeries) -> np.ndarray:
    """``numbers`` (segment numbers), :data:`EMPTY` said where they are all 0 (s73 review:
    highdicom's 'Encoding an empty image with "omit_empty_frames"...' said it instead)."""
    if not numbers.any():
        note_once(EMPTY.format(series=head.folder))
    return numbers


@contextlib.contextmanager
def _quiet():
    """highdicom's warning that "unetlab" is no person's name, and its INFO and WARNING
    lines (13 a SEG, 'copy attributes of module "Patient"': s73, they filled predict's
    output between its own lines; one of an empty SEG, said as :data:`EMPTY`), kept off a
    user's screen and log."""
    logger = logging.getLogger("highdicom")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*intended person name")
            yield
    finally:
        logger.setLevel(level)


def _version() -> str:
    from unetlab import __version__

    return __version__


def _device() -> dict[str, str]:
    """The equipment the SEG names: unetlab of this version."""
    version = _version()
    return dict(
        manufacturer=CREATOR,
        manufacturer_model_name=CREATOR,
        software_versions=version,
        device_serial_number=version,
    )


def _sources(head) -> list:
    """The headers of the series' slices, in its slice order, the type 2 attributes a
    slice lacks set empty."""
    import pydicom

    refuse_unreferenced(head)
    sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in head.files]
    for ds in sources:
        for key in TYPE_2:
            if key not in ds:
                setattr(ds, key, None)
    return sources


def unreferenced(series: str | os.PathLike | DicomSeries) -> tuple[Path, tuple[str, ...]] | None:
    """The first slice of ``series`` (its folder, or its header) lacking a UID a SEG refers
    to it by or is placed by (:data:`~unetlab.data.dicom.REFERENCED_BY`), and those it
    lacks; None where none lacks one, or the folder's headers cannot be read (left to its
    prediction, which says why). The header is read once (kept for the prediction)."""
    if not isinstance(series, DicomSeries):
        try:
            series = series_header(series)
        except ImageReadError:
            return None
    return series.unreferenced


def unreferenced_line(lacking: tuple[Path, tuple[str, ...]]) -> str:
    """``CT_2/IM0003: a slice without FrameOfReferenceUID, by which a DICOM SEG refers to
    its series and is placed on it`` (``lacking``: :func:`unreferenced`'s)."""
    where, keys = lacking
    return (
        f"{where}: a slice without {', '.join(keys)}, by which a DICOM SEG refers to its "
        "series and is placed on it"
    )


def refuse_unreferenced(series: str | os.PathLike | DicomSeries) -> None:
    """ImageReadError, one line, where a slice of ``series`` (its folder, or its header)
    lacks a UID a SEG refers to it by (:func:`unreferenced`; s73 review: found with the
    prediction done, a traceback for a StudyInstanceUID)."""
    if (lacking := unreferenced(series)) is None:
        return
    raise ImageReadError(
        f"{unreferenced_line(lacking)}: export the series again from the PACS (or write the "
        "NIfTI labels alone: drop --output-format dicom-seg)"
    )


def _segment(hd, number: int, name: str, given: SegCodes | None):
    """The description of segment ``number``, the class ``name``: the category and type
    ``given`` codes it (none: :data:`GENERIC`'s), made by unetlab's net."""
    from pydicom.sr.codedict import codes

    coded, generic = given.of(name) if given is not None else None, hd.sr.CodedConcept(*GENERIC)
    category, kind = (
        (generic, generic)
        if coded is None
        else (hd.sr.CodedConcept(c.code, c.scheme, c.meaning) for c in coded)
    )
    made_by = hd.AlgorithmIdentificationSequence(
        name=CREATOR, version=_version(), family=codes.cid7162.ArtificialIntelligence
    )
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=name[:64],
        segmented_property_category=category,
        segmented_property_type=kind,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=made_by,
    )

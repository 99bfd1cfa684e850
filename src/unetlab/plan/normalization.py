"""How the images are scaled: percentiles, the training set's statistics or per image."""

from __future__ import annotations

import numpy as np

from unetlab.data.appearance import MICROSCOPY_CHANNELS
from unetlab.data.decathlon import DATASET_JSON, said_modalities
from unetlab.data.dicom import is_dicom_series, series_header
from unetlab.data.fingerprint import Fingerprint, PairFacts
from unetlab.data.nifti import is_nifti
from unetlab.errors import said_as, set_to
from unetlab.plan.record import Choice

#: the percentiles the plan picks; pixels at a channel's ceiling (the dtype's maximum: a
#: detector's saturation, an SEM's burned-in data bar text; or, ``camera_ceiling``, a 12-bit
#: camera's 4095 in a 16-bit file: :mod:`unetlab.data.ceiling`) carry no intensity and are
#: left out of them (:func:`unetlab.data.normalize.percentile_stats`; audit s31 grains 1)
PERCENTILE_SPEC = {
    "mode": "percentile",
    "low": 1.0,
    "high": 99.8,
    "ignore_saturated": True,
    "camera_ceiling": True,
}


#: calibrated bands: each band's 99.5th percentile within this factor in every image (a
#: reflectance scale shared by the files, where a camera's exposure or a stain's strength
#: would move it)
RANGES_AGREE = 2.0

#: the plan's normalisation of bright-field colour (H&E, IHC): per image, over the tissue
TISSUE_SPEC = {"mode": "per_image", "tissue": True}


def plan_normalization(fp: Fingerprint) -> Choice:
    """Percentiles for 16-bit or fluorescence-like images (dark background: the median in the
    lowest fifth of the 0.5-99.5 percentile range); for 8-bit colour bright-field images
    (:func:`bright_field`: H&E, IHC) per-image standardisation over the tissue only
    (``TISSUE_SPEC``: glass left out, so that a whole slide, mostly glass, is scaled as its
    tissue crops were: per-image statistics of all of a slide's pixels gave F1 0.80 on a slide
    region against 0.94 for the same pixels alone). With it (and ``augment.stain``) synthetic
    H&E kept mIoU 0.80 / 0.81 / 0.80 on test tiles of its own stain and two others, where the
    training set's fixed statistics, the plan's choice until s32, gave 0.80 / 0.25 / 0.32
    (audit s32 histo 3; 15-epoch runs, bench figures in the s32 stainfix report); else (grey EM and bright-field, colour
    photographs) per-image standardisation, steadier under the lighting of photographs
    (synthetic road scenes: held-out mIoU 0.77 per image, 0.72 with fixed statistics).
    Multispectral scenes (more than ``MICROSCOPY_CHANNELS`` bands) that look calibrated
    (:func:`calibrated`) get the training set's per-band statistics (``dataset``), so that
    a tile of one class keeps its absolute reflectance: on synthetic 13-band uint16 scenes
    (36 test tiles of 64 px, depth 3 base 8, s38 bands2) against per-image percentiles:
    15 epochs, seeds 0-2, mIoU 0.529 -> 0.587, 0.408 -> 0.407, 0.580 -> 0.591; 60 epochs,
    seeds 0-1, 0.895 -> 0.928, 0.918 -> 0.915; the worst tile better in all five (0.533 ->
    0.705 at 60 epochs, seed 0): a small gain on average, no clear loss.
    CT (:func:`computed_tomography`: dataset.json says so, or the images are Hounsfield
    units) gets nnU-Net's CT normalisation (``CT_SPEC``): on a synthetic abdominal CT set
    (bench/README.md, session 71; 60 epochs, seeds 0-1) the organ's validation IoU 0.858 and
    0.808 against 0.199 and 0.177 for each slice's percentiles, mIoU 0.928 / 0.903 against
    0.586 / 0.577.
    Checkpoints record their normalisation, so older models keep theirs. CT's line names the
    setting that gives the choice for other images instead (s71 review: undoing it by its mode
    alone lost the percentiles' ignore_saturated and camera_ceiling)."""
    other = _not_ct(fp)
    if why := computed_tomography(fp):
        back = said_as(set_to("data.normalization", other.value))
        mode = other.value["mode"]
        why = f"{why}; if they are not CT, {back} gives the plan's choice for others ({mode})"
        return Choice("data.normalization", dict(CT_SPEC), why)
    return other


def _not_ct(fp: Fingerprint) -> Choice:
    """The normalisation :func:`plan_normalization` chooses for images that are not CT."""
    if why := calibrated(fp):
        return Choice("data.normalization", {"mode": "dataset"}, why)
    deep, dark = _deep_images(fp), _dark_images(fp)
    if deep:
        return Choice(
            "data.normalization",
            dict(PERCENTILE_SPEC),
            f"{len(deep)} of {len(fp.pairs)} images are {deep[0].dtype}: each image's "
            f"1st-99.8th percentiles to 0-1{_by_channel(fp)} (saturated pixels left out)",
        )
    if len(dark) > len(fp.pairs) / 2:
        return Choice(
            "data.normalization",
            dict(PERCENTILE_SPEC),
            f"fluorescence-like: {len(dark)} of {len(fp.pairs)} images are mostly dark "
            f"background{_by_channel(fp)}",
        )
    return _per_image(fp)


#: the plan's normalisation of CT: nnU-Net's (clipped to the 0.5-99.5 percentiles of the
#: training set's foreground, standardised with its mean and std: ``ct``)
CT_SPEC = {"mode": "ct", "low": 0.5, "high": 99.5}
#: Hounsfield units: air is -1000 HU, and scanners fill outside their field of view with
#: -1024 or less; signed images whose 0.5th percentile is at most this reach it
HU_AIR = -900
#: Hounsfield units as scanners store them: the 0.5th percentile no lower than ``HU_LEAST``
#: (the -3024 fill of some scanners) and the 99.5th no higher than ``HU_TOP`` (dense bone,
#: contrast and a 12-bit scanner's 3071 top); a signed tomogram or difference image spans
#: far wider (-30235 to 30000: s71 review)
HU_LEAST, HU_TOP = -3100, 4100


def computed_tomography(fp: Fingerprint) -> str:
    """The plan line where ``fp``'s images are CT: the data set's dataset.json names every
    channel CT (or every image is a DICOM series whose Modality is CT:
    :func:`stated_modalities`), or more than half of them are NIfTI volumes (medical: a
    microscope's signed TIFF or MRC tomogram is no CT, s71 review) of one signed or float
    channel in Hounsfield units (:func:`_hounsfield`); "" otherwise."""
    how = (
        "clipped to the 0.5-99.5 percentiles of the training set's foreground (labelled "
        "pixels), then standardised with its mean and std, the same for every image (nnU-Net's "
        "CT normalisation: a Hounsfield unit means one tissue on every slice)"
    )
    if not fp.pairs:
        return ""
    said, where = stated_modalities(fp.pairs)
    if said and all(m.upper() == "CT" for m in said):
        return f"CT ({where} says so): {how}"
    hu = [p for p in fp.pairs if _hounsfield(p)]
    if said or len(hu) <= len(fp.pairs) / 2:  # said another modality (MR): not CT
        return ""
    low, high = min(p.low[0] for p in hu), max(p.high[0] for p in hu)
    return (
        f"CT-like: {len(hu)} of {len(fp.pairs)} images are {_format(hu[0].image)} "
        f"{hu[0].dtype} of "
        f"{low:.0f} to {high:.0f} (Hounsfield units, from air): {how}"
    )


#: where a data set of DICOM series states its modality (:func:`stated_modalities`)
SERIES_MODALITY = "each DICOM series' Modality"
#: the Modality (0008,0060) values of series that are no CT, whatever their range: MR,
#: PET (its SUV or Bq/ml no HU), nuclear medicine, ultrasound. Others (OT "other", which
#: ITK and SimpleITK write; SC, secondary capture) state nothing: the HU range judges
NOT_CT = ("MR", "PT", "NM", "US")


def stated_modalities(pairs) -> tuple[list[str], str]:
    """The modalities the data set of ``pairs`` states, and where: its ``dataset.json``'s
    channels, else, where every image is a DICOM series, the Modality (0008,0060) each
    series' header gives (s72's notes: a series' ``Modality: CT`` was no statement of CT,
    its HU range alone judged) where every series says CT or one says :data:`NOT_CT`;
    ([], "") where none is stated (s73 review: an OT series was taken as no CT)."""
    if said := said_modalities(pairs[0].image):
        return said, DATASET_JSON
    if not all(is_dicom_series(p.image) for p in pairs):
        return [], ""
    said = {series_header(p.image).modality.upper() for p in pairs}
    if said == {"CT"} or said & set(NOT_CT):
        return sorted(said), SERIES_MODALITY
    return [], ""


def _format(image) -> str:
    return "DICOM" if is_dicom_series(image) else "NIfTI"


def _hounsfield(p: PairFacts) -> bool:
    """Whether the image of ``p`` looks like CT
    in Hounsfield units: a NIfTI volume's, one channel whose 0.5th percentile reaches air
    (``HU_AIR``, so signed or float) within ``HU_LEAST`` and whose 99.5th is at most
    ``HU_TOP``."""
    if p.channels != 1 or not (is_nifti(p.image) or is_dicom_series(p.image)):
        return False
    return HU_LEAST <= p.low[0] <= HU_AIR and p.high[0] <= HU_TOP


def calibrated(fp: Fingerprint) -> str:
    """The plan line where ``fp``'s images look like calibrated multispectral bands: more
    than ``MICROSCOPY_CHANNELS`` channels, of one dtype, and each band's 99.5th percentile
    within ``RANGES_AGREE`` in every image (float reflectance or integer scaled reflectance
    alike); "" otherwise."""
    if not fp.pairs or min(p.channels for p in fp.pairs) <= MICROSCOPY_CHANNELS:
        return ""
    if len({p.dtype for p in fp.pairs}) > 1:
        return ""
    highs = np.array([p.high for p in fp.pairs], dtype=np.float64)
    if highs.ndim != 2:
        return ""
    top, least = highs.max(0), highs.min(0)
    if not ((top == 0) | (least > 0) & (top <= RANGES_AGREE * least)).all():  # 0: a zeroed band
        return ""
    return (
        f"{_channels(fp)}-band {fp.pairs[0].dtype} images whose bands span alike in every "
        "image (calibrated, as reflectance is): each band's mean and std over the training "
        "images, the same for every image, so a tile of one class keeps its absolute values"
    )


def _per_image(fp: Fingerprint) -> Choice:
    """Per-image standardisation: over the tissue alone for bright-field colour, else over
    all pixels (colour photographs, grey EM and bright-field)."""
    colour = all(p.channels == 3 for p in fp.pairs)
    bright = bright_field(fp)
    if colour and len(bright) > len(fp.pairs) / 2:
        why = (
            f"bright-field colour: {len(bright)} of {len(fp.pairs)} 8-bit colour images are "
            "bright on a near-white background: per-image standardisation over the tissue "
            "(glass left out), so that another stain batch's colours are standardised away and "
            "a slide, mostly glass, is scaled as its crops were"
        )
        return Choice("data.normalization", dict(TISSUE_SPEC), why)
    if colour:
        kind = "colour images, not mostly dark, not bright-field"
    elif all(p.channels == 1 for p in fp.pairs):
        kind = "grey levels fill the range (EM, bright-field)"
    else:  # a float multispectral or hyperspectral stack was called grey EM (audit s37 bands)
        kind = f"{_channels(fp)}-channel images, not mostly dark"
    return Choice(
        "data.normalization",
        {"mode": "per_image"},
        f"{kind}: per-image standardisation{_by_channel(fp)}",
    )


def _channels(fp: Fingerprint) -> str:
    """The images' channel count, or counts ("4/13"), as a plan line names them."""
    return "/".join(str(c) for c in sorted({p.channels for p in fp.pairs}))


def _by_channel(fp: Fingerprint) -> str:
    """The words ", each of the N channels on its own" for multi-channel images (the statistics are
    per channel: a 13-band scene's bands of different ranges are each scaled by their own),
    else ""."""
    if all(p.channels == 1 for p in fp.pairs):
        return ""
    return f", each of the {_channels(fp)} channels on its own"


def _deep_images(fp: Fingerprint) -> list:
    """The pairs whose images are integers of 16 bits or more."""
    return [
        p for p in fp.pairs if np.dtype(p.dtype).kind in "iu" and np.dtype(p.dtype).itemsize >= 2
    ]


def _dark_images(fp: Fingerprint) -> list:
    """The pairs whose images look like fluorescence: in every channel the median lies in
    the lowest fifth of the low-high percentile range (a dark background)."""
    return [
        p
        for p in fp.pairs
        if all((m - lo) < 0.2 * (hi - lo) for lo, m, hi in zip(p.low, p.median, p.high))
    ]


#: an 8-bit bright-field image: the 99.5th percentile of every channel at least this share of
#: 255 (light through the empty glass) and the mean of the channels' medians at least
#: ``BRIGHT_MEDIAN`` of it (H&E crops 0.78, synthetic road scenes 0.40)
BRIGHT_TOP, BRIGHT_MEDIAN = 0.9, 0.6


def bright_field(fp: Fingerprint) -> list:
    """The pairs whose images look like 8-bit bright-field microscopy: a near-white
    background and mostly bright (photographs have darker medians)."""
    return [
        p
        for p in fp.pairs
        if p.dtype == "uint8"
        and min(p.high) >= BRIGHT_TOP * 255
        and float(np.mean(p.median)) >= BRIGHT_MEDIAN * 255
    ]

"""Read images and masks (PNG, JPEG, TIFF 8/16-bit, GIF, grey/RGB, multi-page) and write outputs
atomically (:func:`unetlab.atomic.atomic_path`).

Arrays are numpy, channels last: (H, W) grey or (H, W, C). Nothing here rescales values:
a uint16 TIFF comes back as uint16, a palette PNG mask as its palette indices.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import math
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

# atomic_path: imported from here by writers of every kind before unetlab.atomic held it
from unetlab.atomic import DIGESTED, atomic_path, digest_of, note_digest
from unetlab.context_values import set_within
from unetlab.data.annotations import outline_pages, rasterise, read_outlines
from unetlab.data.coco import coco_mask, coco_shape
from unetlab.data.colour_table import FIX as COLOUR_FIX
from unetlab.data.colour_table import VOID, ColourTable, find_colour_table, folder_table
from unetlab.data.czi import CZI_SUFFIXES, czi_scenes, czi_source, is_czi_name, read_czi
from unetlab.data.dicom import (
    dicom_among_images,
    is_dicom_series,
    name_less_suffix,
    onto_series,
    read_series,
    series_folders,
    series_header,
    slices_beside_image_line,
)
from unetlab.data.file_kind import wrong_kind_line
from unetlab.data.folder_notes import is_glob, is_macos_metadata, near_line
from unetlab.data.geotiff import read_geotags
from unetlab.data.grey_masks import (
    INDICES,
    KEY_FIX,
    grey_masks_reading,
    greys_of,
    index_like,
    unknown_grey_line,
)
from unetlab.data.h5 import (
    H5_SUFFIXES,
    h5_datasets_reading,
    h5_letters,
    h5_source,
    is_h5_name,
    no_image_held,
    read_h5,
)
from unetlab.data.held import held_read
from unetlab.data.labelme import named_images
from unetlab.data.mask_palettes import palette_values
from unetlab.data.mrc import (
    MRC_SUFFIXES,
    SHARED_SUFFIXES,
    is_mrc_name,
    mrc_header,
    other_format,
    read_mrc,
)
from unetlab.data.names import (
    ANNOTATION_SUFFIXES,
    OUTLINE_NAMES,
    folder_candidates,
    image_stem,
    nfc,
)
from unetlab.data.nifti import is_nifti, nifti_case, pair_line
from unetlab.data.nifti_channels import case_size, first_channels, read_case
from unetlab.data.nodata import banded_nodata
from unetlab.data.npy import NPY_SUFFIXES, is_npy_name, npy_letters, npy_shape, read_npy
from unetlab.data.orientation import (
    oriented,
    pil_orientation,
    pil_oriented,
    tiff_orientation,
    viewed_size,
)
from unetlab.data.png_depth import deep_colour, deep_pixels, grey_alpha
from unetlab.data.positions import every_position_read, position_of, reading, series_of
from unetlab.data.read_notes import note_once, note_transparent, note_turned, say_once_a_call
from unetlab.data.shapes import SHAPE_SUFFIXES, is_shapes_mask, recorded_size, shapes_mask
from unetlab.data.stated_axes import guessed_by_tifffile, planes_guessed, states_axes
from unetlab.data.tiff_codecs import undecodable_line
from unetlab.data.tiff_files import (
    HEADERS,
    TIFF_SUFFIXES,
    given_path,
    keeping_open,
    open_tiff,
    real_path,
    tiff_file,
)
from unetlab.data.tiffmeta import AXES_AS, DATA_AXES_AS, imagej_counts_line, series_axes
from unetlab.data.totalseg import is_structure_masks, read_structures, structures_shape
from unetlab.data.yolo import yolo_images
from unetlab.errors import ImageReadError, MadeAgain, Spelled, UnetlabError, first_line, said
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: the suffixes of image files, those of unetlab's image outputs among them (a folder of
#: predictions is read by them: evaluate)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: what a folder search takes (:func:`find_images`, data folders): those, GIF and WebP
#: (phones' and the web's photos), MRC (electron microscopy's), NumPy's .npy and .npz and
#: HDF5 (ilastik's, Imaris', BigDataViewer's) and Zeiss' CZI, of which predict writes only
#: --outlines cellpose's X_seg.npy, never an input (a pickle: :func:`~unetlab.data.npy.is_seg_file`),
#: so none ever stands for one of its outputs (the bioimage.io export's test_input.npy lies
#: in its package, never among predict's outputs)
INPUT_SUFFIXES = (
    *IMAGE_SUFFIXES,
    *TIFF_SUFFIXES[2:],
    ".gif",
    ".webp",
    *MRC_SUFFIXES,
    *NPY_SUFFIXES,
    *H5_SUFFIXES,
    *CZI_SUFFIXES,
)


def mask_stem(path: Path) -> str:
    """The stem a mask file pairs with its image by (in NFC): its name less its suffix, and
    of outlines (:data:`~unetlab.data.names.ANNOTATION_SUFFIXES`) less the image's suffix too
    where the name keeps it: ``X.tif.geojson``, ``X.tif.zip`` and ``X.tif.roi`` are ``X``'s, as
    QuPath scripts name an export (the project entry's image name + ``.geojson``) and Fiji
    macros a RoiSet (the image's title + ``.zip``); they paired with no image."""
    if is_nifti(path):  # x.nii.gz, x_0000.nii.gz: x, as predict names their labels
        return nfc(nifti_case(path))
    stem = nfc(name_less_suffix(path))  # a series folder named by its UID: its whole name
    kept = Path(stem).suffix
    if Path(path).suffix.lower() in ANNOTATION_SUFFIXES and kept.lower() in INPUT_SUFFIXES:
        return stem[: -len(kept)]
    return stem


#: a folder of images that holds DICOM files too (s72 review: read as a series, the PNGs lost)
DICOM_AMONG = (
    "{folder}/: DICOM files among its images ({files}), passed over: a DICOM series is read "
    "from a folder of its own, its slice files only ({folder}/<series>/)"
)


def find_images(
    paths: str | os.PathLike | list, suffixes=INPUT_SUFFIXES, *, cases: bool = True
) -> list[Path]:
    """Expand files, folders (non-recursive) and glob patterns into a sorted list of images
    (a folder's and a pattern's files with ``suffixes``, macOS metadata twins ``._*`` passed
    over; a named file whatever its suffix). ``cases``: nnU-Net's cases of several channel
    files stand for their first (:func:`~unetlab.data.nifti_channels.first_channels`); a
    listing of masks (label volumes have no channels) is taken as it is."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += _folder_images(p, suffixes)
        elif p.exists():
            found.append(p)
        elif is_glob(p):  # no file or folder, said just now
            matches = sorted(Path(m) for m in _glob(str(p)))
            found += [m for m in matches if listed_image(m, suffixes)]
        else:
            raise ImageReadError(f"{p}: no such file or folder{near_line(p)}")
    return first_channels(found) if cases else found


def _folder_images(folder: Path, suffixes) -> list[Path]:
    """The images of ``folder`` (its files of ``suffixes``; where it holds none, its DICOM
    series folders), or itself where it is a DICOM series (one volume)."""
    if is_dicom_series(folder):
        return [folder]
    found = sorted(f for f in folder.iterdir() if listed_image(f, suffixes))
    found += series_folders(folder)
    if dicom := dicom_among_images(folder):
        note_once(DICOM_AMONG.format(folder=folder, files=", ".join(dicom)))
    if mixed := slices_beside_image_line(folder):  # not series: s73 review
        note_once(mixed)
    if broken := broken_links(folder, suffixes):
        log.warning("%s/: %s: skipped", folder, describe_links(broken))
    return found


#: whether a folder search says the HDF5 files holding no image it passes over: not where
#: a folder is only looked at (:func:`passed_over_unsaid`)
_SAY_PASSED: ContextVar[bool] = ContextVar("unetlab_say_passed_over", default=True)


def passed_over_unsaid() -> contextlib.AbstractContextManager[None]:
    """Within: the HDF5 files holding no image a folder search passes over are not said (a
    data set's parent folder looked at for its layout: s74, the line named a Keras model in
    a folder beside the data set, which no command read)."""
    return set_within(_SAY_PASSED, False)


def listed_image(path: Path, suffixes=INPUT_SUFFIXES, *, nifti: bool = True) -> bool:
    """Whether a folder search takes ``path``: an image file of ``suffixes`` or a NIfTI
    volume (where ``nifti``: a pairing of other layouts takes none), not a macOS metadata
    twin, nor a file of another format named as MRC files may be
    (:func:`~unetlab.data.mrc.other_format`: an OziExplorer ``a.map`` beside ``a.png``)."""
    suffix = path.suffix.lower()
    listed = suffix in suffixes or (nifti and is_nifti(path))
    if not listed or not path.is_file() or is_macos_metadata(path):
        return False
    if suffix in SHAPE_SUFFIXES:  # by what it holds: labelme's, YOLO's; not COCO's
        return is_shapes_mask(path)
    if suffix in H5_SUFFIXES and (held := no_image_held(path)):
        if _SAY_PASSED.get():
            note_once(f"{path}: {held}: passed over")
        return False
    return suffix not in SHARED_SUFFIXES or not other_format(path)  # no header read else


def broken_links(folder: Path, suffixes=INPUT_SUFFIXES) -> list[Path]:
    """The symbolic links of ``folder`` with an image's suffix whose target is missing."""
    return sorted(
        f
        for f in folder.iterdir()
        if f.suffix.lower() in suffixes and f.is_symlink() and not f.exists()
    )


def describe_links(links: list[Path]) -> str:
    """``3 broken links whose file is gone: a.png -> /gone/a.png, b.png -> ... and 1 more``
    (two named; one: ``1 broken link``)."""
    named = ", ".join(f"{f.name} -> {os.readlink(f)}" for f in links[:2])
    more = f" and {len(links) - 2} more" if len(links) > 2 else ""
    return f"{numbered(len(links), 'broken link')} whose file is gone: {named}{more}"


def _glob(pattern: str) -> list[str]:
    import glob

    return glob.glob(pattern, recursive=True)


def _from_pil(im: Image.Image, *, mask: bool) -> np.ndarray:
    if mask and im.mode == "P":
        return np.asarray(im)  # palette indices are the class labels
    if im.mode == "1":
        return np.asarray(im, dtype=np.uint8) * 255 if not mask else np.asarray(im, dtype=np.uint8)
    if im.mode in ("P", "PA") and grey_palette(im):
        im = im.convert("L")  # exact: L = (19595 R + 38470 G + 7471 B) / 65536, R = G = B
    elif im.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode == "LA":
        im = im.convert("L")
    elif im.mode == "RGBA":
        im = im.convert("RGB")
    elif im.mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    return np.asarray(im)


def grey_palette(im: Image.Image) -> bool:
    """True for a palette image whose palette is grey (R = G = B in every entry): a grey
    picture (what Pillow writes for a grey GIF), read as (H, W), not as RGB."""
    palette = np.asarray(im.getpalette() or [], np.uint8).reshape(-1, 3)
    return bool(len(palette)) and bool((palette == palette[:, :1]).all())


def _file_path(path) -> Path:
    """``path`` as a Path; anything else refused in one line (pathlib's TypeError before,
    audit s42 api: an array given to read_image)."""
    if isinstance(path, (str, os.PathLike)):
        return Path(path)
    already = ": an array is an image already" if isinstance(path, np.ndarray) else ""
    raise ImageReadError(f"expected an image file's path, not {type(path).__name__}{already}")


def _not_file(path: Path) -> str:
    """Why ``path``, which is no file, cannot be read."""
    if path.is_dir():  # it said "no such file" (s42 api)
        return "is a folder: give one image file in it (predict_folder takes folders)"
    return "no such file"


def read_stack(
    path: str | os.PathLike,
    *,
    mask: bool = False,
    colour_planes: bool = False,
    axes: str | None = None,
    frames: bool = False,
    colours: ColourTable | None = None,
    channels: tuple[int, ...] | None = None,
) -> np.ndarray:
    """All pages of an image file as (P, H, W) or (P, H, W, C); P = 1 for PNG/JPEG and a
    ``mask`` drawn as outlines (ImageJ ROIs, GeoJSON: its object ids, :func:`outlined_mask`).

    A colour (RGB) ``mask`` is read through the colour table beside it
    (:func:`~unetlab.data.colour_table.find_colour_table`), else ``colours`` (a checkpoint's
    or predictions': :func:`~unetlab.data.colour_table.palette_table`; a grey one (R = G =
    B) with a grey not in them by its grey values); with neither, a grey one is read as its
    grey values and others are refused (beside a table too where ``data.grey_masks`` is
    indices: :mod:`unetlab.data.grey_masks`).

    An animated GIF or PNG (APNG) is refused (:func:`refuse_frames`: Pillow alone would
    give its first frame, the others lost unsaid); ``frames`` (prediction): its frames are
    the pages, a time series (:func:`frame_timing`).

    Pictures are turned as their orientation tag says (EXIF, TIFF tag 274: a phone's portrait
    photo), as viewers and annotation tools show them (:mod:`unetlab.data.orientation`);
    each turned file is noted (:mod:`unetlab.data.read_notes`).

    A TIFF's axes are read as :func:`tiff_layout` names them (pages or channels;
    ``colour_planes``: the planes of a planar RGB(A) TIFF without axes metadata are one
    colour image, for a colour model, not pages), or as ``axes`` says (a TIFF's, for a
    file that records none or the wrong ones: :func:`given_letters`); ``channels``: those
    alone, in this order, of a TIFF of :func:`channel_pages` read with its own axes (s71). A
    ``mask`` folder of one file per object (a DSB sample's ``masks/``) is one instance map
    (:func:`unetlab.data.dsb.read_object_masks`); so is a COCO file's (:func:`_object_masks`)."""
    path = _file_path(path)
    if mask and (objects := _object_masks(path)) is not None:
        return objects
    if not path.is_file() and not is_dicom_series(path):
        raise ImageReadError(f"{path}: {_not_file(path)}")
    if mask and (drawn := _drawn_mask(path)) is not None:
        return drawn
    if axes is not None and not takes_axes(path):
        raise untiffed_error(path)
    how = dict(mask=mask, colour_planes=colour_planes, axes=axes, frames=frames, channels=channels)
    read = lambda: _read_file(path, colours=colours, **how)  # noqa: E731
    if colours is not None:  # a checkpoint's table: not one a data set's reads share
        return read()
    modes = grey_masks_reading(), h5_datasets_reading(), position_of(path), every_position_read()
    return held_read(path, (*how.values(), *modes), read)  # train: the plan's read, then the load's


def _drawn_mask(path: Path) -> np.ndarray | None:
    """The (P, H, W) mask of a mask file drawn as outlines (object ids) or as labelled shapes
    (labelme's JSON, YOLO's labels: classes, :mod:`unetlab.data.shapes`), else None."""
    if path.suffix.lower() in ANNOTATION_SUFFIXES:
        return outlined_mask(path)
    if not is_shapes_mask(path):
        return None
    image, size = shapes_image(path)
    return shapes_mask(path, image, size)[None]


def shapes_image(path: Path) -> tuple[Path | None, tuple[int, int]]:
    """(the image, its (H, W)) a mask drawn as labelled shapes is drawn on
    (:func:`outlined_image`); where none is found, (None, the size a labelme JSON records:
    ``imageHeight``, ``imageWidth``: ground truth scored without its images), else the
    ImageReadError saying so. A labelme file predict wrote is drawn on the image its
    imagePath names (:func:`~unetlab.data.labelme.named_images`)."""
    try:
        image = named_images([path], INPUT_SUFFIXES).get(path) or outlined_image(path)
    except ImageReadError as exc:
        if (size := recorded_size(path)) is None:
            raise ImageReadError(_unsized_line(path)) from exc
        return None, size
    return image, stack_shape(image)[1:]


def _unsized_line(path: Path) -> str:
    """The refusal of a mask drawn as labelled shapes with no image found and no size: a
    labelme file recording none (``imageHeight``, ``imageWidth``), a YOLO label file
    (normalised: it never records one)."""
    stem = mask_stem(path)
    if path.suffix.lower() == ".json":
        what, fix = "a labelme file that records no image size", "; or open it in labelme "
        fix += "with its image and save it again (labelme records the size)"
    else:
        what, fix = "a YOLO label file (its points are fractions of the image's size)", ""
    return (
        f"{path}: {what}, and no image of its name is found: put it beside its image "
        f"({stem}.jpg for {path.name}), or in the masks/ or labels/ folder beside images/ "
        f"holding its image{fix}"
    )


def _read_file(path: Path, *, mask, colour_planes, axes, frames, colours, channels) -> np.ndarray:
    """:func:`read_stack` of an image file (not a folder of object masks nor outlines)."""
    if channels is not None and (axes is not None or path.suffix.lower() not in TIFF_SUFFIXES):
        raise UnetlabError(
            f"{path}: read_stack's channels= reads the channel pages of a TIFF read with its "
            "own axes: leave channels= out (every channel is read) and take them from that"
        )
    if is_nifti(path):  # a CT or MRI volume (an nnU-Net case's channel files): axial slices
        return onto_series(path, read_case(path, mask=True)) if mask else read_case(path)
    if path.is_dir():  # a DICOM series (read_stack asked): its slices by position
        return read_series(path)
    how = dict(colour_planes=colour_planes, frames=frames, note=not mask, channels=channels)
    if is_npy_name(path):
        arr, letters = _npy(path, mask, colour_planes, given=axes is not None)
    elif is_h5_name(path):  # ilastik's, Imaris', BigDataViewer's: axes of their own
        arr, letters = read_h5(path, mask=mask)
    elif is_czi_name(path):  # Zeiss': channels, time points and z planes of its own
        arr, letters = read_czi(path)
    else:
        arr, letters = _decode(path, **how)
    if axes is not None:
        letters = given_letters(axes, arr.shape, path)
    if letters is not None and arr.size == 0:
        raise ImageReadError(f"{path}: holds no pixels (shape {arr.shape})")
    return _shaped(_pages(path, arr, letters, mask=mask), path, mask=mask, colours=colours)


def _npy(path: Path, mask: bool, colour_planes: bool, given: bool) -> tuple[np.ndarray, str]:
    """A NumPy file's array (:func:`~unetlab.data.npy.read_npy`; its axes ``given``) and its
    axes as a bare TIFF's of that shape would read (:func:`~unetlab.data.npy.npy_letters`)."""
    arr = read_npy(path, mask=mask, given=given)
    return arr, npy_letters(arr.shape, colour_planes=colour_planes)


def _shaped(arr: np.ndarray, path: Path, *, mask: bool, colours) -> np.ndarray:
    """The pages of :func:`_pages` as :func:`read_stack` gives them: a 1-bit TIFF as 0/255
    (a mask 0/1), one channel as none, a colour mask's colours as values."""
    if arr.dtype == bool:  # a 1-bit TIFF: as Pillow's 1-bit images, 0/255 (masks 0/1)
        arr = arr.astype(np.uint8) * (1 if mask else 255)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 4 and mask:
        arr = _mask_values(arr, path, colours, grey_masks_reading())
    if arr.ndim not in (3, 4) or 0 in arr.shape:
        raise ImageReadError(f"{path}: unsupported image shape {arr.shape}")
    return arr


def _object_masks(path: Path) -> np.ndarray | None:
    """The instance map of ``path`` when it is a DSB sample's folder of one mask per object
    (:mod:`unetlab.data.dsb`), or an image's mask a COCO file draws (``file.json/a.png#classes``:
    :func:`unetlab.data.coco.coco_mask`), else None."""
    if (drawn := coco_mask(path)) is not None:
        return drawn
    if not path.is_dir():
        return None
    from unetlab.data.dsb import is_object_masks, read_object_masks  # dsb imports io

    if is_structure_masks(path):  # a TotalSegmentator case's segmentations/: one label map
        return read_structures(path)
    return read_object_masks(path) if is_object_masks(path) else None


def _pages(path: Path, decoded, letters: str | None, *, mask: bool) -> np.ndarray:
    """(P, H, W[, C]) of what :func:`_decode` gave: a TIFF's array by its ``letters``, or
    Pillow frames; of these, an image's transparent pixels are noted and a palette mask's
    colours checked against its folder's other palette masks
    (:func:`~unetlab.data.mask_palettes.check_palette`), unless a colour table beside it
    holds them all and reads them (:func:`~unetlab.data.mask_palettes.palette_values`)."""
    if letters is not None:
        return _tiff_to_pages(decoded, letters)
    if not mask:
        _note_transparency(path, decoded)
    pages = _frames_to_pages(decoded, mask=mask)
    if mask and decoded[0].mode == "P":  # by its colours where a table beside it has them all
        table = folder_table(path)  # (s66 new user: read by index, the table's row
        return palette_values(path, decoded[0].getpalette(), pages, table)  # names swapped)
    return pages


def stack_shape(
    path: str | os.PathLike,
    *,
    frames: bool = False,
    axes: str | None = None,
    axes_as: Spelled = AXES_AS,
    mask: bool = False,
) -> tuple[int, int, int]:
    """(pages, H, W) of what :func:`read_stack` gives for ``path`` (with ``frames``, and a
    TIFF's ``axes`` given: :func:`given_letters`, which spells them ``axes_as`` where they
    do not fit), from the file's header only (no pixels
    decoded): turned as its orientation tag says; of a folder of one mask per object, its
    sample's image's (:mod:`unetlab.data.dsb`); ``mask``: read as a mask (an ``.npz``'s
    masks array, not its images)."""
    return stack_size(path, frames=frames, axes=axes, axes_as=axes_as, mask=mask)[:3]


def stack_size(
    path: str | os.PathLike,
    *,
    frames: bool = False,
    axes: str | None = None,
    axes_as: Spelled = AXES_AS,
    mask: bool = False,
) -> tuple[int, int, int, int]:
    """(pages, H, W, channels): :func:`stack_shape` and the channels of each pixel (the
    samples of a colour picture; 1 of a mask drawn as outlines or of one mask per object),
    from the same header read: what reading it whole decodes (a 4,096² OME-TIFF of 24
    channels: 24 times its pixels, s69)."""
    path = Path(path)
    if (shape := coco_shape(path)) is not None:
        return (*shape, 1)
    if path.is_dir() and (shape := _folder_shape(path)) is not None:
        return (*shape, 1)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    if path.suffix.lower() in ANNOTATION_SUFFIXES:  # a mask drawn as outlines
        return outlined_pages(path), *stack_shape(outlined_image(path))[1:], 1
    if is_shapes_mask(path):  # labelme's, YOLO's: one page
        return 1, *shapes_image(path)[1], 1
    if axes is not None and not takes_axes(path):
        raise untiffed_error(path)
    if (size := _volume_size(path, axes, axes_as, mask)) is not None:
        return size
    if path.suffix.lower() not in TIFF_SUFFIXES:
        with decoding_errors(path), Image.open(path) as im:
            n = getattr(im, "n_frames", 1)
            refuse_frames(path, n, frames=frames)
            refuse_deep_frames(path, im, n)
            size = viewed_size(pil_orientation(im), im.height, im.width)
            return n, *size, len(im.getbands())

    with decoding_errors(path), open_tiff(path) as tif:
        series = series_of(tif)
        found, shape = tiff_axes(tif, series), tuple(int(n) for n in series.shape)
        turn = tiff_orientation(series.keyframe)
    letters = axes_letters(found) if axes is None else given_letters(axes, shape, path, axes_as)
    size = dict.fromkeys("PYX", 1)
    for a, n in zip(letters, shape):
        size[a] = size[a] * n if a == "P" else n
    plane = viewed_size(turn, size["Y"], size["X"])
    return size["P"], *plane, int(np.prod(shape)) // (size["P"] * size["Y"] * size["X"])


def _folder_shape(path: Path) -> tuple[int, int, int] | None:
    """(pages, H, W) of a folder read as one image: a DSB sample's masks', a TotalSegmentator
    case's segmentations', a DICOM series'."""
    from unetlab.data.dsb import object_masks_shape  # dsb imports io

    if (shape := object_masks_shape(path) or structures_shape(path)) is not None:
        return shape
    return series_header(path).shape if is_dicom_series(path) else None


def _volume_size(path: Path, axes: str | None, axes_as: Spelled, mask: bool) -> tuple | None:
    """:func:`stack_size` of a NIfTI volume, an MRC file (its sections are planes), an HDF5
    or CZI file (by its own axes: :func:`~unetlab.data.h5.h5_source`,
    :func:`~unetlab.data.czi.czi_source`) or a NumPy file (its array's shape read by its own
    axes, :func:`~unetlab.data.npy.npy_letters`, or by ``axes`` given; a ``mask``'s: an
    ``.npz``'s masks array, an HDF5 file's mask dataset), from its header; None for other
    files."""
    if is_nifti(path):
        return case_size(path)
    if is_mrc_name(path):
        return (*mrc_header(path).shape, 1)
    if is_h5_name(path):
        source = h5_source(path, mask=mask)
        shape, letters = source.shape, h5_letters(source)
    elif is_czi_name(path):
        source = czi_source(path)
        shape, letters = source.shape, source.letters
    elif is_npy_name(path):
        shape = npy_shape(path, mask=mask, given=axes is not None)
        letters = npy_letters(shape) if axes is None else given_letters(axes, shape, path, axes_as)
    else:
        return None
    size = dict(zip(letters, shape))
    pages = math.prod(n for a, n in zip(letters, shape) if a == "P")
    return pages, size["Y"], size["X"], size.get("C", 1)


def outlined_mask(path: str | os.PathLike, image: str | os.PathLike | None = None) -> np.ndarray:
    """The (P, H, W) instance-id maps of a mask drawn as outlines (``NAME.zip`` of ImageJ
    ROIs, ``NAME.roi``, ``NAME.geojson``: :mod:`unetlab.data.annotations`), of the size of
    ``image`` (None: :func:`outlined_image`, the one it belongs to; read from its header).
    One page, or where ``image`` has several and a ROI has a stack position, one per page,
    each ROI drawn on its page (:func:`~unetlab.data.annotations.outline_pages`; one of no
    position on every page, as ImageJ shows it), ids 1..n per page in file order."""
    path = Path(path)
    outlines = read_outlines(path)
    image = Path(image) if image is not None else outlined_image(path)
    pages, height, width = stack_shape(image)
    pages_of = _outline_pages(path, image, pages, outlines)
    if pages_of is None:
        return rasterise(outlines, (height, width), str(path))[None]
    on = [[o for o, p in zip(outlines, pages_of) if p in (None, page)] for page in range(pages)]
    return np.stack([rasterise(drawn, (height, width), str(path)) for drawn in on])


def outlined_pages(path: str | os.PathLike, image: str | os.PathLike | None = None) -> int:
    """The pages :func:`outlined_mask` gives for ``path`` (and ``image``)."""
    image = Path(image) if image is not None else outlined_image(Path(path))
    pages = stack_shape(image)[0]
    if pages == 1:  # the outlines not read
        return 1
    return 1 if _outline_pages(Path(path), image, pages, read_outlines(path)) is None else pages


def _outline_pages(path: Path, image: Path, pages: int, outlines) -> list[int | None] | None:
    """The page of each of ``outlines`` in the stack ``image`` of ``pages`` pages, or None
    where it has one page or no outline a stack position (the outlines then make one page)."""
    from unetlab.data.tiffmeta import read_page_axes

    if pages == 1 or not any(any(o.position) for o in outlines):
        return None
    axes = read_page_axes(image, pages)
    return outline_pages(outlines, axes.letters, axes.shape, str(path))


def outlined_image(path: Path) -> Path:
    """The image a mask drawn as outlines belongs to (outlines carry no image size): in a
    flat folder, the image beside it of its stem (``X.tif`` for ``X.zip``) or of the stem it
    names (``X_rois.zip``: :data:`~unetlab.data.names.OUTLINE_NAMES`); else the file of its
    stem in the images folder beside its folder (``images/``, ``JPEGImages/``, any letter
    case), as the data set pairs them; else an ImageReadError saying so."""
    stem = mask_stem(path)
    named = list(dict.fromkeys([nfc(path.stem), stem]))  # X.tif.zip: X.tif.png, else X.*
    stems = [*named, *([base] if (base := image_stem(stem, OUTLINE_NAMES)) else [])]
    found = folder_candidates(path.parent.parent, ("images", "JPEGImages")).values()
    folders = [folder for folders in found for folder in folders]
    folders += [yolo] if (yolo := yolo_images(path)) is not None else []
    # the exact names first (no folder listed), then in any letter case
    for listing in (False, True):
        if image := _image_named(path.parent, stems, listing=listing):
            return image
        for folder in folders:
            if image := _image_named(folder, named, listing=listing):
                return image
    raise ImageReadError(
        f"{path}: outlines (ImageJ ROIs, GeoJSON) carry no image size: put them in a data "
        f"set's masks/ folder, named as their image in images/ ({stem}.tif for "
        f"{path.name}), or beside their image ({stem}.tif)"
    )


def _image_named(folder: Path, stems: list[str], *, listing: bool) -> Path | None:
    """The image file of ``folder`` of the first of ``stems`` that has one, or None; with
    ``listing`` the folder is listed (a suffix in any letter case, a name macOS wrote
    decomposed), else only the exact names are looked for."""
    if not listing:
        named = [folder / f"{stem}{suffix}" for stem in stems for suffix in INPUT_SUFFIXES]
        return next((f for f in named if listed_image(f, INPUT_SUFFIXES)), None)
    listed = [f for f in sorted(folder.iterdir()) if listed_image(f, INPUT_SUFFIXES)]
    return next((f for stem in stems for f in listed if nfc(f.stem) == stem), None)


#: the letters of ``--axes``: T, Z (and Q: of no known meaning) are planes, C (or S) the
#: channels, Y and X the rows and columns
AXES = "TZQCSYX"


def axes_problem(axes: str, axes_as: str = "--axes {}") -> str | None:
    """What is wrong with the axes a user gives (``--axes``, ``axes=``) whatever the file:
    a letter that is no axis, one given twice, no Y or X, two channel axes, X before Y;
    None for letters unetlab reads (:func:`given_letters` then fits them to a file).
    ``axes_as``: how the line spells the axes given (a format: ``--axes {}``, or
    :data:`AXES_AS`'s ``axes='{}'``)."""
    given = axes.upper()
    wrong = sorted(set(given) - set(AXES))
    twice = sorted({a for a in given if given.count(a) > 1})
    if wrong or twice or "Y" not in given or "X" not in given or sum(map(given.count, "CS")) > 1:
        return (
            f"{axes_as.format(axes)}: give each axis once, one letter each, Y and X among them "
            "(T time, Z depth, C channels, Y rows, X columns: e.g. TYX, ZYX, CYX, YXC, TCYX)"
        )
    if given.index("Y") > given.index("X"):  # read as Y, X: the outputs would be transposed
        swapped = given.replace("X", "#").replace("Y", "X").replace("#", "Y")
        return (
            f"{axes_as.format(axes)} puts X before Y; unetlab reads rows before columns: "
            "transpose the image (e.g. in Fiji: Image > Transform > Rotate 90 and flip) and "
            f"give {axes_as.format(swapped)}"
        )
    return None


def axes_error(axes: str, say, error=UnetlabError, axes_as: Spelled = AXES_AS) -> UnetlabError:
    """``error`` of the line ``say(axes_as)`` makes of the axes given: the Python API's
    spelling (``axes='XYC'``; :data:`DATA_AXES_AS`'s ``cfg.data.axes = 'XYC'`` for a
    training's data) while no command runs (:func:`said_as`: the line may be quoted in one
    that carries one spelling), the command line's as its ``cli`` (s49 review1:
    ``read_image(path, axes='XYC')`` was told to give ``--axes YXC``)."""
    return error(**said(say, axes_as))


def check_axes(axes: str | None) -> None:
    """UnetlabError in one line for given ``axes`` no file could take (:func:`axes_problem`),
    before any is read; None: none given."""
    if axes is not None and axes_problem(axes):
        raise axes_error(axes, lambda axes_as: axes_problem(axes, axes_as))


#: pages this narrow (rows or columns) hold nothing a U-Net can segment: the (Y, X, C)
#: array tifffile stores as Y pages of X x C pixels when given no axes, or a bare (3, Y, X)
#: stack read with a checkpoint's YXC
THIN = 4


#: the axes a TIFF of 4 that records none (QQYX: a (T, Z, Y, X) array napari or tifffile
#: saves plain) is read with by a model trained on planes (ZYX, TYX): it was read as one
#: stack of T x Z planes (written ZYX, flattened)
STACKS_4D = "TZYX"


def file_axes(path: str | os.PathLike, axes: str | None) -> str | None:
    """``axes`` for ``path`` when it takes them (:func:`takes_axes`), else None: a PNG or
    JPEG among a set's TIFFs is read as it is (:func:`refuse_untiffed_axes`)."""
    return axes if takes_axes(path) else None


def takes_axes(path: str | os.PathLike) -> bool:
    """Whether ``--axes`` may name the axes of ``path``: a TIFF's, or a NumPy file's
    array's (which records none, as a bare TIFF)."""
    return Path(path).suffix.lower() in TIFF_SUFFIXES or is_npy_name(path)


def axes_read_once() -> contextlib.AbstractContextManager:
    """Within: :func:`trained_file_axes` reads each TIFF once for the same axes and
    channels (and position) while the file is unchanged; ``unetlab predict``'s checks,
    streaming rule, records and reads opened a TIFF for it 5 times (s60). Its
    :func:`tiff_head` and GeoTIFF tags too (:data:`~unetlab.data.tiff_files.HEADERS`)."""
    return HEADERS.kept()


def trained_file_axes(
    path: str | os.PathLike, axes: str | None, *, channels: int = 1
) -> str | None:
    """``axes`` a checkpoint trained with (``data.axes``) for ``path`` where it is a TIFF of
    as many axes, whose pixels' samples (RGB) they name where it has them; None otherwise, read
    as it is, as without the checkpoint: a plane or a 4-D hyperstack for a ZYX model, an RGB
    TIFF for a grey one, a PNG (they would be refused naming an --axes never given). A TIFF
    that states its own axes is read as they say, or refused where they cannot be these
    (:func:`stated_fit`). One of other axes and no channels for a model of ``channels`` > 1
    whose axes have C is refused (:func:`refuse_channelless`), but a 2-D TIFF (stating no
    axes, or YX) for a YXC model is read as it is, as a grey PNG: its grey repeated into the
    3 channels with a warning (each says the same, a grey plane). A 4-D TIFF that records no
    axes (QQYX) for a model of planes (ZYX, TYX) is read as :data:`STACKS_4D`. A grey
    picture (PNG, JPEG) is refused where a grey TIFF plane is (:func:`refuse_grey_picture`).
    Read once within :func:`axes_read_once`."""
    if file_axes(path, axes) is None:
        return refuse_grey_picture(path, axes, channels)
    found, shape, stated, loose, guessed = _axes_header(path)
    if not stated and _thin(axes, shape) and not _thin(found.axes, shape):
        return None  # YXC of a bare (3, Y, X) stack: 3 rows; read as it is, its pages channels
    if not stated and found.axes == "QQYX" and _kinds_at(axes) == "PYX":
        return STACKS_4D  # a bare (T, Z, Y, X) array: its planes kept apart, as --axes TZYX
    if found.axes == "YX" and axes.upper() == "YXC":
        return None  # a grey plane (bare or stated YX), as a grey PNG: repeated into the 3
    if len(found.axes) != len(axes):
        if guessed:
            refuse_guessed_channels(path, found.axes, axes, channels)
        return refuse_channelless(path, found.axes, axes, channels, shape=shape)
    if loose and _kinds_at(found.axes) == _kinds_at(axes):  # Z or T: the checkpoint's word
        return axes
    samples = "S" in found.axes and not _planes_are_pages(found, colour_planes=False)
    if samples and axes.upper()[found.axes.index("S")] not in "CS":
        return None
    return stated_fit(path, found.axes, axes) if stated else axes


class _AxesHeader(NamedTuple):
    """What :func:`trained_file_axes` reads of a TIFF's series: its axes, its shape, whether
    the file states them, with Z or T guessed, or tifffile guessed them."""

    found: TiffAxes
    shape: tuple[int, ...]
    stated: bool
    loose: bool
    guessed: bool


def _axes_header(path: str | os.PathLike) -> _AxesHeader:
    """:class:`_AxesHeader` of the TIFF at ``path`` (its position's series where one is
    read), read once within :func:`axes_read_once` while the file is unchanged: there by
    the first look at the file (:func:`_positions`), which reads its other header facts
    from the same open (s62: predict's channel checks opened the first input, then the
    first look again)."""
    if not HEADERS.keeping():
        return _read_axes_header(path)
    with HEADERS.stamped(real_path(path)):  # one stat for the look
        return _kept_axes_header(path, _looked)  # read as named, kept by its real path


def _kept_axes_header(path: str | os.PathLike, read=None) -> _AxesHeader:
    what = ("axes_header", position_of(path))
    return HEADERS.read(what, real_path(path), lambda: (read or _read_axes_header)(path))


def _looked(path: str | os.PathLike) -> _AxesHeader:
    """:func:`_axes_header` of a file not looked at yet: looked at (:func:`ome_positions`),
    which keeps it, or read now where that read nothing (a file looked at before, or
    unreadable: then it says why)."""
    ome_positions(path)
    return _kept_axes_header(path)


def _read_axes_header(path: str | os.PathLike) -> _AxesHeader:
    with decoding_errors(path):
        tif, close = tiff_file(Path(path))
    try:
        with decoding_errors(path):
            series = series_of(tif)
            found, shape = tiff_axes(tif, series), tuple(series.shape)
            stated = states_axes(tif, found.axes)
            loose = stated and planes_guessed(tif, found.axes)
            guessed = not stated and guessed_by_tifffile(tif, found.axes)
    finally:
        close()
    return _AxesHeader(found, shape, stated, loose, guessed)


class TiffHead(NamedTuple):
    """What a TIFF's header says of a level of its series (level 0 of its position's where
    one is read), as a slide is opened (:func:`~unetlab.data.slides.slide_header`): its axes,
    shape and sample type, its pyramid levels, whether it is tiled or compressed, level 0's
    Orientation, and where its pixels are stored uncompressed in one piece (memory-mapped):
    their offset, the bytes the header promises and the file holds (:func:`stored_bytes`,
    worked out once an open; else None, 0, 0)."""

    found: TiffAxes
    shape: tuple[int, ...]
    dtype: np.dtype
    levels: int
    chunked: bool
    turn: int
    offset: int | None
    promised: int
    held: int


def tiff_head(path: str | os.PathLike) -> TiffHead:
    """:class:`TiffHead` of level 0 of the TIFF at ``path``, read once within
    :func:`axes_read_once` while the file is unchanged; what tifffile raises on a corrupt
    file, as it raises it (the caller names the file:
    :func:`~unetlab.data.slides.slide_header`)."""
    what = ("head", position_of(path))
    return HEADERS.read(what, real_path(path), lambda: _read_head(path))


def _read_head(path: str | os.PathLike) -> TiffHead:
    with open_tiff(path) as tif:
        return level_head(tif, series_of(tif), 0)


def level_head(tif, series, level: int) -> TiffHead:
    """:class:`TiffHead` of level ``level`` of ``series`` of the open TIFF ``tif``."""
    levels = series.levels
    chosen, first = levels[level], levels[level].keyframe
    chunked = first.compression != 1 or first.is_tiled or len(levels) > 1
    turn = tiff_orientation(levels[0].keyframe)
    stored = stored_bytes(series, level)
    offset, promised, held = (None, 0, 0) if stored is None else (*stored, tif.filehandle.size)
    found, sizes = tiff_axes(tif, chosen), (offset, promised, held)
    return TiffHead(found, chosen.shape, chosen.dtype, len(levels), chunked, turn, *sizes)


def stored_bytes(series, level: int) -> tuple[int, int] | None:
    """(offset, end) of the pixels of level ``level`` of a TIFF ``series`` where they are
    stored uncompressed in one piece (level 0 alone), which are memory-mapped when read
    window by window; None for others (decoded chunk by chunk)."""
    chosen = series.levels[level]
    offset = series.dataoffset if level == 0 and chosen.keyframe.compression == 1 else None
    if offset is None:  # compressed, tiled in pieces, or a pyramid level
        return None
    return offset, offset + int(np.prod(chosen.shape, dtype=np.int64)) * chosen.dtype.itemsize


def truncated_line(path: str | os.PathLike, promised: int, held: int) -> str:
    """The refusal of a TIFF whose header promises ``promised`` bytes of pixels, more than
    the ``held`` bytes the file has."""
    return f"{path}: truncated: its header promises {promised} bytes, the file has {held}; copy the file again"


def _thin(axes: str, shape: tuple[int, ...]) -> bool:
    """Whether ``axes`` read a TIFF series of ``shape`` (one size an axis) as images of at
    most :data:`THIN` rows or columns, which hold nothing a U-Net can segment."""
    sizes = dict(zip(axes.upper(), shape)) if len(axes) == len(shape) else {}
    return min(sizes.get("Y", THIN + 1), sizes.get("X", THIN + 1)) <= THIN


#: the axes and channel settings a line names without a value, as each caller spells them
#: (a line gave both, "--axes (axes=)", s56)
AXES_GIVEN, CHANNEL_GIVEN = Spelled("axes=", "--axes"), Spelled("channel=", "--channel")


def untiffed_error(path: Path) -> ImageReadError:
    """The error for axes given to ``path``, a file that is no TIFF."""
    return ImageReadError(
        **said(lambda a: f"{path}: {a} applies to TIFF files; drop it for this one", AXES_GIVEN)
    )


def refuse_channelless(
    path: str | os.PathLike, found: str, axes: str, channels: int, *, shape: tuple = ()
) -> None:
    """ImageReadError in one line for a TIFF of axes ``found`` (not as many as the model's
    ``axes``) and no channels where the model takes ``channels`` > 1 of a C axis: its grey
    was repeated into them (3) with a warning, planes of a fluorescence model's stains;
    None (read as it is) for others: channels of the model's (ZCYX for CYX: its planes').
    The fixes name as C a plane axis of ``channels`` (``shape``: the file's, one size an
    axis; unknown: its first) and the axes that repeat its grey (3 channels)."""
    if channels < 2 or "C" not in axes.upper() or set(found) & set("CS"):
        return None
    named, fixes = named_planes(found), []
    sizes = shape if len(shape) == len(found) else (channels,) * len(found)
    at = next((i for i, a in enumerate(found) if a not in "YX" and sizes[i] == channels), None)
    if at is not None:
        nth = ("first", "second", "third")[at] if at < 3 else f"{at + 1}th"  # QQQQYX: 4th
        which = f"{nth} axis" if found[at] == "Q" else found[at]
        fixes += [(f"{named[:at]}C{named[at + 1 :]}", f"if its {which} holds them")]
    fixes += [(named, "to repeat its grey into each")] if channels == 3 else []
    fixes = [(a, why) for a, why in fixes if axes_problem(a) is None]  # Q once
    head = f"{path}: the file's axes are {found}, no channels; the model was trained on {axes}"

    def line(axes_as: str) -> str:  # the fixes as the API (axes='CYX') or the command spells them
        given = " or ".join(f"{axes_as.format(a)} {why}" for a, why in fixes)
        given = f"give {given}, or " if fixes else ""
        return f"{head}, {channels} channels: {given}convert it to {channels} channels"

    # quoted in a data set's problems and predict's failed lines, which carry one spelling:
    # the message is the command's while it runs (said)
    raise ImageReadError(**said(line, AXES_AS))


def stain_axes(axes: str) -> bool:
    """Whether ``axes`` (letters, any case) give channels that are stains: a C axis that is
    not an RGB picture's colours last (YXC, and stacks of such pictures: ZYXC, TYXC). The one
    rule of the grey refusals and of a checkpoint's record of its channels."""
    letters = axes.upper()
    return "C" in letters and not letters.endswith("YXC")


def refuse_grey_picture(path: str | os.PathLike, axes: str | None, channels: int) -> None:
    """ImageReadError in one line for a grey picture (PNG, JPEG: no TIFF, so no --axes) given
    to a model of ``channels`` > 1 whose ``axes`` have C, not YXC, as a grey TIFF plane is
    (:func:`refuse_channelless`): its channels are stains, not an RGB picture's colours, so its
    grey is not repeated into them. None for others (read as they are: a YXC model repeats a
    grey picture with a warning)."""
    if not axes or channels < 2 or not stain_axes(axes):
        return None
    if not _grey_picture(path):
        return None
    raise ImageReadError(grey_for_stains(path, axes, channels))


def grey_for_stains(name, trained: str, channels: int, *, layer: bool = False) -> str:
    """The one line refusing a grey image (``name``: its file, "the layer") given to a model
    of ``channels`` > 1 that are stains, not an RGB picture's colours, so its grey is not
    repeated into them; ``trained``: what the model was trained on (its axes, CYX, or the
    images' dtype where its checkpoint records no axes: "uint16 images"). ``layer``: the
    image is a napari layer, which the fix asks to choose, not to give."""
    n = channels
    fix = (
        f"choose a layer of its {n} channels (as the model's training images were) and their "
        f"axis, or convert this layer to {n} channels"
        if layer
        else f"give an image of its {n} channels (as the model's training images were) or "
        f"convert it to {n} channels"
    )
    return (
        f"{name}: a grey image (one channel); the model was trained on {trained}, {n} "
        f"channels (stains, not colours), which a grey plane is not: {fix}"
    )


def _grey_picture(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a picture Pillow opens that is read grey (its header only): one
    band, a palette of greys, grey with alpha; False for colour and what it cannot open."""
    with contextlib.suppress(OSError), Image.open(path) as im:
        one = len(im.getbands()) == 1 and im.mode != "P"
        return one or im.mode == "LA" or (im.mode == "P" and grey_palette(im)) or grey_alpha(im)
    return False


def named_planes(found: str) -> str:
    """``found`` (tifffile's axes) with each Q (pages of no known meaning: QQYX of a 4-D
    array saved without axes) named as a plane axis it lacks, time before depth as the
    no-axes warnings name them (QQYX -> TZYX, QYX -> ZYX), a third kept Q (TZQYX): axes
    ``--axes`` takes (one letter each), for the lines that name them."""
    n, pool = found.count("Q"), [a for a in "TZ" if a not in found]
    free = iter(pool[len(pool) - n :] if n <= len(pool) else [*pool, "Q"])
    return "".join(next(free, "Q") if a == "Q" else a for a in found)


def refuse_guessed_channels(path: str | os.PathLike, found: str, axes: str, channels: int) -> None:
    """ImageReadError in one line for a TIFF whose axes ``found`` are tifffile's guess for an
    array saved without any (its C says nothing: ZCYX of a (T, Z, Y, X) array saved as
    x.ome.tif or imagej=True), not as many as the 1-channel model's ``axes`` of no C (ZYX):
    read as the guess says, its C was refused naming --channel, which keeps one plane in
    each; it names the --axes of its planes (TZYX) and of its channels. None for others."""
    if channels != 1 or "C" in axes.upper() or "C" not in found or not found.endswith("YX"):
        return
    planes = "ZYX" if len(found) == 3 else named_planes("Q" * (len(found) - 2) + "YX")
    which = " (time points of Z stacks)" if planes == "TZYX" else ""
    head = (
        f"{path}: its axes {found} are tifffile's guess for an array saved without any, not "
        f"what they hold; the model was trained on {axes}: give "
    )
    raise ImageReadError(
        **said(
            lambda given, channel: (
                f"{head}{given.format(planes)} if they are all planes{which}, or "
                f"{given.format(found)} and {channel} if its C holds channels"
            ),
            AXES_AS,
            CHANNEL_GIVEN,
        )
    )


def _kinds_at(axes: str) -> str:
    """What each of ``axes`` is, in their order: ``P`` a plane's, ``C`` channels, Y, X."""
    return "".join("P" if a in "TZQ" else "C" if a in "CS" else a for a in axes.upper())


def _kinds(axes: str) -> list[str]:
    """What each of ``axes`` is, sorted: ``P`` a plane's (T, Z, ...), ``C`` channels (C, S),
    ``Y``, ``X``."""
    return sorted("C" if a in "CS" else a if a in "YX" else "P" for a in axes.upper())


def stated_fit(path: str | os.PathLike, stated: str, axes: str) -> str | None:
    """The checkpoint's ``axes`` for a TIFF of as many that states its own (``stated``:
    OME-XML, an ImageJ hyperstack's slices or frames, tifffile's axes) where they are the
    same; None, read as the file says, where they are the same kinds in another order or
    name (Z for T: planes either way; CYX for YXC); ImageReadError naming both where they
    cannot be (channels for planes): --axes says which."""
    if stated.upper() == axes.upper():
        return axes
    if _kinds(stated) == _kinds(axes):
        return None
    head = f"{path}: the file says its axes are {stated}, the model was trained on {axes}: "
    raise ImageReadError(
        **said(
            lambda a: (
                f"{head}give {a.format(axes)} (as trained) or {a.format(stated)} (as the file says)"
            ),
            AXES_AS,
        )
    )


class AxesSetting(NamedTuple):
    """How lines name the setting that gave the axes a set of images is read with, as each
    caller spells it: the setting (``name``), how to drop it, and a format of the axes
    to give (``given``: :data:`AXES_AS`'s ``axes='{}'``)."""

    name: Spelled
    drop: str | Spelled
    given: Spelled


#: predict's, evaluate's and split_pairs' ``axes=``; a training's (fit, plan_training,
#: prepare_data: a Config's) key, which no ``axes=`` keyword gives (s56 reviews: fit was told
#: axes=, split_pairs(root, axes=...) cfg.data.axes)
GIVEN_AXES = AxesSetting(AXES_GIVEN, "drop it", AXES_AS)
DATA_AXES = AxesSetting(
    Spelled("cfg.data.axes", "--axes"), Spelled("set cfg.data.axes = None", "drop it"), DATA_AXES_AS
)


def refuse_untiffed_axes(where, paths, axes: str | None, setting: AxesSetting = GIVEN_AXES) -> None:
    """ImageReadError in one line where ``axes`` are given for a set of images (``paths``,
    found under ``where``) none of which is a TIFF: the user meant them for files that
    cannot take them; a set with a TIFF reads its others as they are (:func:`file_axes`).
    ``setting``: :data:`GIVEN_AXES`, or :data:`DATA_AXES` for a training's data."""
    paths = list(paths)
    if axes is None or not paths or any(file_axes(p, axes) for p in paths):
        return
    raise ImageReadError(
        **said(
            lambda a, fix: (
                f"{where}: {a} applies to TIFF files and none of its images is one; {fix}"
            ),
            setting.name,
            setting.drop,
        )
    )


def given_letters(
    axes: str, shape: tuple[int, ...], path: str | os.PathLike, axes_as: Spelled = AXES_AS
) -> str:
    """The :func:`axes_letters` (``P``, ``Y``, ``X``, ``C``) of a TIFF series of ``shape``
    whose axes the user gives as ``axes`` (``--axes``: e.g. ``TYX``, ``ZYX``, ``CYX``,
    ``YXC``, ``TCYX``, ``TZCYX``); ImageReadError naming the fix if they do not fit it, the
    axes spelled as ``axes_as`` (:func:`axes_error`)."""
    given = axes.upper()
    error = functools.partial(axes_error, error=ImageReadError, axes_as=axes_as)
    if axes_problem(axes):
        raise error(axes, lambda a: f"{path}: {axes_problem(axes, a)}")
    if len(given) != len(shape):
        raise error(
            axes,
            lambda a: (
                f"{path}: {a.format(axes)} names {len(given)} axes, but the file's image "
                f"has {len(shape)} (shape {tuple(shape)}): give one letter per axis"
            ),
        )
    return "".join("P" if a in "TZQ" else "C" if a in "CS" else a for a in given)


#: the names tifffile gives a slide's side images (SVS, NDPI): no positions of their own
SIDE_IMAGES = ("label", "macro", "thumbnail", "overview")

#: the files said to hold other series, outside a command or call (:func:`say_other_series`)
_SAID_SERIES: set[tuple[str, str]] = set()


def other_series(tif) -> list[str]:
    """The names of a TIFF's series after the first that are images of their own, which
    unetlab does not read: the positions of a multi-position OME-TIFF (each OME ``Image``
    a series) or any series of the first one's shape; a slide's label, macro and
    thumbnail images (another shape) and pyramid levels (in the first series) are no
    such. The first's name leads the list where there are any ([] where none)."""
    series = tif.series
    first = series[0]
    others = [
        s
        for s in series[1:]
        if s.name.strip().lower() not in SIDE_IMAGES and (tif.is_ome or s.shape == first.shape)
    ]
    if not others:
        return []
    return [s.name or f"series {series.index(s)}" for s in (first, *others)]


def ome_positions(path: str | os.PathLike) -> list[str]:
    """The names of the positions of a multi-position OME-TIFF (each OME ``Image`` a series
    of its own: :func:`other_series`, one per ``Image`` of its OME-XML), which ``unetlab
    predict`` predicts one by one (:mod:`unetlab.data.positions`); [] for any other file,
    one that cannot be read too (read, it says why). Read once per version of the file;
    within :func:`axes_read_once`, once a command, with the file's other header facts
    (:func:`_first_look`)."""
    path = Path(path)
    if is_czi_name(path):  # its scenes (s74: a CZI's are positions too)
        return czi_scenes(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return []
    if HEADERS.keeping():
        with HEADERS.stamped(real := real_path(path)):  # one stat for the look
            return list(HEADERS.read(("positions",), real, lambda: _first_look(path)))
    try:
        stat = path.stat()
    except OSError:
        return []
    return list(_positions(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=1 << 16)  # a folder of inputs read once
def _positions(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """:func:`ome_positions` of the file at ``path`` of that time and size."""
    return _read_positions(path)


def _first_look(path: str) -> tuple[str, ...]:
    """:func:`ome_positions` of the file at ``path`` read now, and its axes header,
    :func:`tiff_head` and GeoTIFF tags from the same open, each kept within
    :func:`axes_read_once` (predict's first look at each input: s60, the records' check
    opened it again for its axes; s62, the streaming rule and the world files for the
    others, and a process's second command read each apart: its positions were kept)."""
    with keeping_open(path):
        found = _read_positions(path)
        with contextlib.suppress(ImageReadError):  # said where the axes are asked for
            _kept_axes_header(path)
        for read in (tiff_head, read_geotags):  # a corrupt file's, as _read_positions: read
            with contextlib.suppress(Exception):  # again where they are asked for, which
                read(path)  # says why
    return found


def _read_positions(path: str) -> tuple[str, ...]:
    """:func:`_positions`, read now."""
    try:
        with open_tiff(path) as tif:
            if not tif.is_ome:
                return ()
            names = other_series(tif)
            images = tif.ome_metadata.count("<Image ") + tif.ome_metadata.count(":Image ")
    except Exception:  # noqa: BLE001 - tifffile's parser on a corrupt file: read, it says why
        return ()
    # a series for each OME Image, so that series i is Image i (a multi-file dataset's
    # Images whose pixels are elsewhere have none: not read as positions)
    return tuple(names) if len(names) == images else ()


def say_other_series(tif, path: str | os.PathLike) -> None:
    """Warn, once a command or public call for each file (outside one once a process:
    :func:`~unetlab.data.read_notes.say_once_a_call`), that ``path`` holds other series than the
    first (:func:`other_series`: a multi-position OME-TIFF), which are not read: one line
    naming how many it holds, which one is read, and how to read the others; nothing while a
    position is read, or each is (:mod:`unetlab.data.positions`)."""
    names = other_series(tif)
    if not names or reading(path) or every_position_read() and ome_positions(path):
        return  # every_position_read: predict reads each
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    say_once_a_call(
        log,
        logging.WARNING,
        ("series", str(path)),
        "%s holds %d series (%s: positions or images of one acquisition); unetlab reads "
        "series 0 (%s) only, the other %d not at all: save each series as its "
        "own file (Fiji: Bio-Formats Importer with 'Open all series', then File > Save As; "
        "Python: tifffile.TiffFile(path).series[i].asarray())",
        Path(path).name,
        len(names),
        shown,
        names[0],
        len(names) - 1,
        outside=_SAID_SERIES,
    )


def tiff_layout(tif, *, colour_planes: bool = False) -> tuple[str, tuple[int, ...]]:
    """The axes of a TIFF's first series (a position's while one is read:
    :mod:`unetlab.data.positions`) as unetlab reads them (:func:`tiff_letters`), with the
    series' shape."""
    series = series_of(tif)
    letters = tiff_letters(tif, series, colour_planes=colour_planes)
    return letters, tuple(int(n) for n in series.shape)


def tiff_letters(tif, series, *, colour_planes: bool = False) -> str:
    """The axes of a series (or pyramid level) of a TIFF as unetlab reads them, one letter
    each: ``Y``, ``X``, ``C`` (channels, read as the last axis) or ``P`` (pages):
    :func:`axes_letters` of its :func:`tiff_axes`."""
    return axes_letters(tiff_axes(tif, series), colour_planes=colour_planes)


class TiffAxes(NamedTuple):
    """What tifffile tells of a TIFF series' axes (:func:`tiff_axes`)."""

    path: str
    #: tifffile's axes letters, upper case (``S``: the samples of a pixel)
    axes: str
    #: the samples are stored as separate planes (PlanarConfiguration 2)
    planar: bool
    #: the photometric interpretation is RGB
    rgb: bool
    #: the file records no axes: tifffile's shape metadata without them, or (wider than
    #: 8 bits: no camera's colour picture) no metadata at all (tifffile's metadata=None)
    shaped_without_axes: bool


def tiff_axes(tif, series) -> TiffAxes:
    """Read what :func:`axes_letters` needs of ``series`` off a tifffile ``TiffFile``: these
    reads are tifffile's, which raise nearly anything on a corrupt file; the rule that reads
    them is :func:`axes_letters`, which holds no tifffile call."""
    page = series.keyframe
    planar, rgb = int(page.planarconfig) == 2, int(page.photometric) == 2
    shaped = tif.shaped_metadata if planar and rgb and tif.is_shaped else None
    bare = bool(shaped) and "axes" not in shaped[0]
    if planar and rgb and not tif.is_shaped and page.dtype.itemsize > 1:
        bare = not (page.description or tif.is_geotiff)
    return TiffAxes(given_path(tif), series.axes.upper(), planar, rgb, bare)


def axes_letters(tiff: TiffAxes, *, colour_planes: bool = False) -> str:
    """The axes of a TIFF series as unetlab reads them, one letter each: ``Y``, ``X``, ``C``
    (channels, read as the last axis) or ``P`` (pages).

    Channels: an axis tifffile names C (channel metadata: tifffile's ``axes``, ImageJ's
    channels, OME's C), and the samples (S) of a pixel: interleaved (contig) samples, and
    separate planes (PlanarConfiguration 2) of one page, the bands of a band-interleaved
    image (GDAL's INTERLEAVE=BAND: an RGB + NIR orthomosaic is one page of 4 samples, not 4
    pages; audit s31 drone, finding 10) or of a planar RGB(A) one. Only the (3|4, H, W)
    arrays tifffile writes as planar RGB(A) when given no ``photometric`` are ambiguous
    (they carry tifffile's shape metadata without axes, or, wider than 8 bits, no metadata;
    a 3-plane stack saved so looks the same): they are read as pages (a stack, as the mask of a training pair is), unless
    ``colour_planes`` (prediction with a colour model): then one colour image; read as
    pages, a colour picture gave 3 grey pages and 3 times its objects.
    """
    axes = tiff.axes
    if "Y" not in axes or "X" not in axes:
        raise ImageReadError(f"{tiff.path}: TIFF axes {axes} have no rows and columns")
    pages = "S" in axes and _planes_are_pages(tiff, colour_planes)
    samples = "P" if pages else "C"
    return "".join(a if a in "YXC" else samples if a == "S" else "P" for a in axes)


def _planes_are_pages(tiff: TiffAxes, colour_planes: bool) -> bool:
    """True when a TIFF's samples are tifffile's bare planar RGB(A) planes, which may be a
    stack (see :func:`axes_letters`); other samples are one pixel's channels, stored
    together (contig) or as planes of one page (planar: bands)."""
    return tiff.planar and tiff.rgb and not colour_planes and tiff.shaped_without_axes


def bare_planes(path: str | os.PathLike) -> bool:
    """True for a TIFF whose planes are the ambiguous ones of :func:`axes_letters` (planar
    RGB(A) that records no axes: a stack, or one colour picture), read as the model
    decides (:func:`read_stack`'s ``colour_planes``)."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return False
    with decoding_errors(path):
        tif, close = tiff_file(path)
    try:
        with decoding_errors(path):
            axes = tiff_axes(tif, series_of(tif))
    finally:
        close()
    return "S" in axes.axes and _planes_are_pages(axes, colour_planes=False)


def _decode(
    path: Path,
    *,
    colour_planes: bool = False,
    frames: bool = False,
    deep: bool = True,
    note: bool = False,
    channels: tuple[int, ...] | None = None,
):
    """(a TIFF's first series as an array and its :func:`tiff_layout` letters; ``channels``:
    those alone, :func:`_channel_keys`), (a 16-bit
    colour PNG's pixels, "YXC" or "YX": :mod:`unetlab.data.png_depth`, unless not ``deep``;
    with ``note``, its transparent share noted as an 8-bit one's where its alpha is dropped)
    or (the loaded Pillow frames, None: one but for an animated file read with ``frames``);
    ImageReadError naming the file for what a decoder raises on a corrupt, truncated,
    oversized or unsupported file. Only the tifffile and Pillow calls run under
    :func:`_decoding`: a bug of unetlab's reading of the axes keeps its traceback. An MRC
    file's sections are its planes (:mod:`unetlab.data.mrc`)."""
    if is_mrc_name(path):
        return read_mrc(path), "PYX"
    if path.suffix.lower() not in TIFF_SUFFIXES:
        with decoding_errors(path), Image.open(path) as im:
            n = getattr(im, "n_frames", 1)
            refuse_frames(path, n, frames=frames)
            if deep:
                refuse_deep_frames(path, im, n)
            turn = _turn(path, pil_orientation(im))
            if deep and n == 1 and deep_colour(im):  # Pillow would give its high bytes
                arr, alpha = deep_pixels(path)
                if note and alpha is not None and (share := float(np.mean(alpha < 65535))):
                    note_transparent(str(path), share)  # its alpha dropped, as at 8 bits
                return oriented(arr, turn, 0, 1), "YXC"[: arr.ndim]
            return [_frame(im, i, turn) for i in range(n)], None

    with decoding_errors(path):
        tif, close = tiff_file(path)
    try:
        with decoding_errors(path):
            axes = tiff_axes(tif, series_of(tif))
            turn = tiff_orientation(series_of(tif).keyframe)
            say_other_series(tif, path)
        letters = axes_letters(axes, colour_planes=colour_planes)
        keys = _channel_keys(path, series_of(tif), axes_letters(axes), channels)  # misuse: said
        with decoding_errors(path):
            arr = _series_pixels(tif, series_of(tif), keys)
    finally:
        close()
    turn = _turn(path, turn)
    return oriented(arr, turn, letters.index("Y"), letters.index("X")), letters


def channel_pages(path: str | os.PathLike) -> int:
    """How many channels the TIFF ``path`` stores as pages of their own, from its header
    (a multiplexed OME-TIFF's, an ImageJ hyperstack's: its C axis before Y and X, one page
    a plane), which :func:`read_stack` reads alone; 0 for other files (no TIFF, channels
    interleaved in each pixel or as planes of one page, or none)."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES or not path.is_file():
        return 0
    with decoding_errors(path), open_tiff(path) as tif:
        series = series_of(tif)
        at = _channel_axis(series, axes_letters(tiff_axes(tif, series)))
    return 0 if at is None else int(series.shape[at])


def pages_alone(
    path: str | os.PathLike, wanted: int | Sequence[int], nodata="auto"
) -> tuple[int, ...] | None:
    """The channels ``wanted`` (an index, or a band list or tuple) of the image file ``path``
    to read alone (:func:`read_stack`'s ``channels``: once each, in that order) where it
    stores its channels as pages (:func:`stored_apart`: a multiplexed OME-TIFF's) and
    ``nodata`` finds no pixels by every band's value; None: all are read (one it lacks too:
    refused as read). Predict's and training's one rule (s71)."""
    has = stored_apart(path, nodata)
    return pages_held(has, wanted) if has else None


def stored_apart(path: str | os.PathLike, nodata="auto") -> int:
    """How many channels the image file ``path`` stores as pages of their own
    (:func:`channel_pages`) that may be read alone: 0 where fewer than 2, or where
    ``nodata`` finds pixels by every band's value (:func:`~unetlab.data.nodata.banded_nodata`:
    a stack of some of them would find others)."""
    has = channel_pages(path)
    return 0 if has < 2 or banded_nodata(path, nodata) else has


def pages_held(has: int, wanted: int | Sequence[int]) -> tuple[int, ...] | None:
    """The channels ``wanted`` (an index, or a band list or tuple) of a file of ``has``
    channels stored apart (:func:`stored_apart`), each once in that order: :func:`read_stack`'s
    ``channels``; None where the file lacks one (all read: refused as read)."""
    wanted = tuple(wanted) if isinstance(wanted, list | tuple) else (wanted,)
    return tuple(dict.fromkeys(wanted)) if all(0 <= c < has for c in wanted) else None


def held_at(channel: int | Sequence[int], held: tuple[int, ...] | None) -> int | Sequence[int]:
    """Where ``channel`` (an index, or a band list or tuple) of a file is in a stack of its
    channels ``held`` alone, in that order (:func:`read_stack`'s ``channels``; None: all)."""
    if held is None:
        return channel
    if isinstance(channel, list | tuple):
        return type(channel)(held.index(c) for c in channel)
    return held.index(channel)


def _channel_axis(series, letters: str) -> int | None:
    """The axis of a tifffile series whose planes, each its pages, are the channels (its
    one C of ``letters``, before Y and X, a page axis: tifffile's C, not a page's samples),
    or None; None too where its planes are not a page each (a truncated ImageJ hyperstack,
    a file over 4 GB: one page holds them all)."""
    axes = series.axes.upper()
    if letters.count("C") != 1 or not axes.endswith("YX") or series.keyframe.samplesperpixel > 1:
        return None  # a page's samples (its planes too: PlanarConfiguration 2) decode together
    if len(series.pages) != math.prod(series.shape[:-2]):
        return None
    at = letters.index("C")
    return at if axes[at] == "C" else None


def _series_pixels(tif, series, keys: np.ndarray | None) -> np.ndarray:
    """The pixels of a tifffile series, of the pages ``keys`` alone where given
    (:func:`_channel_keys`: only they are decoded)."""
    if keys is None:
        return series.asarray()
    pages = tif.asarray(key=keys.ravel().tolist(), series=series)
    return pages.reshape(*keys.shape, *series.shape[-2:])


def _channel_keys(path: Path, series, letters: str, channels) -> np.ndarray | None:
    """The page indices of ``channels`` (:func:`read_stack`'s: of its C axis,
    :func:`channel_pages`, in that order) of the tifffile ``series`` of ``path``, its axes
    ``letters``; None: all. UnetlabError naming the file, its channels and the fix for
    channels it lacks or does not store as pages (s71 review: refused as a corrupt file)."""
    if channels is None:
        return None
    at = _channel_axis(series, letters)
    if at is None:
        raise UnetlabError(
            f"{path}: stores no channels as pages of their own (axes {series.axes}), so "
            "read_stack reads none alone: leave channels= out (every channel is read) and "
            "take them from the last axis"
        )
    has = int(series.shape[at])
    if lacked := [c for c in channels if not 0 <= c < has]:
        raise UnetlabError(
            f"{path}: no channel {lacked[0]} of its {has} channels: give channels= of 0 to "
            f"{has - 1} (channel_pages says how many)"
        )
    index = np.arange(len(series.pages)).reshape(series.shape[:-2])
    return np.take(index, list(channels), axis=at)


def _turn(path: Path, orientation: int) -> int:
    """``orientation``, noted (:func:`~unetlab.data.read_notes.note_turned`) where it turns."""
    if orientation != 1:
        note_turned(str(path), orientation)
    return orientation


def _note_transparency(path: Path, frames: list[Image.Image]) -> None:
    """Note (:func:`~unetlab.data.read_notes.note_transparent`) the share of transparent
    pixels (alpha < 255) of an image whose alpha :func:`_from_pil` drops; an opaque one (alpha
    all 255) is read as RGB and says nothing."""
    alphas = [f.getchannel("A") for f in frames if f.mode in ("RGBA", "LA", "PA")]
    if not alphas or all(a.getextrema()[0] == 255 for a in alphas):
        return
    opaque = sum(a.histogram()[255] for a in alphas)
    total = sum(a.width * a.height for a in alphas)
    note_transparent(str(path), 1 - opaque / total)


def frame_alphas(path: str | os.PathLike) -> list[np.ndarray] | None:
    """Each frame's alpha channel ((H, W), turned as :func:`read_stack` turns the frames) of
    a Pillow image (PNG, WebP, GIF) whose alpha :func:`read_stack` drops; None for one
    without alpha. Decodes the file again: only for files with an alpha channel."""
    frames, _ = _decode(Path(path), frames=True, deep=False)
    if not any(f.mode in ("RGBA", "LA", "PA") for f in frames):
        return None
    return [
        np.asarray(f.getchannel("A")) if f.mode in ("RGBA", "LA", "PA") else None for f in frames
    ]


def _frame(im: Image.Image, i: int, orientation: int = 1) -> Image.Image:
    """Frame ``i`` of an open Pillow image, decoded and turned as ``orientation`` says (a
    copy: the file can close)."""
    im.seek(i)
    im.load()
    return im.copy() if orientation == 1 else pil_oriented(im, orientation)


def refuse_frames(path: Path, n: int, *, frames: bool) -> None:
    """ImageReadError for an animated image (``n`` frames) unless ``frames`` reads them."""
    if n > 1 and not frames:
        raise ImageReadError(
            f"{path}: {n} frames: save them as PNG files or a TIFF stack (Fiji: File > Save "
            "As > Image Sequence)"
        )


def refuse_deep_frames(path: Path, im: Image.Image, n: int) -> None:
    """ImageReadError for an animated 16-bit colour PNG (``n`` frames): Pillow composes an
    APNG's frames at 8 bits, each sample's high byte (:mod:`unetlab.data.png_depth` reads a
    single picture's 16 bits)."""
    if n > 1 and deep_colour(im):
        raise ImageReadError(
            f"{path}: a 16-bit colour animated PNG ({n} frames), which unetlab would read at "
            "8 bits (the high bytes only): save its frames as a 16-bit TIFF stack or as "
            "16-bit PNG files"
        )


def frame_timing(path: str | os.PathLike) -> dict:
    """``{"finterval": seconds}`` between the frames of an animated GIF or PNG whose frames
    all last as long (``duration``, ms); {} for others."""
    with decoding_errors(Path(path)), Image.open(path) as im:
        durations = set()
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            durations.add(im.info.get("duration"))
    ms = durations.pop() if len(durations) == 1 else None
    return {"finterval": float(ms) / 1000} if ms else {}


def _frames_to_pages(frames: list[Image.Image], *, mask: bool) -> np.ndarray:
    """Pillow frames as (P, H, W[, C]). An animated GIF's first frame is a palette image and
    Pillow gives the later ones as RGB: after a grey first frame (a grey palette), RGB frames
    of grey pixels (R = G = B) are grey too; frames read in grey and colour otherwise are all
    colour."""
    pages = [_from_pil(f, mask=mask) for f in frames]
    if len({p.ndim for p in pages}) > 1:
        if all(p.ndim == 2 or _grey_pixels(p) for p in pages):
            return np.stack([p if p.ndim == 2 else p[..., 0] for p in pages])
        pages = [p if p.ndim == 3 else np.repeat(p[..., None], 3, axis=-1) for p in pages]
    return np.stack(pages)


def _grey_pixels(rgb: np.ndarray) -> bool:
    """True for an (H, W, 3) page whose pixels are all grey (R = G = B)."""
    return rgb.shape[-1] == 3 and bool((rgb == rgb[..., :1]).all())


@contextlib.contextmanager
def image_file_errors(path: str | os.PathLike) -> Iterator[None]:
    """Within: what a decoder raises on the image file ``path`` (read by another module's
    own tifffile calls) is the one ImageReadError naming it that this module's readers
    raise; a path that is no file is refused first. Keep the block to the decoding: a bug
    in it would read as a bad file."""
    path = Path(path)
    if not path.is_file():  # IsADirectoryError's traceback from measure_objects (s51 walkbad)
        raise ImageReadError(f"{path}: {_not_file(path)}")
    with decoding_errors(path):
        yield


@contextlib.contextmanager
def decoding_errors(path: Path) -> Iterator[None]:
    """Turn what an image decoder raises on ``path`` into one ImageReadError naming it."""
    try:
        yield
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageReadError(
            f"{path}: too large for Pillow to open safely ({exc}); save it as a tiled TIFF "
            "(or OME-Zarr), which unetlab predict reads window by window"
        ) from exc
    except MemoryError as exc:
        raise ImageReadError(
            f"{path}: too large to read into memory; save it as an uncompressed TIFF, which "
            "unetlab predicts tile by tile, or cut it into parts"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - only tifffile's and Pillow's calls run here
        # on corrupt bytes they raise nearly anything: OSError, SyntaxError, EOFError,
        # struct.error, zlib.error, and from tifffile's parser ZeroDivisionError, TypeError,
        # RuntimeError (all seen in tests/test_fuzz.py on truncated and bit-flipped files)
        short = pair_line(path) or short_file_line(path) or wrong_kind_line(path)
        short = short or undecodable_line(path) or imagej_counts_line(path)
        if short is not None:
            raise ImageReadError(short) from exc
        reason = first_line(exc, default="no details")
        raise ImageReadError(
            f"{path}: cannot read this image ({type(exc).__name__}: {reason}); "
            "is it a complete PNG, JPEG or TIFF file?"
        ) from exc


def short_file_line(path: str | os.PathLike) -> str | None:
    """The one line for an image file that a decoder failed on because it is short: empty
    (0 bytes), or a TIFF whose first page's pixel data end past the end of the file
    (a copy cut off: audit s33 plates 6/7); None for any other file, or one that cannot
    be looked at. Cheap: the file's size, and a TIFF's first page's tags."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size == 0:
        return f"{path}: empty file (0 bytes); copy the file again"
    end = _tiff_data_end(path) if path.suffix.lower() in TIFF_SUFFIXES else None
    return truncated_line(path, end, size) if end is not None and end > size else None


def _tiff_data_end(path: Path) -> int | None:
    """Where a TIFF's first page's pixel data end (its strip or tile offsets plus their
    byte counts), or None where its header or first page cannot be parsed."""
    try:
        with open_tiff(path) as tif:
            page = tif.pages.first
            ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts) if n]
    except Exception:  # noqa: BLE001 - any parse failure: not a short file we can name
        return None
    return max(ends, default=None)


def _tiff_to_pages(arr: np.ndarray, letters: str) -> np.ndarray:
    """Bring a TIFF series to (P, H, W[, C]) using its :func:`tiff_layout` letters."""
    order = [i for a in "PYXC" for i, b in enumerate(letters) if b == a]
    size = dict(zip(letters, arr.shape))  # Y and X occur once
    channels = int(np.prod([n for a, n in zip(letters, arr.shape) if a == "C"]))
    shape = (-1, size["Y"], size["X"], *((channels,) if "C" in letters else ()))
    return np.transpose(arr, order).reshape(shape)


def _mask_values(
    arr: np.ndarray, path: Path, colours: ColourTable | None, grey_masks: str
) -> np.ndarray:
    """The values of a mask read with channels, (P, H, W, C): its colours' values in the
    colour table beside it (or ``colours``), else its grey values (a grey one's beside a
    table too with ``grey_masks`` indices); other than 3 or 4 channels (RGB(A)) are refused
    (:class:`ChannelsMaskError`)."""
    if arr.shape[-1] not in (3, 4):
        raise ChannelsMaskError(path, arr.shape[-1])
    rgb = arr[..., :3]
    grey = np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
    if path.suffix.lower() in (".jpg", ".jpeg") and not grey:  # its colours are not the classes'
        raise ImageReadError(
            f"{path}: a colour mask saved as JPEG, which is lossy (the class colours come back "
            "changed, and new ones appear at the edges); save masks as PNG from the tool that "
            "drew them (converting this JPEG keeps its changed colours)"
        )
    if grey and grey_masks == INDICES:
        return rgb[..., 0]
    if (table := find_colour_table(path)) is not None:
        rgb = _eight_bit(rgb, path)
        if grey and index_like(found := greys_of(rgb[..., 0]), table) and not table.knows(rgb):
            raise ImageReadError(unknown_grey_line(path, found, table))
        values = table.values_of(rgb, path)
        if grey:
            _note_grey_read_as_colours(rgb[..., 0], table, path)
        return values
    if colours is not None and not (grey and not colours.knows(rgb)):
        return colours.values_of(_eight_bit(rgb, path), path)  # grey of other greys: greys
    if grey:
        return rgb[..., 0]
    raise ColourMaskError(path, _colour_kind(path, arr))


def _colour_kind(path: Path, arr: np.ndarray) -> str:
    """``"RGBA"`` for a colour mask read with 4 channels or stored as RGBA, whose alpha the
    reader drops (:func:`_from_pil`: an RGBA PNG was said to be RGB, s57), else ``"RGB"``."""
    if arr.shape[-1] == 4:
        return "RGBA"
    if path.suffix.lower() not in TIFF_SUFFIXES:
        with contextlib.suppress(OSError), Image.open(path) as im:  # the header only
            return "RGBA" if im.mode == "RGBA" else "RGB"
    return "RGB"


def _note_grey_read_as_colours(greys: np.ndarray, table: ColourTable, path: Path) -> None:
    """Say once a command where a grey RGB mask (R = G = B, its 8-bit ``greys``) was read
    through the colour ``table`` (the rule: an RGB mask beside a table is read through it)
    into other values than its greys, each of which could be a class index of the table's
    classes: grey class-index masks saved as RGB beside a table with those greys."""
    found = greys_of(greys)
    value = {tuple(c): v for c, v in zip(table.colours, table.values)}
    read = [value[(g, g, g)] for g in found]  # every grey is a table colour: read so
    if read == found or found[-1] >= len(table.colours) or set(read) == {VOID}:
        return  # the same values, no class indices, or CamVid's frame of void (black) alone
    shown = ", ".join(f"{g} -> {v}" for g, v in list(zip(found, read))[:6])
    more = f" and {len(found) - 6} more" if len(found) > 6 else ""
    note_once(
        f"{path}: a grey RGB mask (R = G = B) whose greys are colours of {table.source}, "
        f"read through it as every RGB mask beside it is (grey -> value: {shown}{more}); if "
        f"its greys are class indices, {KEY_FIX} or save such masks as single-channel grey "
        "PNGs, read as they are",
        key=f"grey masks read through {table.source}",
    )


def _eight_bit(rgb: np.ndarray, path: Path) -> np.ndarray:
    """A colour mask's colours as the 8-bit ones of a colour table: a 16-bit (or float)
    file's as they are where all lie in 0-255, its high bytes where each sample is an 8-bit
    one scaled to 16 bits (v * 257, as converters write); ImageReadError naming a pixel of
    another colour (whose key would be another table colour's: (0, 65535, 0) was yellow's)."""
    if rgb.dtype == np.uint8:
        return rgb
    whole = rgb.dtype.kind in "ui" or bool((rgb == np.round(rgb)).all())
    if whole and rgb.min() >= 0 and rgb.max() <= 255:
        return rgb.astype(np.uint8)
    if rgb.dtype == np.uint16 and not (rgb % 257).any():
        return (rgb // 257).astype(np.uint8)
    where = tuple(np.argwhere(((rgb > 255) | (rgb < 0) | (rgb % 1 != 0)).any(-1))[0])
    colour, (y, x) = tuple(rgb[where].tolist()), (int(i) for i in where[-2:])
    raise ImageReadError(
        f"{path}: colour {colour} at pixel x={x}, y={y} of this {rgb.dtype} colour mask is no "
        "8-bit colour (0-255), as a colour table's are; save the mask as an 8-bit RGB PNG"
    )


#: the axes of a stack of planes given to training and to evaluate, as each caller gives them
PLANES_GIVEN = Spelled(
    "cfg.data.axes = 'ZYX' to fit or evaluate_model(..., axes='ZYX')",
    "unetlab train --axes ZYX (data.axes: ZYX) or evaluate --axes ZYX",
)


class ChannelsMaskError(MadeAgain, ImageReadError):
    """A mask read with ``channels`` channels, not 3 or 4 (RGB(A)): most often a stack saved
    without axes (ImageJ's, read as CYX), whose pages are planes. Its fix names the axes
    train and ``evaluate --data`` take; ``evaluate --pred``, which takes none, says its own
    after :attr:`problem` (the line's first part)."""

    def __init__(self, path: Path, channels: int):
        self.problem = (
            f"{path}: this mask is read as one image of {channels} channels (its {channels} "
            "pages or channels, as the file records no axes or C ones), but a mask holds one "
            "value a pixel"
        )
        super().__init__(
            **said(
                lambda given: (
                    f"{self.problem}: if they are planes give the axes, e.g. {given} "
                    "(TYX for time points), or save the images and masks with their axes "
                    "(tifffile.imwrite(..., metadata={'axes': 'ZYX'}))"
                ),
                PLANES_GIVEN,
            )
        )
        self.how = (path, channels)  # pickled as made (MadeAgain)


class ColourMaskError(MadeAgain, ImageReadError):
    """A colour mask (``kind``: RGB or RGBA) with no colour table to read it: its fix is a
    class mask's; a reader of object ids gives its own after :attr:`problem` (the line's
    first part)."""

    #: how a file of class indices is saved (a class mask's, a class map's)
    INDICES_SAVED = "a grey or palette PNG with values 0, 1, 2, ..."
    #: the fix of a class mask saved in colour
    CLASS_FIX = f"save masks as class indices ({INDICES_SAVED}), or " + COLOUR_FIX

    def __init__(self, path: Path, kind: str = "RGB"):
        self.problem = f"{path}: this mask is a colour ({kind}) image"
        super().__init__(f"{self.problem}; {self.CLASS_FIX}")
        self.how = (path, kind)  # pickled as made (MadeAgain)

    def ids_line(self, reader: str) -> str:
        """The line where ``reader`` (``--instances``, ``data.target instances``) reads the
        mask as object ids: an instance mask saved with a colour an object (as some tools
        save them) and how to make its ids (:meth:`ids_fix`); it was told a class mask's fix
        (s56)."""
        return f"{self.problem}; {self.ids_fix(reader)}"

    @staticmethod
    def ids_fix(reader: str, made: str | None = None) -> str:
        """How to give ``reader`` object ids. The recipe takes an RGBA mask too, and a colour
        stack (Z, Y, X, 3), and makes the 16-bit ids it asks for (review B: an (H, W, 4)
        array was a reshape error; review F1: a stack). ``made``: what writes such ids where
        they are predictions, said first and the recipe another tool's image's (s68: a
        prediction was told of 'a mask of a colour an object')."""
        image = "mask" if made is None else "image"
        rgb = f"{image}[..., :3].reshape(-1, 3)"
        ids = f"np.unique({rgb}, axis=0, return_inverse=True)[1].reshape({image}.shape[:-1])"
        ids += f".astype(np.uint16) ({image}: its RGB or RGBA array as read; the alpha left out)"
        grey = "(single-channel) 16-bit PNG or TIFF, 0 the background and 1..n one per object"
        if made is not None:
            return (
                f"{reader} reads one object id a pixel, as {made} writes them "
                f"(<stem>_objects.tif): a grey {grey}; another tool's image of a colour an "
                f"object (black the background) becomes ids by {ids}"
            )
        return (
            f"{reader} reads one object id a pixel: save the ids as a grey {grey}; "
            f"a mask of a colour an object (black the background) becomes ids by {ids}"
        )


def read_image(path: str | os.PathLike, *, axes: str | None = None) -> np.ndarray:
    """One image as (H, W) or (H, W, C), dtype as stored; ``axes``: a TIFF's axes as
    :func:`read_stack` takes them (``"YXC"``: a (Y, X, C) array that tifffile saved without
    axes, as Y pages of X x C px). Multi-page files are refused (:func:`_pages_fix`)."""
    stack = read_stack(path, axes=axes)
    if stack.shape[0] != 1:
        raise ImageReadError(
            f"{path}: has {stack.shape[0]} pages; {_pages_fix(path, stack.shape, axes)}"
        )
    return stack[0]


def _pages_fix(path: str | os.PathLike, shape: tuple[int, ...], axes: str | None) -> str:
    """How to read ``path``, a file of ``shape`` (P, H, W[, C]) pages, where one image is
    asked for: its pages with :func:`read_stack`; where the file records no axes (tifffile's
    Q: a (Y, X, C) array saved bare reads as Y pages of X x C px) and none are given, as
    the file's own metadata cannot say, ``axes=`` too (s49 apilines: a (20, 30, 4) array was
    told to read_stack, which gave 20 images of 30 x 4 px)."""
    found = series_axes(path) if axes is None else None
    if found is None or "Q" not in found[0]:
        return "use read_stack() to read a stack page by page"
    return (
        f"the file records no axes, so these are pages of {shape[1]} x {shape[2]} px: give "
        "axes= its axes (axes='YXC' for a (Y, X, C) array saved without them), or read its "
        "pages with read_stack()"
    )


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """One mask as (H, W) integer labels: grey values, or palette indices for palette PNGs."""
    stack = read_stack(path, mask=True)
    if stack.shape[0] != 1:
        raise ImageReadError(f"{path}: has {stack.shape[0]} pages; expected a single mask")
    return stack[0]


def write_png(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    palette: np.ndarray | None = None,
    text: dict[str, str] | None = None,
):
    """Write a uint8/uint16 (H, W) or (H, W, 3) array as PNG, atomically.

    ``palette`` (K, 3) uint8 writes a palette PNG whose indices are the array's values.
    ``text``: UTF-8 text chunks (iTXt), keyword -> text; readers of the pixels ignore them.
    """
    with atomic_path(path) as tmp:
        _png_save(tmp, array, palette=palette, text=text)


def png_bytes(
    array: np.ndarray,
    *,
    palette: np.ndarray | None = None,
    text: dict[str, str] | None = None,
) -> bytes:
    """The bytes of the PNG file :func:`write_png` writes of ``array`` (PIL writes no time:
    the same array gives the same bytes), to tell a file that holds them already."""
    encoded = io.BytesIO()
    _png_save(encoded, array, palette=palette, text=text)
    return encoded.getvalue()


def _png_save(fp, array: np.ndarray, *, palette, text) -> None:
    """Save ``array`` as PNG into ``fp`` (a path or a file object): written straight there,
    as a large overlay's encoded bytes are not held in memory beside it."""
    from PIL.PngImagePlugin import PngInfo

    array = np.asarray(array)
    if array.dtype != np.uint16 or palette is not None:
        _refuse_wrapped(array)
    if palette is not None:
        im = Image.fromarray(array.astype(np.uint8), mode="P")
        im.putpalette(np.asarray(palette, dtype=np.uint8).ravel().tolist())
    elif array.dtype == np.uint16:
        im = Image.fromarray(array)
    else:
        im = Image.fromarray(array.astype(np.uint8))
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    im.save(fp, format="PNG", pnginfo=info)


def _refuse_wrapped(array: np.ndarray) -> None:
    """ValueError (a bug: the caller's to keep to 8 bits) where the integer ``array``, written
    to PNG as uint8, holds values outside 0..255: cast, they would wrap silently (s53
    reviewB: synthetic_nuclei's uint32 ids past 65,535 nuclei were written mod 256)."""
    if array.dtype.kind not in "iu" or array.dtype == np.uint8 or not array.size:
        return
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > 255:
        raise ValueError(
            f"a {array.dtype} array of values {low}..{high} cannot be a PNG of 8 bits "
            "(only uint16 arrays are written as 16-bit PNGs)"
        )


def write_tiff(path: str | os.PathLike, array: np.ndarray, **kwargs) -> None:
    """Write an array as TIFF (any dtype tifffile supports), atomically; the file's digest
    noted where its pixels are ``array``'s bytes as they are (:func:`_pixels_digest`)."""
    import tifffile

    array = np.asarray(array)
    with atomic_path(path) as tmp:
        pixels = tifffile.imwrite(tmp, array, returnoffset=True, **kwargs)
        if pixels is not None and (digest := _pixels_digest(tmp, array, pixels[0])):
            note_digest(tmp, path, digest)


def _pixels_digest(path: Path, array: np.ndarray, at: int) -> str | None:
    """The digest of the TIFF ``path`` just written of ``array`` whose pixels tifffile put
    uncompressed in one run at ``at`` (``imwrite``'s ``returnoffset``, with its first page's
    byte count; none of a compressed file, read when stamped), where the file is of at most
    :data:`~unetlab.atomic.DIGESTED` bytes and its pixels are ``array``'s bytes in its byte
    order: the file's bytes before and after them read, theirs taken from ``array``; None
    where not so (review s75: reopening each file to find its pixels cost 25%)."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size > DIGESTED or at + array.nbytes > size:
            return None
        f.seek(0)
        head = f.read(at)
        order = "<" if head[:2] == b"II" else ">"  # tifffile: the array's order, or as asked
        if array.dtype.newbyteorder(order) != array.dtype:
            return None
        f.seek(at + array.nbytes)
        tail = f.read()
    pixels = memoryview(np.ascontiguousarray(array)).cast("B")
    return digest_of([head, pixels, tail])


def write_csv(path: str | os.PathLike, columns: dict[str, np.ndarray | list]) -> Path:
    """Write equal-length columns as a CSV file with a header row, atomically. Floats are
    written with 10 significant digits (a centroid on a slide 100,000 px wide keeps its
    hundredths of a pixel), booleans as true/false. A block of :data:`CSV_ROWS` rows at a
    time: memory goes with the block's cells, not the table's."""
    import csv

    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    length = min((len(a) for a in arrays), default=0)
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for start in range(0, length, CSV_ROWS):
            block = [_cells(a[start : min(start + CSV_ROWS, length)]) for a in arrays]
            writer.writerows(zip(*block))
    return path


#: rows :func:`write_csv` formats at a time
CSV_ROWS = 1024


def _cells(column: np.ndarray) -> list[str]:
    """The CSV cells of a block of one column (:func:`_cell`'s, a column at a time)."""
    if column.dtype.kind == "b":
        return np.where(column, "true", "false").tolist()
    if column.dtype.kind == "f":
        return list(map("{:.10g}".format, column.tolist()))
    if column.dtype.kind in "iu":
        return list(map(str, column.tolist()))
    return [_cell(v) for v in column.tolist()]


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)

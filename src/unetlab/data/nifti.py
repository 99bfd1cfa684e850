"""Read and write NIfTI-1 volumes (``.nii``, ``.nii.gz``: the Medical Segmentation Decathlon's
and nnU-Net's CT and MRI), numpy and gzip only.

A volume is stored x fastest (Fortran order) as (X, Y, Z[, T or channels]); it is read as
(Z, Y, X[, C]): a z-stack of axial slices, in the voxel order the file stores, as nnU-Net
(SimpleITK's ``GetArrayFromImage``) reads it. Nothing is turned by the affine: a label
volume written with :func:`write_labels_like` keeps its image's header (qform, sform,
spacing), so it overlays the image voxel for voxel in 3D Slicer and ITK-SNAP.

Images are scaled by ``scl_slope``/``scl_inter`` where the header sets them (not 0, and not
1 and 0); label volumes are class maps and never are. The header layout is the NIfTI-1
standard's (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h).
"""

from __future__ import annotations

import gzip
import math
import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.large_ids import label_dtype
from unetlab.data.mrc import KEY_NOTE, noted_key
from unetlab.data.nifti_affine import TILT_TOLERANCE, header_affine, slice_tilt, write_affine
from unetlab.errors import ImageReadError

#: the file endings of NIfTI volumes (case ignored)
NIFTI_ENDINGS = (".nii", ".nii.gz")
HEADER = 348  # bytes of a NIfTI-1 header; its first field says so
NIFTI2_HEADER = 540
#: NIfTI-1 datatype codes unetlab reads, and their numpy types (little-endian)
DATATYPES = {
    2: "u1",
    4: "i2",
    8: "i4",
    16: "f4",
    64: "f8",
    256: "i1",
    512: "u2",
    768: "u4",
    1024: "i8",
    1280: "u8",
}
KINDS = {32: "complex64", 128: "RGB24", 1536: "float128", 1792: "complex128", 2304: "RGBA32"}
#: the ending of nnU-Net's first channel file of a case (``spleen_2_0000.nii.gz``)
FIRST_CHANNEL = "_0000"
LABEL_INTENT = 1002  # NIFTI_INTENT_LABEL: the values are labels
#: the header's ``descrip``: 80 characters, where a label volume says the key that made it
DESCRIP = slice(148, 228)
READ_CHUNK = 1 << 24  # bytes of a gzipped volume decompressed at a time
DEFLATE_RATIO = 1032  # the most bytes deflate makes of one byte (zlib's technical details)
#: the two files of an Analyze 7.5 or NIfTI pair, its header and its voxels: not read
PAIR_ENDINGS = (".hdr", ".img")
#: what a pair is converted to, one file unetlab reads
PAIR_CONVERSION = (
    ".nii.gz (nibabel: nib.save(nib.load('x.hdr'), 'x.nii.gz'); ITK-SNAP or 3D Slicer: "
    "open the .hdr, save as .nii.gz)"
)
#: micrometres in the spatial unit of a header's ``xyzt_units`` (its low 3 bits: nifti1.h's
#: NIFTI_UNITS_METER, _MM, _MICRON); 0, unknown (nibabel's default header), read as mm as
#: ITK and SimpleITK read it (nnU-Net's spacing): it gave no pixel size, so µm tables (s72)
SPACE_UNITS_UM = {0: 1e3, 1: 1e6, 2: 1e3, 3: 1.0}

#: the ``xyzt_units`` spatial code of a header that names no unit (read as mm)
UNKNOWN_UNIT = 0


def is_nifti(path: str | os.PathLike) -> bool:
    """True for a file named as a NIfTI volume (``.nii``, ``.nii.gz``, any letter case)."""
    return str(path).lower().endswith(NIFTI_ENDINGS)


def nifti_stem(path: str | os.PathLike) -> str:
    """The name of a NIfTI volume less its ending: ``spleen_2`` of ``spleen_2.nii.gz``."""
    name = os.path.basename(os.fspath(path))  # (no Path: asked of every volume listed)
    ending = next(e for e in reversed(NIFTI_ENDINGS) if name.lower().endswith(e))
    return name[: -len(ending)]


def nifti_case(path: str | os.PathLike) -> str:
    """The case a NIfTI volume is of, as nnU-Net names its predictions and label volumes: its
    name less its ending and nnU-Net's first channel's ``_0000`` (``spleen_2`` of
    ``spleen_2_0000.nii.gz`` and of ``spleen_2.nii.gz``: :func:`case_channel`)."""
    stem = nifti_stem(path)
    found = case_channel(stem)
    return found[0] if found and found[1] == FIRST_CHANNEL[1:] else stem


#: nnU-Net's channel ending of an image file's name (``case_0000``): the case, the channel
_CHANNEL = re.compile(r"(.+)_(\d{4})")


def case_channel(stem: str) -> tuple[str, str] | None:
    """(case, channel digits) of a volume's name less its ending where it ends as nnU-Net
    names a case's channel files (``spleen_2_0001``: ``spleen_2``, ``"0001"``); None where
    it does not (``spleen_2``, ``_0000``). The one rule of a case's name: of a label or
    prediction (:func:`nifti_case`), of a channel file (:func:`~unetlab.data.nifti_channels.
    channel_of`), of an image of a data set (:func:`~unetlab.data.decathlon.case_of`)."""
    found = _CHANNEL.fullmatch(stem)
    return (found.group(1), found.group(2)) if found else None


def pair_header(path: str | os.PathLike) -> Path | None:
    """The header (``.hdr``) of the Analyze / NIfTI pair ``path`` is a file of: itself, or
    for an ``.img`` the ``.hdr`` of its name beside it (an ``.img`` alone may be of another
    format); None for other files."""
    path = Path(path)
    ending = path.suffix.lower()
    if ending not in PAIR_ENDINGS:
        return None
    if ending == PAIR_ENDINGS[0]:
        return path
    return next((h for h in map(path.with_suffix, (".hdr", ".HDR")) if h.is_file()), None)


def pair_line(path: str | os.PathLike) -> str | None:
    """The one line for a file of an Analyze / NIfTI pair (:func:`pair_header`), which
    unetlab does not read, naming the conversion; None for other files."""
    head = pair_header(path)
    if head is None:
        return None
    return (
        f"{path}: a file of an Analyze / NIfTI pair ({head.name} + {head.stem}.img), which "
        f"unetlab does not read: convert the pair to {PAIR_CONVERSION}"
    )


@dataclass(frozen=True)
class NiftiHeader:
    """What unetlab uses of a NIfTI-1 header: ``raw`` its 348 bytes; ``order`` '<' or '>';
    ``shape`` (X, Y, Z[, T]) as stored; ``dtype`` numpy's; ``offset`` where the voxels
    start; ``slope``, ``inter`` the images' scaling (1 and 0 where the header sets none);
    ``spacing`` (x, y, z) in the header's units (mm for CT)."""

    raw: bytes
    order: str
    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int
    slope: float
    inter: float
    spacing: tuple[float, ...]

    @property
    def affine(self) -> np.ndarray:
        """4x4 voxel (x, y, z) to RAS mm (:func:`~unetlab.data.nifti_affine.header_affine`)."""
        return header_affine(self.raw, self.order)

    @property
    def size(self) -> tuple[int, int, int, int]:
        """(slices, H, W, channels) as :func:`read_volume` gives it."""
        x, y, z, *rest = (*self.shape, 1, 1)[:4]
        return z, y, x, int(np.prod(rest))


def read_header(path: str | os.PathLike) -> NiftiHeader:
    """The header of the NIfTI-1 volume ``path`` (its first 348 bytes, decompressed where
    gzipped); ImageReadError naming the file and the fix for anything else."""
    path = Path(path)
    return parse_header(_read_bytes(path, HEADER), path)


def parse_header(raw: bytes, path: Path) -> NiftiHeader:
    """:class:`NiftiHeader` of the bytes ``raw`` that begin ``path``."""
    if len(raw) < 4:
        raise ImageReadError(f"{path}: {len(raw)} bytes, no NIfTI header: copy the file again")
    order = _byte_order(raw, path)
    if len(raw) < HEADER:
        raise ImageReadError(f"{path}: its NIfTI header is cut off: copy the file again")
    if raw[344:347] not in (b"n+1", b"ni1"):
        raise ImageReadError(f"{path}: not a NIfTI-1 file (no 'n+1' magic); {_SAVE}")
    if raw[344:347] == b"ni1":
        raise ImageReadError(
            f"{path}: a NIfTI header whose voxels are in a .img beside it; {_SAVE}"
        )
    dim = struct.unpack_from(order + "8h", raw, 40)
    code = struct.unpack_from(order + "h", raw, 70)[0]
    pixdim = struct.unpack_from(order + "8f", raw, 76)
    offset, slope, inter = struct.unpack_from(order + "3f", raw, 108)
    if not 1 <= dim[0] <= 7 or any(n < 1 for n in dim[1 : dim[0] + 1]):
        raise ImageReadError(f"{path}: its NIfTI header gives no volume (dim {list(dim)}); {_SAVE}")
    if dim[0] > 4 and any(n > 1 for n in dim[5 : dim[0] + 1]):
        raise ImageReadError(f"{path}: a {dim[0]}-D NIfTI volume; unetlab reads 2-D to 4-D ones")
    shape = tuple(int(n) for n in dim[1 : min(dim[0], 4) + 1])
    dtype = np.dtype(order + _numpy_type(code, path))
    start, scale = _voxels_start(offset, path), _scaling(slope, inter, path)
    return NiftiHeader(bytes(raw[:HEADER]), order, shape, dtype, start, *scale, pixdim[1:4])


def nifti_pixel_size(path: str | os.PathLike) -> tuple[tuple[float, float], float | None] | None:
    """((y, x) pixel size, z spacing) in µm of the NIfTI-1 volume ``path``: its voxel size
    (pixdim) in the unit its ``xyzt_units`` names (m, mm, µm: :data:`SPACE_UNITS_UM`; mm
    where it names none); None where a side is no positive number; no z spacing for a 2-D volume's
    slice. To float32's 7 digits (a CT's 0.8 mm is 800 µm, not 800.0000119)."""
    return header_pixel_size(read_header(path))


def header_pixel_size(head: NiftiHeader) -> tuple[tuple[float, float], float | None] | None:
    """:func:`nifti_pixel_size` of a volume's header ``head``."""
    per = SPACE_UNITS_UM.get(head.raw[123] & 7)
    sides = [
        float(f"{s * per:.7g}") if per and math.isfinite(s) and s > 0 else None
        for s in head.spacing
    ]
    x, y, z = sides
    if x is None or y is None:
        return None
    return (y, x), (planes_apart(z, header_tilt(head)) if len(head.shape) >= 3 else None)


def header_tilt(head: NiftiHeader) -> float:
    """The degrees a volume's slice step leans off its planes' normal, by its affine (a
    tilted CT gantry's sheared sform; :func:`~unetlab.data.nifti_affine.slice_tilt`)."""
    return slice_tilt(head.affine)


def planes_apart(z: float | None, tilt: float) -> float | None:
    """A volume's z spacing ``z`` (pixdim's: its step along the slice axis) as the distance
    of its planes, the step times the cosine of its ``tilt`` (degrees) where that is over
    :data:`~unetlab.data.nifti_affine.TILT_TOLERANCE`: a voxel's volume |det(affine)|
    (review s73: a 20 degree tilt gave a liver's volume in mm3 6.4% over)."""
    if z is None or tilt <= TILT_TOLERANCE:
        return z
    return float(f"{z * math.cos(math.radians(tilt)):.7g}")


def header_length_unit(head: NiftiHeader) -> str:
    """The unit (a key of :data:`unetlab.inference.measure.UNITS`) a volume's objects tables
    give its sizes in: "um" where its header's xyzt_units says µm, else "mm", a CT's or an
    MRI's (its 0.8 mm pixels gave area_um2 of 640000 each, volume_um3 of 1.6e9: s72)."""
    return "um" if head.raw[123] & 7 == 3 else "mm"


def names_no_unit(head: NiftiHeader) -> bool:
    """Whether a volume's header names no spatial unit (xyzt_units 0), its pixdim read as mm."""
    return head.raw[123] & 7 == UNKNOWN_UNIT


_SAVE = "save it as a single-file NIfTI-1 .nii or .nii.gz (3D Slicer, ITK-SNAP: Save as)"


def _voxels_start(offset: float, path: Path) -> int:
    """Where the voxels of a single-file NIfTI-1 begin: its vox_offset, refused where it is no
    byte past the header (a damaged header: NaN, negative, within the 352 bytes)."""
    if not math.isfinite(offset) or offset < HEADER + 4:
        raise ImageReadError(
            f"{path}: its NIfTI header puts the voxels at byte {offset:g} (vox_offset), not past "
            f"the {HEADER + 4}-byte header: the header is damaged; copy or save the file again"
        )
    return int(offset)


def _scaling(slope: float, inter: float, path: Path) -> tuple[float, float]:
    """(slope, inter) an image's voxels are scaled by: (1, 0), none, where ``slope`` is 0 or
    not finite (nifti1.h scales by a non-zero slope; nibabel reads such voxels unscaled);
    a non-finite ``inter`` of a slope refused, as nibabel refuses it."""
    if slope == 0 or not math.isfinite(slope):
        return 1.0, 0.0
    if not math.isfinite(inter):
        raise ImageReadError(
            f"{path}: its NIfTI header scales the voxels by scl_slope {slope:g} and scl_inter "
            f"{inter}: the header is damaged; set scl_inter to the intercept (0 for none)"
        )
    return float(slope), float(inter)


def _byte_order(raw: bytes, path: Path) -> str:
    """'<' or '>' by the header's first field (348 in either order); NIfTI-2 refused."""
    for order in "<>":
        size = struct.unpack_from(order + "i", raw, 0)[0]
        if size == HEADER:
            return order
        if size == NIFTI2_HEADER:
            raise ImageReadError(
                f"{path}: a NIfTI-2 file, which unetlab does not read; save it as NIfTI-1 "
                "(nibabel: nib.Nifti1Image(img.dataobj, img.affine).to_filename(...))"
            )
    raise ImageReadError(f"{path}: not a NIfTI-1 file (its first field is no 348); {_SAVE}")


def _numpy_type(code: int, path: Path) -> str:
    if code in DATATYPES:
        return DATATYPES[code]
    kind = KINDS.get(code, f"datatype {code}")
    raise ImageReadError(
        f"{path}: NIfTI voxels of {kind}, which unetlab does not read; save the volume as "
        "integers or float32 (one value a voxel)"
    )


def read_volume(path: str | os.PathLike, *, mask: bool = False) -> np.ndarray:
    """The NIfTI-1 volume ``path`` as (Z, Y, X) or (Z, Y, X, C) (a 4-D volume's 4th axis,
    MSD's MRI modalities, as channels): dtype as stored, an image's ``scl_slope`` and
    ``scl_inter`` applied (as float32) where set; a ``mask``'s values as they are, a float
    one's as integers (refused where not whole numbers)."""
    path = Path(path)
    head = read_header(path)
    count = math.prod(head.shape)
    data = _read_bytes(path, head.offset + count * head.dtype.itemsize)
    held = (len(data) - head.offset) // head.dtype.itemsize
    if held < count:
        raise ImageReadError(
            f"{path}: cut off: its header gives {count:,} voxels, the file holds {max(held, 0):,}; "
            "copy the file again"
        )
    voxels = np.frombuffer(data, head.dtype, count, head.offset).reshape(head.shape, order="F")
    native = head.dtype.newbyteorder("=")  # one copy: byte order and (Z, Y, X) at once
    volume = np.ascontiguousarray(_zyx(voxels), dtype=native)
    if mask:
        return _whole(volume, path)
    if (head.slope, head.inter) != (1.0, 0.0):
        scaled = volume.astype(np.float32)
        scaled *= np.float32(head.slope)
        scaled += np.float32(head.inter)
        return scaled
    return volume


def _zyx(voxels: np.ndarray) -> np.ndarray:
    """(X, Y, Z[, C]) as (Z, Y, X[, C]); a 2-D volume as one slice."""
    zyxc = voxels.reshape((*voxels.shape, 1, 1)[:4]).transpose(2, 1, 0, 3)
    return zyxc[..., 0] if zyxc.shape[3] == 1 else zyxc


def _whole(volume: np.ndarray, path: Path) -> np.ndarray:
    """A label volume's values as integers (many are saved as floats: MSD's are float64)."""
    if volume.dtype.kind in "iu":
        return volume
    if not np.all(np.isfinite(volume)) or np.any(volume != np.round(volume)):
        raise ImageReadError(
            f"{path}: a label volume of values that are not whole numbers; save its class "
            "values (0 background, 1, 2, ...) as integers"
        )
    top = float(volume.max(initial=0))
    low = float(volume.min(initial=0))
    kind = np.uint8 if low >= 0 and top < 256 else np.int32
    return volume.astype(kind)


def _read_bytes(path: Path, wanted: int) -> bytes:
    """The first ``wanted`` bytes of ``path``, decompressed where it is gzipped (by its
    first bytes, whatever its name); fewer where it holds fewer; one line for a broken
    gzip stream or an unreadable file."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":  # a plain file: no more than it holds asked for
                return f.seek(0) or f.read(min(wanted, os.fstat(f.fileno()).st_size))
        with gzip.open(path, "rb") as f:
            if wanted <= DEFLATE_RATIO * os.path.getsize(path):  # it may hold them: at once
                return f.read(wanted)
            return _read_up_to(f, wanted)  # a damaged header's 32767 ** 3 voxels
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ImageReadError(
            f"{path}: its gzip data are cut off or damaged ({exc}); copy the file again"
        ) from exc
    except IsADirectoryError as exc:
        raise ImageReadError(f"{path}: is a folder, not a NIfTI file") from exc
    except FileNotFoundError as exc:
        raise ImageReadError(f"{path}: no such file") from exc


def _read_up_to(f, wanted: int) -> bytearray:
    """Up to ``wanted`` bytes of the stream ``f``, read a chunk at a time: more than the
    stream can hold costs no more memory than it holds."""
    data = bytearray()
    while len(data) < wanted and (chunk := f.read(min(READ_CHUNK, wanted - len(data)))):
        data += chunk
    return data


#: NIfTI's datatype code of each label dtype (:func:`~unetlab.data.large_ids.label_dtype`)
LABEL_CODES = {np.dtype(np.uint8): 2, np.dtype(np.uint16): 512}


def write_labels_like(
    path: str | os.PathLike, labels: np.ndarray, like: str | os.PathLike, *, key: str | None = None
) -> Path:
    """Write ``labels`` (Z, Y, X) integers as a NIfTI-1 label volume ``path`` (gzipped where
    it ends ``.gz``) with the header of the volume ``like`` (its qform, sform, spacing and
    units: it overlays that image), uint8 (uint16 above 255), unscaled, atomically; its
    ``descrip`` the ``key`` of the record that made it, where given (:data:`KEY_NOTE`)."""
    head = read_header(like)
    z, y, x, _ = head.size
    if labels.shape != (z, y, x):
        raise ValueError(f"labels of shape {labels.shape} for a volume of (Z, Y, X) {(z, y, x)}")
    return _write_labels(path, labels, head, key)


def write_labels_at(
    path: str | os.PathLike, labels: np.ndarray, affine: np.ndarray, *, key: str | None = None
) -> Path:
    """Write ``labels`` (Z, Y, X) integers as a NIfTI-1 label volume ``path`` whose voxel
    (x, y, z) lies at ``affine`` (4x4, to RAS mm: a DICOM series', :mod:`unetlab.data.dicom`)
    in its sform and qform, spacing in mm, as :func:`write_labels_like` writes them."""
    raw = bytearray(HEADER)
    struct.pack_into("<i", raw, 0, HEADER)
    write_affine(raw, "<", np.asarray(affine, np.float64))
    z, y, x = labels.shape
    spacing = tuple(struct.unpack_from("<3f", raw, 80))
    head = NiftiHeader(bytes(raw), "<", (x, y, z), np.dtype("u1"), 352, 1.0, 0.0, spacing)
    return _write_labels(path, labels, head, key)


def _write_labels(path, labels: np.ndarray, head: NiftiHeader, key: str | None) -> Path:
    z, y, x = labels.shape
    kind = label_dtype(int(labels.max(initial=0)))
    raw = _label_header(head, (x, y, z), LABEL_CODES[kind], kind.itemsize * 8, key)
    voxels = np.asarray(labels, np.dtype(kind).newbyteorder(head.order))  # the header's order
    body = raw + b"\0" * 4 + voxels.transpose(2, 1, 0).tobytes(order="F")
    path = Path(path)
    if path.name.lower().endswith(".gz"):
        body = gzip.compress(body, compresslevel=6, mtime=0)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(body)
    return path


def _label_header(head: NiftiHeader, shape: tuple, code: int, bits: int, key) -> bytes:
    """``head``'s bytes for a 3-D label volume of ``shape``, in its byte order (a big-endian
    header's other fields, the affine's, are kept as they are), its ``descrip`` saying the
    record ``key`` where given."""
    raw, order = bytearray(head.raw), head.order
    if key is not None:  # a rerun after a kill -9 tells its own file by it (s73 fix)
        raw[DESCRIP] = f"{KEY_NOTE} {key}".encode("ascii").ljust(80, b"\0")[:80]
    struct.pack_into(order + "8h", raw, 40, 3, *shape, 1, 1, 1, 1)
    struct.pack_into(order + "3h", raw, 68, LABEL_INTENT, code, bits)
    struct.pack_into(order + "3f", raw, 108, 352.0, 0.0, 0.0)  # vox_offset, no scaling
    struct.pack_into(order + "2f", raw, 124, 0.0, 0.0)  # cal_max, cal_min: the viewer's own
    raw[344:348] = b"n+1\0"
    return bytes(raw)


def carried_nifti_key(path: str | os.PathLike) -> str | None:
    """The record key a label volume unetlab wrote carries (its header's ``descrip``:
    :data:`~unetlab.data.mrc.KEY_NOTE`, :func:`write_labels_like`); None where it has none
    (another program's volume) or no header. OSError where it cannot be read."""
    try:
        raw = _read_bytes(Path(path), HEADER)
    except ImageReadError:  # a gzip stream cut off in its header: not written to the end
        return None
    return noted_key(raw[DESCRIP])

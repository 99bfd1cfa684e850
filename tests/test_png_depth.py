"""16-bit colour PNGs (what OpenCV saves of a 3-channel uint16 array) are read with their 16
bits: Pillow alone keeps each sample's high byte (a 12-bit camera's 0-4095 read as 0-15)."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from unetlab.data.colour import colour_file
from unetlab.data.io import frame_alphas, read_image, read_mask
from unetlab.errors import ImageReadError

COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, ...)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(row: bytes, prior: bytes, bpp: int, kind: int) -> bytes:
    """One scanline filtered by ``kind`` (0 none, 1 sub, 2 up, 3 average, 4 Paeth)."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prior[i], (prior[i - bpp] if i >= bpp else 0)
        guess = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        out.append((x - guess) % 256)
    return bytes([kind]) + bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _filtered_rows(array: np.ndarray) -> bytes:
    """The rows of (H, W[, C]) uint16, filtered by each of the 5 filters in turn."""
    channels = 1 if array.ndim == 2 else array.shape[2]
    rows = [array[y].astype(">u2").tobytes() for y in range(array.shape[0])]
    prior, data = bytes(len(rows[0])), b""
    for y, row in enumerate(rows):
        data += _filtered(row, prior, 2 * channels, y % 5)
        prior = row
    return zlib.compress(data)


def write_png16(path, array: np.ndarray, *later: np.ndarray) -> None:
    """A 16-bit PNG of (H, W[, C]) uint16, its rows filtered by each of the 5 filters in turn
    (the left neighbour 2 x C bytes away: decoding with the wrong pixel width fails); with
    ``later`` arrays, an animated PNG (APNG) of them as its further whole frames."""
    h, w = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    header = struct.pack(">IIBBBBB", w, h, 16, COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    if later:  # acTL (frames, plays), then fcTL (seq, w, h, x, y, delay, dispose, blend)
        chunks.append(_chunk(b"acTL", struct.pack(">II", 1 + len(later), 0)))
        chunks.append(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, w, h, 0, 0, 1, 10, 0, 0)))
    chunks.append(_chunk(b"IDAT", _filtered_rows(array)))
    for k, frame in enumerate(later):
        control = struct.pack(">IIIIIHHBB", 2 * k + 1, w, h, 0, 0, 1, 10, 0, 0)
        chunks.append(_chunk(b"fcTL", control))
        chunks.append(_chunk(b"fdAT", struct.pack(">I", 2 * k + 2) + _filtered_rows(frame)))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _chunk(b"IEND", b""))


@pytest.fixture
def pixels():
    rng = np.random.default_rng(0)
    array = rng.integers(0, 65536, (10, 7, 4)).astype(np.uint16)
    array[::3] = rng.integers(0, 4096, (4, 7, 4))  # 12-bit rows: all below 256 after >> 8
    return array


@pytest.mark.parametrize("channels", [3, 4])
def test_a_16_bit_colour_png_is_read_with_its_16_bits(tmp_path, pixels, channels):
    write_png16(tmp_path / "a.png", pixels[..., :channels])
    image = read_image(tmp_path / "a.png")
    assert image.dtype == np.uint16  # was uint8, the high bytes
    np.testing.assert_array_equal(image, pixels[..., :3])  # the alpha dropped, as at 8 bits
    assert colour_file(tmp_path / "a.png") is True


def test_a_16_bit_grey_and_alpha_png_is_read_grey(tmp_path, pixels):
    """Pillow opens it as 8-bit RGBA: it was read as 3 equal 8-bit channels."""
    write_png16(tmp_path / "a.png", pixels[..., :2])
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), pixels[..., 0])
    assert colour_file(tmp_path / "a.png") is False
    assert frame_alphas(tmp_path / "a.png")[0].shape == (10, 7)


def test_a_16_bit_grey_rgb_mask_keeps_its_ids(tmp_path):
    """An instance map saved as 3 equal 16-bit channels: ids 256 apart were one id."""
    ids = (np.arange(70).reshape(10, 7) * 300).astype(np.uint16)
    write_png16(tmp_path / "m.png", np.repeat(ids[..., None], 3, axis=-1))
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), ids)


def _colour_mask16(tmp_path, rgb16: np.ndarray):
    """A 16-bit RGB mask beside a table of 8-bit colours: cyan 1, yellow 2, green 3, blue 4."""
    (tmp_path / "class_colors.txt").write_text(
        "0 0 0 background\n0 255 255 cyan\n255 255 0 yellow\n0 255 0 green\n0 0 255 blue\n"
    )
    write_png16(tmp_path / "m.png", rgb16)
    return tmp_path / "m.png"


def test_a_16_bit_colour_mask_of_8_bit_colours_reads_their_classes(tmp_path):
    """8-bit colours at 16 bits (v * 257, as converters write; or stored as they are): the
    table's keys (R << 16 | G << 8 | B) took 16-bit green (0, 65535, 0) for yellow (255,
    255, 0) and 16-bit blue for cyan, silently; red was 'not in class_colors.txt: add it'."""
    greens = np.array([[[0, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint16)
    for scale, values in ((257, [0, 3, 4]), (1, [0, 3, 4])):
        path = _colour_mask16(tmp_path, greens * scale)
        np.testing.assert_array_equal(read_mask(path), [values])


def test_a_16_bit_colour_mask_of_other_colours_is_one_line(tmp_path):
    """Colours a table of 8-bit colours cannot hold are refused naming a pixel and the fix,
    not matched to another colour's class."""
    rgb = np.array([[[0, 0, 0], [0, 300, 0]]], np.uint16)
    with pytest.raises(ImageReadError, match=r"\(0, 300, 0\) at pixel x=1, y=0.*8-bit"):
        read_mask(_colour_mask16(tmp_path, rgb))


def test_a_16_bit_rgba_image_notes_its_transparent_pixels(tmp_path):
    """Its alpha is dropped as an 8-bit one's is, which is noted; it was dropped unsaid."""
    from unetlab.data.io import read_stack
    from unetlab.data.read_notes import read_notes

    rgba = np.full((8, 6, 4), 1000, np.uint16)
    rgba[:4, :, 3], rgba[4:, :, 3] = 0, 65535
    write_png16(tmp_path / "a.png", rgba)
    with read_notes() as notes:
        read_stack(tmp_path / "a.png")
        read_stack(tmp_path / "a.png", mask=True)  # a mask notes nothing, as at 8 bits
    assert notes.transparent == {str(tmp_path / "a.png"): 0.5}


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_a_16_bit_colour_animated_png_is_one_line(tmp_path, pixels, channels):
    """Its frames were read through Pillow's 8-bit path, their high bytes only, unsaid;
    Pillow composes an APNG's frames at 8 bits, so they are refused naming the fix."""
    from unetlab.data.io import read_stack, stack_shape

    write_png16(tmp_path / "a.png", pixels[..., :channels], pixels[::-1, :, :channels])
    with Image.open(tmp_path / "a.png") as im:
        assert im.n_frames == 2  # the writer makes an APNG Pillow reads
    for read in (lambda p: read_stack(p, frames=True), lambda p: stack_shape(p, frames=True)):
        with pytest.raises(ImageReadError, match=r"a\.png: a 16-bit colour animated PNG.*TIFF"):
            read(tmp_path / "a.png")

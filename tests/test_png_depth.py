"""16-bit colour PNGs (what OpenCV saves of a 3-channel uint16 array) are read with their 16
bits: Pillow alone keeps each sample's high byte (a 12-bit camera's 0-4095 read as 0-15)."""

import struct
import zlib

import numpy as np
import pytest

from unetlab.data.colour import colour_file
from unetlab.data.io import frame_alphas, read_image, read_mask

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


def write_png16(path, array: np.ndarray) -> None:
    """A 16-bit PNG of (H, W[, C]) uint16, its rows filtered by each of the 5 filters in turn
    (the left neighbour 2 x C bytes away: decoding with the wrong pixel width fails)."""
    h, w = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    rows = [array[y].astype(">u2").tobytes() for y in range(h)]
    prior, data = bytes(len(rows[0])), b""
    for y, row in enumerate(rows):
        data += _filtered(row, prior, 2 * channels, y % 5)
        prior = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 16, COLOUR_TYPES[channels], 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


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

"""A PNG output's record key is read from its text chunks without decoding its pixels
(:func:`unetlab.data.png_chunks.read_png_text`): Pillow's ``Image.text`` decoded the whole
image (as long as a full read) for each output ``--skip-existing``,
predict's folder checks and ``evaluate --pred`` looked at. A truncated or damaged file still
gives no key."""

from __future__ import annotations

import json
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from unetlab.data.io import write_png
from unetlab.data.png_chunks import read_png_text
from unetlab.errors import ImageReadError
from unetlab.inference.records import TIFF_KEY, embedded_key

KEY = "0123456789ab-cdef0123"
TEXT = {TIFF_KEY: json.dumps({"key": KEY, "note": "µm²"}), "other": "x"}


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _written(tmp_path, kind: str):
    """A PNG as predict writes it (:func:`write_png`, text before the image data)."""
    labels = (np.arange(40 * 30).reshape(40, 30) % 5).astype(np.uint8)
    path = tmp_path / f"{kind}.png"
    if kind == "palette":
        write_png(path, labels, palette=np.eye(5, 3, dtype=np.uint8) * 255, text=TEXT)
    elif kind == "grey16":
        write_png(path, labels.astype(np.uint16) * 1000, text=TEXT)
    elif kind == "rgb":
        write_png(path, np.stack([labels] * 3, axis=-1) * 50, text=TEXT)
    else:
        write_png(path, labels, text=TEXT)
    return path


@pytest.mark.parametrize("kind", ["grey8", "grey16", "palette", "rgb"])
def test_the_key_of_predicts_pngs_round_trips(tmp_path, kind):
    path = _written(tmp_path, kind)
    assert embedded_key(path) == KEY
    with Image.open(path) as im:
        assert read_png_text(path) == dict(im.text)


def test_the_pixels_are_not_decoded(tmp_path, monkeypatch):
    path = _written(tmp_path, "grey16")

    def no_decoder(*args, **kwargs):
        raise AssertionError("the image data was decoded")

    monkeypatch.setattr(Image, "_getdecoder", no_decoder)
    assert embedded_key(path) == KEY


def test_text_after_the_image_data_is_read_compressed_or_not(tmp_path):
    plain = tmp_path / "plain.png"
    write_png(plain, np.zeros((20, 20), np.uint8))
    data = plain.read_bytes()
    record = json.dumps({"key": KEY}).encode()
    after = (
        _chunk(b"tEXt", b"latin\0caf\xe9")
        + _chunk(b"zTXt", b"squeezed\0\0" + zlib.compress(b"small"))
        + _chunk(b"iTXt", b"note\0\1\0en\0\0" + zlib.compress("µm".encode()))
        + _chunk(b"iTXt", TIFF_KEY.encode() + b"\0\0\0\0\0" + record)
    )
    path = tmp_path / "after.png"
    path.write_bytes(data[:-12] + after + data[-12:])  # before IEND
    assert embedded_key(path) == KEY
    with Image.open(path) as im:
        assert read_png_text(path) == dict(im.text)
    assert read_png_text(path)["latin"] == "café"


def _cut(data: bytes) -> dict[str, bytes]:
    idat = data.index(b"IDAT") - 4
    flipped_pixels, flipped_text = bytearray(data), bytearray(data)
    flipped_pixels[idat + 12] ^= 0x10
    flipped_text[idat - 10] ^= 0x01
    return {
        "in the image data": data[: idat + 20],
        "before the image data": data[:idat],
        "in the text": data[:60],
        "without IEND": data[:-12],
        "a pixel byte flipped": bytes(flipped_pixels),
        "a text byte flipped": bytes(flipped_text),
        "empty": b"",
        "not a PNG": b"not a PNG file\n" * 4,
    }


DAMAGES = [
    "in the image data",
    "before the image data",
    "in the text",
    "without IEND",
    "a pixel byte flipped",
    "a text byte flipped",
    "empty",
    "not a PNG",
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_truncated_or_damaged_png_gives_no_key(tmp_path, damage):
    path = tmp_path / "damaged.png"
    path.write_bytes(_cut(_written(tmp_path, "grey8").read_bytes())[damage])
    assert embedded_key(path) is None
    with pytest.raises(ImageReadError, match="damaged.png: (truncated|broken|not a) PNG"):
        read_png_text(path)


def test_a_damaged_chunk_length_is_refused_before_it_is_read(tmp_path):
    """A length field of 4 GB in a 100-byte file: read into 4 GB before (a MemoryError where
    memory is short, which embedded_key did not catch), refused as truncated now."""
    data = _written(tmp_path, "grey8").read_bytes()
    path = tmp_path / "damaged.png"
    path.write_bytes(data[:8] + struct.pack(">I", 0xFFFFFFF0) + data[12:])
    tracemalloc.start()
    try:
        with pytest.raises(ImageReadError, match="truncated PNG file .in its b'IHDR' chunk"):
            read_png_text(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert embedded_key(path) is None

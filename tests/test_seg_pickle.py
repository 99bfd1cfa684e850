"""cellpose's X_seg.npy read without unpickling it (s72 review 1: a crafted file got past the
restricted unpickler, an object dtype whose state said it held no objects, and numpy took
the file's bytes as object pointers: a segfault, or an object in memory given back; 2,000
random damages raised MemoryError, OverflowError, SystemError, RuntimeError)."""

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import unetlab
from tests.test_npy import write_seg
from unetlab.data.io import read_stack, stack_size
from unetlab.errors import ImageReadError

SRC = str(Path(unetlab.__file__).parents[1])


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _dtype(descr: str, order: str, flags: int) -> bytes:
    """numpy's pickle of a dtype, its state's flags as given (numpy's own: 63 for objects)."""
    return (
        _global("numpy", "dtype")
        + b"X"
        + len(descr).to_bytes(4, "little")
        + descr.encode()
        + b"\x89\x88\x87R(K\x03X\x01\x00\x00\x00"
        + order.encode()
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK"
        + bytes([flags])
        + b"tb"
    )


def _array(dtype: bytes, data: bytes, shape=()) -> bytes:
    """numpy's pickle of an array: _reconstruct(ndarray, (0,), b'b') and its state."""
    dims = b"".join(b"K" + bytes([n]) for n in shape)
    return (
        _global("numpy._core.multiarray", "_reconstruct")
        + _global("numpy", "ndarray")
        + b"K\x00\x85C\x01b\x87R(K\x01("
        + dims
        + b"t"
        + dtype
        + b"\x89B"
        + len(data).to_bytes(4, "little")
        + data
        + b"tb"
    )


def _seg_file(path: Path, pickled: bytes) -> Path:
    """A .npy of an object array's header (as np.save writes a dict) and ``pickled``."""
    np.save(path, {"masks": 1}, allow_pickle=True)
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
    path.write_bytes(path.read_bytes()[:offset] + b"\x80\x04" + pickled + b".")
    return path


#: an object array whose dtype's state says it holds no objects (flags 0), its "pointer"
#: 0x4141414141414141: what made numpy follow the file's bytes as an object's address
POINTER = _array(_dtype("O8", "|", 0), b"A" * 8)


def _run(script: str, *args) -> subprocess.CompletedProcess:
    """``script`` in a Python of its own (a segfault ends it, not the tests)."""
    command = [sys.executable, "-c", textwrap.dedent(script), *map(str, args)]
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


READ_EACH = """
    import sys
    from unetlab.data.io import read_stack
    from unetlab.errors import ImageReadError
    for path in sys.argv[1:]:
        try:
            read_stack(path, mask=True)
        except ImageReadError as e:
            print(e)
"""


@pytest.mark.slow  # seconds in a process of its own; CI runs slow tests
def test_object_arrays_of_bytes_are_refused_in_one_line(tmp_path):
    """The review's exploit (the pointer), numpy's own object dtype over bytes, and the
    pointer as a dict's masks, read in a process of their own: one line each naming the
    file, never a segfault (the unpickler's: rc -11) nor a traceback."""
    own = _array(_dtype("O8", "|", 63), b"A" * 8)
    in_dict = b"}X\x05\x00\x00\x00masks" + POINTER + b"s"
    files = [_seg_file(tmp_path / f"{i}_seg.npy", p) for i, p in enumerate((POINTER, own, in_dict))]
    done = _run(READ_EACH, *files)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == list(map(str, files))
    assert all("not loaded" in line for line in lines)


FUZZ = """
    import sys
    from pathlib import Path
    import numpy as np
    from unetlab.data.io import read_stack, stack_size
    from unetlab.errors import ImageReadError
    from unetlab.inference.slides import is_large

    def damaged(good, path, count):
        rng, read = np.random.default_rng(72), 0
        for i in range(count):
            data = bytearray(good)
            for _ in range(rng.integers(1, 4)):  # the header (its first 128 bytes) every other
                data[rng.integers(0, 128 if i % 2 else len(data))] = rng.integers(0, 256)
            path.write_bytes(bytes(data[: None if i % 7 else rng.integers(0, len(data))]))
            for ask in (stack_size, lambda p: read_stack(p, mask=True), is_large):
                try:
                    ask(path)
                    read += 1
                except ImageReadError as e:
                    assert "\\n" not in str(e) and str(e).startswith(str(path)), str(e)
        return read

    for good, count, name in zip(*[iter(sys.argv[1:])] * 3):
        print(damaged(Path(good).read_bytes(), Path(good).with_name(name), int(count)))
"""


@pytest.mark.slow  # seconds in a process of its own; CI runs slow tests
def test_damaged_seg_files_and_npy_headers_are_each_one_line(tmp_path):
    """2,000 copies of a cellpose file and 600 of a plain .npy, each with 1 to 3 random
    bytes changed (in the header every other; 1 in 7 cut short too): each read (its size,
    masks, predict's stream rule) gives its masks or one line naming the file, no crash,
    no other error (the review's: MemoryError, OverflowError, SystemError, RuntimeError;
    numpy's header reader's SyntaxError, TokenError, TypeError). In a process of its own:
    a segfault fails the test."""
    masks = np.zeros((12, 10), np.uint16)
    masks[2:5, 2:5], masks[6:9, 1:4] = 1, 2
    write_seg(tmp_path / "seg.npy", masks)
    np.save(tmp_path / "plain.npy", np.ones((12, 10), "<u2"))
    args = (tmp_path / "seg.npy", 2000, "x_seg.npy", tmp_path / "plain.npy", 600, "a.npy")
    done = _run(FUZZ, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(int(n) > 0 for n in done.stdout.split())  # some damage leaves it readable


def _numpy1(path: Path, held: dict) -> Path:
    """``held`` as numpy 1's np.save pickles it: protocol 3, numpy.core's names."""
    pickled = pickle.dumps(np.array(held, object), protocol=3)
    pickled = pickled.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"numpy._core" not in pickled
    return _seg_file(path, pickled[2:-1])


def test_numpy_1s_seg_file_reads_as_numpy_2s(tmp_path):
    """A cellpose file numpy 1 saved (numpy.core's names; numpy 2 has numpy._core), big-endian
    masks and Fortran order too: the same masks."""
    masks = np.asfortranarray(np.arange(40 * 48, dtype=">u4").reshape(40, 48) % 7)
    held = {"masks": masks, "flows": [np.zeros((2, 40, 48), "f4")], "diameter": np.float32(3)}
    seg = _numpy1(tmp_path / "x_seg.npy", held)
    ours = read_stack(seg, mask=True)
    np.testing.assert_array_equal(ours, masks[None])
    assert ours.dtype.isnative and stack_size(seg) == (1, 40, 48, 1)


def test_no_pickle_is_unpickled(tmp_path, monkeypatch):
    """Neither pickle's unpicklers nor numpy's array rebuilding ever see the file."""

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    masks = np.arange(12, dtype=np.uint16).reshape(3, 4)
    seg = write_seg(tmp_path / "x_seg.npy", masks, extra={"a", "b"}, z=1j, n=None)
    for name in ("Unpickler", "_Unpickler", "load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    from numpy._core import multiarray

    monkeypatch.setattr(multiarray, "_reconstruct", refuse)
    np.testing.assert_array_equal(read_stack(seg, mask=True), masks[None])


@pytest.mark.parametrize(
    ("masks", "said"),
    [
        (np.ones((4, 4), "f4"), "holds no cellpose masks"),
        (np.ones(4, np.uint16), "holds no cellpose masks"),
        (np.ones((4, 4), "M8[s]"), "asks for a dtype 'M8'"),
    ],
)
def test_masks_of_no_integers_are_refused(tmp_path, masks, said):
    seg = write_seg(tmp_path / "x_seg.npy", np.ones((4, 4), np.uint16))
    np.save(seg, {"masks": masks}, allow_pickle=True)
    with pytest.raises(ImageReadError, match=said):
        read_stack(seg, mask=True)


CUT_MEANWHILE = """
    import os, sys
    from unetlab.data import npy
    from unetlab.data.io import read_stack
    from unetlab.errors import ImageReadError

    interpret = npy.seg_values

    def then_cut(f, start):  # cellpose's GUI saving the file again as it is read
        value = interpret(f, start)
        os.truncate(sys.argv[1], start + 200)
        return value

    npy.seg_values = then_cut
    try:
        read_stack(sys.argv[1], mask=True)
    except ImageReadError as e:
        print(e)
"""


def test_a_file_cut_short_as_its_masks_are_read_is_one_line(tmp_path):
    """s72 re-review 1: cellpose's GUI saves X_seg.npy again in place (np.save truncates it);
    read from a memory map, the masks' pages past the new end killed the process (SIGBUS,
    rc -7). Read from the file, a short read is one line."""
    seg = write_seg(tmp_path / "x_seg.npy", np.ones((256, 256), np.uint16))
    done = _run(CUT_MEANWHILE, seg)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    said = f"{seg}: a damaged cellpose file (it ends early); save it again from cellpose's GUI"
    assert done.stdout.strip() == said


def _masks_file(path: Path, held: dict) -> Path:
    """``held`` pickled as np.save pickles a dict (numpy 2's protocol 4)."""
    return _seg_file(path, pickle.dumps(np.array(held, object), protocol=4)[2:-1])


def _one_line(path: Path) -> str:
    with pytest.raises(ImageReadError) as e:
        stack_size(path)
    with pytest.raises(ImageReadError):
        read_stack(path, mask=True)
    line = str(e.value)
    assert line.startswith(f"{path}: ") and "\n" not in line and len(line) < 400, line[:500]
    return line


def test_keys_other_than_strings_are_refused(tmp_path):
    """s72 re-review 2: dict keys that are ints all hashing to 0 (multiples of 2**61 - 1)
    made a 760 KB file take 12 s a read; only strings (salted hashes) are keys."""
    seg = _masks_file(tmp_path / "x_seg.npy", {"masks": np.ones((4, 4), "u2"), 2**61 - 1: 0})
    assert "a key of type int" in _one_line(seg)


def test_a_pickle_of_too_many_opcodes_is_refused(tmp_path):
    """s72 re-review 2: 10 million EMPTY_SETs took 2.5 GB; past 100,000 opcodes is refused."""
    seg = _seg_file(tmp_path / "x_seg.npy", b"\x8f0" * 60_000 + b"}")
    assert "more than 100,000 opcodes" in _one_line(seg)


def _shape_of(dims: bytes, data: bytes = b"") -> bytes:
    """A dict whose masks (uint16) have the shape ``dims`` pickles."""
    uint16 = pickle.dumps(np.dtype("<u2"), protocol=3)[2:-1]
    return (
        b"}X\x05\x00\x00\x00masks"
        + _global("numpy._core.multiarray", "_reconstruct")
        + _global("numpy", "ndarray")
        + b"K\x00\x85C\x01b\x87R(K\x01"
        + dims
        + uint16
        + b"\x89C"
        + bytes([len(data)])
        + data
        + b"tbs"
    )


@pytest.mark.parametrize(
    "dims",
    [
        b")" + b"\x85" * 20_000 + b"K\x01\x86",  # an axis a tuple 20,000 deep
        b"K\x00\x8a\x40" + (2**500).to_bytes(64, "little") + b"\x86",  # (0, 2**500)
        b"K\x00\x8a\x08" + (2**62).to_bytes(8, "little") + b"\x86",  # longer than the file
        b"J\xff\xff\xff\xffK\x00\x86",  # (-1, 0)
    ],
    ids=["nested", "0-by-2**500", "longer-than-file", "negative"],
)
def test_shapes_numpy_cannot_make_are_one_line(tmp_path, dims):
    """s72 re-review 3: a nested tuple as an axis (RecursionError in the message's repr), a
    shape of no items but a 155-digit axis (numpy's "maximum allowed dimension exceeded")."""
    seg = _seg_file(tmp_path / "x_seg.npy", _shape_of(dims))
    assert "an array's shape numpy never writes" in _one_line(seg)


def test_masks_of_empty_shape_still_read(tmp_path):
    """The shape checks pass what numpy writes: masks of (0, 5) read as they are."""
    seg = _seg_file(tmp_path / "x_seg.npy", _shape_of(b"K\x00K\x05\x86"))
    assert stack_size(seg)[1:3] == (0, 5)


@pytest.mark.parametrize(
    ("value", "old", "new"),
    [
        (np.str_("a"), b"a\x00\x00\x00", b"\xff\xff\xff\xff"),  # SystemError in numpy
        (np.bytes_(b""), None, None),  # itemsize 0: numpy's ValueError
        (np.bytes_(b"ab"), None, None),
    ],
    ids=["U1", "S0", "S2"],
)
def test_scalars_of_strings_are_refused(tmp_path, value, old, new):
    """s72 re-review 3: a numpy scalar of strings had numpy take the file's bytes as
    characters (U1 of ff ff ff ff: SystemError; S0: ValueError): numbers only."""
    pickled = pickle.dumps(np.array({"masks": np.ones((4, 4), "u2"), "s": value}, object), 4)
    if old is not None:
        pickled = pickled.replace(old, new)
    seg = _seg_file(tmp_path / "x_seg.npy", pickled[2:-1])
    assert "a numpy scalar of kind" in _one_line(seg)


def test_a_long_name_is_clipped_in_the_message(tmp_path):
    """s72 re-review 3: a file's values went into messages whole (a 10 MB name, a line of
    10 million characters); clipped to 60 characters."""
    name = b"n" * 1_000_000
    pickled = b"X" + len(name).to_bytes(4, "little") + name + b"X\x01\x00\x00\x00b\x93"
    seg = _seg_file(tmp_path / "x_seg.npy", pickled)
    assert f"{'n' * 60}..." in _one_line(seg)


def test_a_dtype_state_numpy_never_writes_is_refused(tmp_path):
    """README: a dtype whose state is not numpy's own for it is refused; uint16 masks whose
    dtype's state says flags 63 (an object dtype's) are (s72 re-review 4: untested)."""
    masks = _array(_dtype("u2", "<", 63), b"\x01\x00" * 4, (2, 2))
    seg = _seg_file(tmp_path / "x_seg.npy", b"}X\x05\x00\x00\x00masks" + masks + b"s")
    assert "a state of dtype u2 numpy never writes" in _one_line(seg)
    ours = _array(_dtype("u2", "<", 0), b"\x01\x00" * 4, (2, 2))  # numpy's own: read
    seg = _seg_file(tmp_path / "y_seg.npy", b"}X\x05\x00\x00\x00masks" + ours + b"s")
    np.testing.assert_array_equal(read_stack(seg, mask=True), np.ones((1, 2, 2)))


def test_a_scalar_of_objects_is_refused(tmp_path):
    """numpy's scalar() of an object dtype over the file's bytes (a pointer) is refused
    (s72 re-review 4: untested)."""
    scalar = (
        _global("numpy._core.multiarray", "scalar")
        + _dtype("O8", "|", 63)
        + b"C\x08"
        + b"A" * 8
        + b"\x86R"
    )
    seg = _seg_file(tmp_path / "x_seg.npy", b"}X\x01\x00\x00\x00s" + scalar + b"s")
    assert "a numpy scalar of kind O" in _one_line(seg)

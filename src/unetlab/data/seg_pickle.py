"""cellpose's ``X_seg.npy`` read without unpickling it: its ``masks`` (:func:`masks_of`,
:func:`read_stored`).

cellpose's GUI saves its masks in a pickled dict (``np.save(f, dict, allow_pickle=True)``).
Unpickling calls whatever functions a pickle names, and a restricted unpickler that allows
numpy's own array rebuilding still gives the file's bytes to numpy, which a crafted dtype
state makes take them as object pointers (s72 review: a segfault; an object in memory given
back). So no pickle is unpickled here: its opcodes (those of ``np.save``'s pickles: protocol
3 in numpy 1, 4 in numpy 2) are interpreted by :class:`_Machine`, which makes plain values
only: numbers, strings, lists, tuples, dicts, sets, and numpy's arrays as :class:`Stored` (a
dtype made from a checked descriptor whose state is numpy's own for it, a shape, where its
bytes lie in the file). Any other function, opcode or state is refused (:class:`Refused`);
an array of objects is a list of its items, never made by numpy. Only the masks' bytes are
read (a 2048 x 2048 file's flows, most of its 130 MB, are skipped: 9 ms a read, not 67), from
the open file, never a memory map: cellpose's GUI saves the file again in place (np.save
truncates it) and a mapped page past its new end kills the process (SIGBUS), where a read
comes back short (Refused: "it ends early").
"""

from __future__ import annotations

import math
import os
import pickletools
import re
import struct
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

#: bytes of a pickle kept as bytes; longer ones are left in the file (:class:`_Span`)
SMALL_BYTES = 256
#: the longest integer (in bytes) and the most axes a cellpose file's values have
LONGEST_INT, MOST_AXES = 64, 32
#: a dtype's descriptor as numpy's pickles give it: a kind of no pointers and an item size
DESCR = re.compile(r"[biufcSUO][0-9]{1,6}")
#: the most opcodes a pickle may have (a cellpose file's have ~450): each pushes one value
#: at most, so this caps its stack and memo too (10 million EMPTY_SETs took 2.5 GB)
MOST_OPS = 100_000
#: the most characters of a file's value said in a message
SAID = 60


class Refused(Exception):
    """Why the pickle is not read, in words: what it asks for that no cellpose file holds
    (``unsafe``: a function or opcode, never run), or a damage."""

    def __init__(self, reason: str, *, unsafe: bool = False):
        super().__init__(reason)
        self.unsafe = unsafe


class Stored:
    """An ndarray of the pickle: its ``dtype`` (None till its state is read), ``shape``,
    ``fortran`` order and bytes (``data``: bytes, or a :class:`_Span` of the file); an
    array of objects: ``items``, its values."""

    __slots__ = ("dtype", "shape", "fortran", "data", "items")

    def __init__(self):
        self.dtype, self.shape, self.fortran, self.data, self.items = None, (), False, b"", None


class _Span:
    """Bytes of the pickle left in the file: ``start`` to ``stop``."""

    __slots__ = ("start", "stop")

    def __init__(self, start: int, stop: int):
        self.start, self.stop = start, stop


class _DType:
    """A numpy dtype of the pickle: its descriptor (``'u2'``), ``dtype`` once its state is
    read (:func:`_fill_dtype`)."""

    __slots__ = ("descr", "dtype")

    def __init__(self, descr: str):
        self.descr, self.dtype = descr, None


class _Function:
    """A function the pickle names: ``role`` (:data:`FUNCTIONS`) and its ``name``."""

    __slots__ = ("role", "name")

    def __init__(self, role: str, name: str):
        self.role, self.name = role, name


#: the functions a cellpose file names (numpy 1's module names and numpy 2's), by role;
#: none is called: each role is made by :data:`CALLS`
FUNCTIONS = {
    **{(m, "_reconstruct"): "array" for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "scalar"): "scalar" for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    **{("builtins", n): n for n in ("set", "frozenset", "complex")},
}
#: the values a dict key or a set item may be: strings, whose hashes Python salts (ints
#: that are multiples of 2**61 - 1 all hash to 0: 40,000 such keys took 12 s a read)
KEYS = (str,)


def seg_values(f: BinaryIO, start: int) -> object:
    """The value the pickle in the open file ``f`` from ``start`` makes, as plain values and
    :class:`Stored` arrays (their bytes not read); Refused for anything else."""
    return _Machine(f, start).run()


def masks_of(value: object) -> Stored | None:
    """The ``masks`` array of a cellpose file's value (a dict, in an array of objects as
    ``np.save`` stores it): of integers or booleans, two axes or more; else None."""
    if isinstance(value, Stored) and value.items is not None and len(value.items) == 1:
        value = value.items[0]
    masks = value.get("masks") if isinstance(value, dict) else None
    if not isinstance(masks, Stored) or masks.dtype is None or masks.items is not None:
        return None
    return masks if masks.dtype.kind in "iub" and len(masks.shape) >= 2 else None


def read_stored(f: BinaryIO, stored: Stored) -> np.ndarray:
    """The array ``stored`` of the pickle in the open file ``f``, in the machine's byte
    order; Refused where the file now ends before its bytes (saved again meanwhile)."""
    if isinstance(stored.data, bytes):  # read-only: copied by astype
        flat, fresh = np.frombuffer(stored.data, stored.dtype), False
    else:
        flat, fresh = np.empty(math.prod(stored.shape), stored.dtype), True
        f.seek(stored.data.start)
        _read_into(f, memoryview(flat.view(np.uint8)))
    arr = flat.reshape(stored.shape, order="F" if stored.fortran else "C")
    return arr.astype(stored.dtype.newbyteorder("="), copy=not fresh)


def _read_into(f: BinaryIO, view: memoryview) -> None:
    done = 0
    while done < len(view):
        if not (n := f.readinto(view[done:])):
            raise Refused("it ends early")
        done += n


class _Machine:
    """A pickle's stack, marks and memo, read from the open file ``f`` at ``pos`` (:meth:`run`)."""

    def __init__(self, f: BinaryIO, pos: int):
        self.f, self.pos, self.size = f, pos, os.fstat(f.fileno()).st_size
        f.seek(pos)
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}

    def run(self) -> object:
        """The value the pickle makes (its STOP's); Refused past :data:`MOST_OPS` opcodes."""
        for _ in range(MOST_OPS):
            if (code := self.take(1)[0]) == ord("."):
                return self.pop()
            op = OPS.get(code)
            if op is None:
                raise _unknown(code)
            op(self)
        raise Refused(f"more than {MOST_OPS:,} opcodes (a cellpose file's have ~450)")

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes; Refused where the file ends first."""
        self.skip(n, seek=False)
        data = self.f.read(n)
        if len(data) != n:  # cut short since it was opened
            raise Refused("it ends early")
        return data

    def skip(self, n: int, *, seek: bool = True) -> _Span:
        """The next ``n`` bytes, left in the file; Refused where the file ends first."""
        if self.pos + n > self.size:
            raise Refused("it ends early")
        if seek:
            self.f.seek(n, os.SEEK_CUR)
        self.pos += n
        return _Span(self.pos - n, self.pos)

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes at most (fewer at the file's end), not taken."""
        data = self.f.read(min(n, self.size - self.pos))
        self.f.seek(self.pos)
        return data

    def number(self, size: int, *, signed: bool = False) -> int:
        return int.from_bytes(self.take(size), "little", signed=signed)

    def pop(self) -> object:
        if not self.stack:
            raise Refused("its stack is empty")
        return self.stack.pop()

    def top(self) -> object:
        if not self.stack:
            raise Refused("its stack is empty")
        return self.stack[-1]

    def pop_mark(self) -> list:
        if not self.marks:
            raise Refused("a mark is missing")
        at = self.marks.pop()
        items = self.stack[at:]
        del self.stack[at:]
        return items


def _unknown(code: int) -> Refused:
    """:class:`Refused` for an opcode of no cellpose file: named where it is one."""
    op = pickletools.code2op.get(chr(code))
    if op is None:
        return Refused(f"byte {code:#04x} is no pickle opcode")
    return Refused(f"opcode {op.name}", unsafe=True)


def _text(m: _Machine, size: int) -> str:
    try:
        return m.take(m.number(size)).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise Refused("a string is not UTF-8") from None


def _bytes(m: _Machine, size: int) -> bytes | _Span:
    n = m.number(size)
    return m.take(n) if n <= SMALL_BYTES else m.skip(n)


def _long(m: _Machine, size: int) -> int:
    if (n := m.number(size)) > LONGEST_INT:
        raise Refused(f"an integer of {n} bytes")
    return m.number(n, signed=True)


def _key(value: object) -> object:
    if type(value) not in KEYS:
        raise Refused(f"a key of type {type(value).__name__}")
    return value


def _line(m: _Machine) -> str:
    end = m.peek(256).find(b"\n")
    if end < 0:
        raise Refused("a function's name is not ended")
    return m.take(end + 1)[:-1].decode("ascii", "replace")


def _clip(text: str) -> str:
    """``text`` (a file's) cut to :data:`SAID` characters for a message."""
    return text if len(text) <= SAID else f"{text[:SAID]}..."


def _function(module: object, name: object) -> _Function:
    """The function ``module.name`` of :data:`FUNCTIONS` (never called); Refused else."""
    if not (isinstance(module, str) and isinstance(name, str)):
        raise Refused("a function named by no string")
    role = FUNCTIONS.get((module, name))
    if role is None:
        raise Refused(_clip(f"{module}.{name}"), unsafe=True)
    return _Function(role, f"{module}.{name}")


def _set_item(m: _Machine, pairs: list) -> None:
    target = m.top()
    if not isinstance(target, dict) or len(pairs) % 2:
        raise Refused("a dict's items are not a dict's")
    target.update((_key(k), v) for k, v in zip(pairs[::2], pairs[1::2]))


def _append(m: _Machine, items: list) -> None:
    target = m.top()
    if not isinstance(target, list):
        raise Refused("a list's items are not a list's")
    target.extend(items)


def _add(m: _Machine, items: list) -> None:
    target = m.top()
    if not isinstance(target, set):
        raise Refused("a set's items are not a set's")
    target.update(map(_key, items))


def _reduce(m: _Machine) -> None:
    args, function = m.pop(), m.pop()
    if not isinstance(function, _Function) or not isinstance(args, tuple):
        raise Refused("a call of no function")
    make = CALLS.get(function.role)
    if make is None:
        raise Refused(f"a call of {function.name}", unsafe=True)
    m.stack.append(make(m, args))


def _new_array(m: _Machine, args: tuple) -> Stored:
    """numpy's ``_reconstruct(ndarray, (0,), b'b')``: an array its state fills."""
    ndarray = args[0] if len(args) == 3 else None
    if not (isinstance(ndarray, _Function) and ndarray.role == "ndarray"):
        raise Refused("an array of no ndarray")
    if args[1:] != ((0,), b"b"):
        raise Refused("an array made otherwise than numpy makes one")
    return Stored()


def _new_dtype(m: _Machine, args: tuple) -> _DType:
    """numpy's ``dtype('u2', False, True)``: a dtype its state fills."""
    if len(args) != 3 or args[1:] != (False, True) or not isinstance(args[0], str):
        raise Refused("a dtype made otherwise than numpy makes one")
    if not DESCR.fullmatch(args[0]):
        raise Refused(f"a dtype {_clip(args[0])!r}", unsafe=True)
    return _DType(args[0])


def _scalar(m: _Machine, args: tuple) -> object:
    """numpy's ``scalar(dtype, bytes)``: a number (a dtype of numbers: no strings, whose
    bytes numpy would take as characters, nor objects)."""
    dtype = _dtype_of(args[0] if len(args) == 2 else None)
    if dtype.kind not in "biufc":
        raise Refused(f"a numpy scalar of kind {dtype.kind}", unsafe=True)
    if not isinstance(args[1], bytes) or len(args[1]) != dtype.itemsize:
        raise Refused("a numpy scalar of the wrong size")
    return np.frombuffer(args[1], dtype)[0]


def _made(kind: type) -> Callable[[_Machine, tuple], object]:
    """builtins' ``set([...])`` or ``frozenset([...])`` of plain values."""

    def make(m: _Machine, args: tuple) -> object:
        if len(args) != 1 or not isinstance(args[0], list):
            raise Refused(f"a {kind.__name__} of no list")
        return kind(map(_key, args[0]))

    return make


def _complex(m: _Machine, args: tuple) -> complex:
    if len(args) != 2 or not all(type(a) in (int, float) for a in args):
        raise Refused("a complex number of no numbers")
    return complex(*args)


def _build(m: _Machine) -> None:
    """BUILD: the state of an array or a dtype the pickle made; of nothing else."""
    state, target = m.pop(), m.top()
    if isinstance(target, Stored) and target.dtype is None:
        _fill_array(target, state, m.size)
    elif isinstance(target, _DType) and target.dtype is None:
        target.dtype = _filled_dtype(target.descr, state)
    else:
        raise Refused(f"a state for a {type(target).__name__}", unsafe=True)


def _filled_dtype(descr: str, state: object) -> np.dtype:
    """The dtype ``descr`` in the byte order of ``state``, where ``state`` is the state
    numpy pickles that dtype with (its flags, sizes: no other); Refused else."""
    order = state[1] if isinstance(state, tuple) and len(state) == 8 else None
    if order not in ("<", ">", "|"):
        raise Refused(f"a state of dtype {descr} numpy never writes", unsafe=True)
    try:
        dtype = np.dtype(descr)
    except TypeError:
        raise Refused(f"a dtype {descr!r}") from None
    dtype = dtype if order == "|" else dtype.newbyteorder(order)
    if dtype.__reduce__()[2] != state:
        raise Refused(f"a state of dtype {descr} numpy never writes", unsafe=True)
    return dtype


def _dtype_of(value: object) -> np.dtype:
    if not isinstance(value, _DType) or value.dtype is None:
        raise Refused("an array of no dtype")
    return value.dtype


def _fill_array(target: Stored, state: object, size: int) -> None:
    """An array's state, numpy's ``(1, shape, dtype, fortran, data)``: its bytes (a
    dtype's of numbers), or the list of its items (of objects); its shape one a file of
    ``size`` bytes can hold (:func:`_shape_fits`)."""
    if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
        raise Refused("an array's state numpy never writes", unsafe=True)
    _, shape, dtype, fortran, data = state
    if not _shape_fits(shape, size) or type(fortran) is not bool:
        raise Refused("an array's shape numpy never writes")
    dtype, count = _dtype_of(dtype), math.prod(shape)
    if dtype.kind == "O" and not (isinstance(data, list) and len(data) == count):
        raise Refused("an array of objects stored otherwise than as a list", unsafe=True)
    if dtype.kind != "O" and _size(data) != count * dtype.itemsize:
        raise Refused(f"an array of shape {shape} whose bytes are not as many")
    target.shape, target.fortran = shape, fortran
    target.items, target.data = (data, b"") if dtype.kind == "O" else (None, data)
    target.dtype = dtype


def _shape_fits(shape: object, size: int) -> bool:
    """Whether ``shape`` is at most :data:`MOST_AXES` whole numbers >= 0 whose product (its
    zeros left out) is at most ``size``, the file's bytes: an array of no items may not
    say (0, 2**500), which numpy cannot make."""
    if not isinstance(shape, tuple) or len(shape) > MOST_AXES:
        return False
    if not all(type(n) is int and 0 <= n <= size for n in shape):
        return False
    return math.prod(n for n in shape if n) <= size


def _size(data: object) -> int | None:
    if isinstance(data, _Span):
        return data.stop - data.start
    return len(data) if isinstance(data, bytes) else None


def _memo_get(m: _Machine, index: int) -> None:
    if index not in m.memo:
        raise Refused(f"memo {index} is not set")
    m.stack.append(m.memo[index])


def _memo_put(m: _Machine, index: int) -> None:
    m.memo[index] = m.top()


def _push(make: Callable[[_Machine], object]) -> Callable[[_Machine], None]:
    return lambda m: m.stack.append(make(m))


def _mark(m: _Machine) -> None:
    m.marks.append(len(m.stack))


def _dict(m: _Machine) -> None:
    items = m.pop_mark()
    m.stack.append({})
    _set_item(m, items)


def _tuple(n: int) -> Callable[[_Machine], None]:
    return _push(lambda m: tuple(reversed([m.pop() for _ in range(n)])))


def _stack_global(m: _Machine) -> None:
    name, module = m.pop(), m.pop()
    m.stack.append(_function(module, name))


#: what each function of :data:`FUNCTIONS` makes, by role (``ndarray`` is called by none)
CALLS = {
    "array": _new_array,
    "dtype": _new_dtype,
    "scalar": _scalar,
    "set": _made(set),
    "frozenset": _made(frozenset),
    "complex": _complex,
}

_CONSTANTS = {"N": None, "\x88": True, "\x89": False}
#: the opcodes ``np.save``'s pickles use (protocol 3, numpy 1's; 4, numpy 2's), by code
OPS: dict[int, Callable[[_Machine], None]] = {
    0x80: lambda m: m.take(1),  # PROTO
    0x95: lambda m: m.take(8),  # FRAME: its opcodes follow, as they are
    ord("("): _mark,
    ord("0"): lambda m: m.pop(),
    ord("1"): lambda m: m.pop_mark(),
    ord("2"): _push(lambda m: m.top()),
    **{ord(c): _push(lambda m, v=v: v) for c, v in _CONSTANTS.items()},
    ord("J"): _push(lambda m: m.number(4, signed=True)),
    ord("K"): _push(lambda m: m.number(1)),
    ord("M"): _push(lambda m: m.number(2)),
    0x8A: _push(lambda m: _long(m, 1)),
    0x8B: _push(lambda m: _long(m, 4)),
    ord("G"): _push(lambda m: struct.unpack(">d", m.take(8))[0]),
    0x8C: _push(lambda m: _text(m, 1)),
    ord("X"): _push(lambda m: _text(m, 4)),
    0x8D: _push(lambda m: _text(m, 8)),
    ord("C"): _push(lambda m: _bytes(m, 1)),
    ord("B"): _push(lambda m: _bytes(m, 4)),
    0x8E: _push(lambda m: _bytes(m, 8)),
    ord(")"): _push(lambda m: ()),
    ord("t"): _push(lambda m: tuple(m.pop_mark())),
    **{0x84 + n: _tuple(n) for n in (1, 2, 3)},  # TUPLE1, TUPLE2, TUPLE3
    ord("]"): _push(lambda m: []),
    ord("l"): _push(lambda m: m.pop_mark()),
    ord("a"): lambda m: _append(m, [m.pop()]),
    ord("e"): lambda m: _append(m, m.pop_mark()),
    ord("}"): _push(lambda m: {}),
    ord("d"): _dict,
    ord("s"): lambda m: _set_item(m, list(reversed([m.pop(), m.pop()]))),
    ord("u"): lambda m: _set_item(m, m.pop_mark()),
    0x8F: _push(lambda m: set()),
    0x90: lambda m: _add(m, m.pop_mark()),
    0x91: _push(lambda m: frozenset(map(_key, m.pop_mark()))),
    ord("c"): _push(lambda m: _function(_line(m), _line(m))),
    0x93: _stack_global,
    ord("R"): _reduce,
    ord("b"): _build,
    0x94: lambda m: _memo_put(m, len(m.memo)),
    ord("q"): lambda m: _memo_put(m, m.number(1)),
    ord("r"): lambda m: _memo_put(m, m.number(4)),
    ord("h"): lambda m: _memo_get(m, m.number(1)),
    ord("j"): lambda m: _memo_get(m, m.number(4)),
}

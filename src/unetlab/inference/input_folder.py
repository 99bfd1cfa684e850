"""An output folder that is the inputs' own, where an input's labels would be named as the
input itself: refused naming that conflict (audit s34 messy 9: the line named labels
``img_000.tif`` where a plain TIFF's are ``img_000.png``; the later check,
:func:`unetlab.outputs.refuse_inputs`, refuses every name an output may take)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from unetlab.errors import OutputError
from unetlab.inference.slides import VOLUME_LABELS, output_stem
from unetlab.words import numbered

__all__ = ["among_inputs_line", "refuse_input_folder"]

#: the endings an input's labels take: a plane's, a stack's, a NIfTI volume's, an MRC file's
LABEL_ENDINGS = (".png", ".tif", *VOLUME_LABELS.values())


def refuse_input_folder(files: Sequence[Path], out_dir: Path, *, given: str = "out_dir") -> None:
    """OutputError if ``out_dir`` is the folder of one of ``files`` whose labels are named as
    the input (``a.png``'s are ``a.png``; ``a.tif``'s are ``a.tif`` where it is a stack or
    records a pixel size); ``given``: what the caller calls the folder (``--output``)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return
    here = out_dir.resolve()
    for f in map(Path, files):
        if f.parent.resolve() != here:
            continue
        labels = {f"{output_stem(f)}{ext}".casefold(): ext for ext in LABEL_ENDINGS}
        ext = labels.get(f.name.casefold())
        if ext is None:
            continue
        named = (
            f"may be named {f.name} (a TIFF's are a TIFF where it is a stack or records a "
            "pixel size), so predict could write over its input"
            if ext == ".tif"
            else f"are named {f.name}, so predict would write over its input"
        )
        raise OutputError(
            f"{given} {out_dir} is the folder of the inputs: the labels of {f} {named}; "
            f"give another {given} (inputs are never replaced)"
        )


def among_inputs_line(files: Sequence[Path], out_dir: Path) -> str | None:
    """The warning for an ``out_dir`` that is the folder of some of ``files`` whose labels
    are not named as they are (JPEGs' PNG labels; the others :func:`refuse_input_folder`
    refuses), or None: the labels land among their inputs, where train reads them as images
    sharing their stems (audit s37 paths F: x.png beside x.jpg, asked for with --overwrite)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return None
    here = out_dir.resolve()
    beside = [f for f in map(Path, files) if f.parent.resolve() == here]
    if not beside:
        return None
    return (
        f"{out_dir}/: the labels of the {numbered(len(beside), 'input')} there are written "
        f"among {'it' if len(beside) == 1 else 'them'}, "
        f"of the same stems (beside {beside[0].name}): train refuses images that share a stem "
        "(predict passes over its outputs); give another --output to keep them apart"
    )

"""``unetlab export``: a checkpoint as ONNX, TorchScript or a bioimage.io model package."""

from __future__ import annotations

import math
from pathlib import Path

from unetlab.cli.common import check_pixels, user_path, warn_loaded
from unetlab.errors import UnetlabError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint to ONNX, TorchScript or a bioimage.io package",
        description="Write a trained model as ONNX (logits; batch, height and width dynamic: "
        "any size, the graph mirror-pads the input to the net's next valid size and crops the "
        "output back, as unetlab predict does; a valid-padding net's output is smaller by twice "
        "its border; the printed line and the file's metadata say the rule, and the metadata "
        "the normalisation formula, the classes and their colours), TorchScript (normalised "
        "image in, class probabilities out, any size likewise) "
        "and/or a bioimage.io model package (a folder, or a .zip), then run the export and "
        "PyTorch on random inputs (two sizes, one not square) and report the largest difference.",
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        type=user_path,
        help="a unetlab checkpoint (.pt) or a bioimage.io package unetlab exported",
    )
    p.add_argument("--onnx", metavar="FILE", type=user_path, help="the ONNX file to write")
    p.add_argument(
        "--torchscript", metavar="FILE", type=user_path, help="the TorchScript file to write"
    )
    p.add_argument(
        "--bioimageio",
        metavar="DIR|ZIP",
        type=user_path,
        help="the bioimage.io model package to write (a folder, or a .zip file)",
    )
    p.add_argument("--input-size", type=int, help="traced input size (default: a small valid one)")
    p.add_argument(
        "--static",
        action="store_true",
        help="ONNX: fix the shape at 1 x C x input-size^2 instead of dynamic axes (dynamic: "
        "any batch, height and width; the graph pads to the net's next valid size inside)",
    )
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    p.add_argument("--no-check", action="store_true", help="skip the comparison with PyTorch")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --onnx/--torchscript files that unetlab did not write, and an export "
        "(the package too) of another checkpoint, a best.pt trained on since included",
    )
    _add_package_args(p.add_argument_group("bioimage.io package"))
    p.set_defaults(run=run)


def _add_package_args(b) -> None:
    """The options of ``--bioimageio`` only."""
    b.add_argument(
        "--sample",
        metavar="IMAGE",
        type=user_path,
        help="image for the test tensors and the cover (default: the first large enough "
        "image of the checkpoint's validation data, else a synthetic EM image; either is said)",
    )
    b.add_argument(
        "--name", help="model name, 5-128 letters, digits, spaces, _+-() (default: unetlab U-Net)"
    )
    b.add_argument(
        "--author", action="append", metavar="NAME", help="an author, no / or \\ (repeatable)"
    )
    b.add_argument(
        "--pixel-size",
        type=float,
        metavar="UM",
        help="pixel size in micrometres the model was trained at (the package's axes; the "
        "ONNX and TorchScript metadata's pixel_size_um)",
    )
    b.add_argument(
        "--weights",
        default="torchscript,onnx,pytorch_state_dict",
        help="weight formats, comma-separated (default: all three)",
    )


def run(args) -> int:
    from unetlab.checkpoint import load_model

    _check_args(args)
    package = _package_args(args) if args.bioimageio else None
    model = load_model(args.checkpoint)
    _check_model(model, args)
    warn_loaded(model, "export")
    _claim_outputs(args, model)  # after every check: a refusal left a record of files not written
    check = not args.no_check
    if args.onnx:
        _offset_note(model)
        _write_onnx(model, args, check)
    if args.torchscript:
        from unetlab.inference.export import write_torchscript  # claimed: _claim_outputs

        report = write_torchscript(
            model,
            args.torchscript,
            input_size=args.input_size,
            check=check,
            pixel_size=args.pixel_size,
        )
        print(report.describe())
    if package is not None:
        _write_package(model, args, package)
    _source_note(model)
    return 0


def _source_note(model) -> None:
    """Say which checkpoint the files name as their source (their metadata, the package's
    rdf.yaml and README), so that a reader can match them to it."""
    from unetlab.checkpoint import export_source, source_words

    source = export_source(model)
    if source is not None:
        print(f"source recorded in each file: checkpoint {source_words(source)}")


def _offset_note(model) -> None:
    """Say that the ONNX logits do not carry the checkpoint's label offset, if it has one."""
    from unetlab.inference.offset import describe_offset, label_offset

    if any(offset := label_offset(model)):
        print(
            f"note: the ONNX file's logits are not moved by the checkpoint's label offset "
            f"({describe_offset(offset)}; train.label_offset; its metadata says how: "
            "label_offset_formula); the TorchScript and bioimage.io outputs, unetlab predict "
            "and evaluate move them"
        )


def _write_onnx(model, args, check: bool) -> None:
    from unetlab.inference.export import write_onnx  # claimed: _claim_outputs

    report = write_onnx(
        model,
        args.onnx,
        input_size=args.input_size,
        dynamic=not args.static,
        opset=args.opset,
        check=check,
        pixel_size=args.pixel_size,
    )
    print(report.describe())


def _write_package(model, args, package) -> None:
    from unetlab.inference.bioimageio import export_bioimageio

    info, formats = package
    written = export_bioimageio(
        model,
        args.bioimageio,
        info=info,
        sample=args.sample,
        weight_formats=formats,
        opset=args.opset,
        overwrite=args.overwrite,
    )
    print(f"wrote bioimage.io package {written}")


def _check_args(args) -> None:
    """One line for a value the export cannot use, before any work."""
    if not (args.onnx or args.torchscript or args.bioimageio):
        raise UnetlabError(
            "nothing to export: give --onnx FILE, --torchscript FILE or --bioimageio DIR"
        )
    check_pixels(input_size=args.input_size)
    from unetlab.inference.export import MIN_OPSET

    if args.opset < MIN_OPSET and (args.onnx or (args.bioimageio and "onnx" in args.weights)):
        raise UnetlabError(
            f"opset {args.opset} is too old for this graph: use {MIN_OPSET} or newer"
        )
    _refuse_package_flags(args)
    size = args.pixel_size
    if size is not None and not (math.isfinite(size) and size > 0):
        raise UnetlabError(f"--pixel-size must be a positive number of micrometres, not {size}")
    _check_distinct(args)
    _check_suffixes(args)


def _refuse_package_flags(args) -> None:
    """Refuse --sample, --name or --author without --bioimageio: only the package reads
    them, and ``--onnx x.onnx --sample BAD.png`` exited 0 without a word (s51 walkbad), as
    evaluate refuses the prediction flags that --pred would ignore."""
    given = [f"--{name}" for name in ("sample", "name", "author") if getattr(args, name)]
    if given and not args.bioimageio:
        raise UnetlabError(
            f"{given[0]} is read only for a --bioimageio package (its test tensors, cover "
            "and record): drop it, or add --bioimageio DIR"
        )


def _check_suffixes(args) -> None:
    """Refuse an --onnx or --torchscript file named for another format: an ONNX file named
    m.pt was written, and read by predict as a broken checkpoint (s36 flags 9). An existing
    file is left to the claim (:func:`_claim_outputs`), which names another format's file."""
    from unetlab.outputs import FORMAT_SUFFIXES

    for flag, path, kind in (
        ("--onnx", args.onnx, "ONNX"),
        ("--torchscript", args.torchscript, "TorchScript"),
    ):
        wanted = FORMAT_SUFFIXES[kind]
        if path and Path(path).suffix.lower() not in wanted and not Path(path).exists():
            raise UnetlabError(
                f"{flag} {path}: a {kind} file's name ends in {' or '.join(wanted)}: e.g. "
                f"{flag} {Path(path).with_suffix(wanted[0])}"
            )


def _check_model(model, args) -> None:
    """Refuse, before any format is written or claimed, a model one of the asked formats
    cannot hold (so that no half of an export is left behind), and an --input-size a
    format's net does not take (the claim left a record of files not written)."""
    from unetlab.inference.export import check_input_size, probability_model

    if args.bioimageio:
        from unetlab.inference.bioimageio import check_exportable

        check_exportable(model)
    if args.onnx:
        check_input_size(model, args.input_size)
    if args.torchscript:
        check_input_size(probability_model(model), args.input_size)


def _package_args(args):
    """(PackageInfo, weight formats) of --bioimageio, refused before any work when a value
    is bad (--name, --pixel-size, --weights) or the package path holds something else."""
    from unetlab.inference.bioimageio import PackageInfo, check_package_target

    named = {"name": args.name} if args.name else {}
    authors = {"authors": tuple(args.author)} if args.author else {}
    info = PackageInfo(**named, **authors, pixel_size=args.pixel_size)
    formats = tuple(w.strip() for w in args.weights.split(",") if w.strip())
    check_package_target(args.bioimageio, formats)
    return info, formats


def _check_distinct(args) -> None:
    """Refuse two formats written to one path, or a file inside the --bioimageio folder
    (the package replaces that folder whole)."""
    named = {
        flag: Path(path).resolve()
        for flag, path in (
            ("--onnx", args.onnx),
            ("--torchscript", args.torchscript),
            ("--bioimageio", args.bioimageio),
        )
        if path
    }
    seen: dict[Path, str] = {}
    for flag, path in named.items():
        if path in seen:
            raise UnetlabError(
                f"{seen[path]} and {flag} both name {path}: give each format its own file"
            )
        seen[path] = flag
    package = named.get("--bioimageio")
    for flag in ("--onnx", "--torchscript"):
        if package is not None and flag in named and package in named[flag].parents:
            raise UnetlabError(
                f"{flag} {named[flag]} lies inside the --bioimageio folder {package}: write it "
                "elsewhere (the package replaces its folder whole)"
            )


def _claim_outputs(args, model) -> None:
    """Refuse an output that is the checkpoint, a file unetlab did not write, and an export
    (the package too) of another checkpoint (both unless --overwrite), before any is written
    (then written by write_onnx / write_torchscript, which ask no rule again: a second claim
    listed each file twice in the manifest)."""
    from unetlab.inference.export import claim_exports, refuse_other_source
    from unetlab.outputs import refuse_inputs

    formats = {f: kind for f, kind in ((args.onnx, "ONNX"), (args.torchscript, "TorchScript")) if f}
    if args.bioimageio:  # before claim_exports lists the files
        refuse_other_source([args.bioimageio], model, overwrite=args.overwrite)
    claim_exports(formats, inputs=[args.checkpoint], overwrite=args.overwrite, model=model)
    if args.bioimageio:  # and _package_args: a package it replaces is one unetlab wrote
        refuse_inputs([args.bioimageio], [args.checkpoint], command="export")

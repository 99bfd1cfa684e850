"""``unetlab export``: a checkpoint as an ONNX file, checked against PyTorch."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint to ONNX (checked against PyTorch)",
        description="Write a trained model as ONNX (dynamic batch, height and width), then run "
        "ONNX Runtime and PyTorch on a random input and report the largest difference.",
    )
    p.add_argument("--checkpoint", required=True, help="a unetlab checkpoint (.pt)")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write")
    p.add_argument("--input-size", type=int, help="traced input size (default: a small valid one)")
    p.add_argument("--static", action="store_true",
                   help="fix the shape at 1 x C x input-size^2 instead of dynamic axes")  # fmt: skip
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    p.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime comparison")
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.checkpoint import load_model
    from unetlab.inference.export import export_onnx

    model = load_model(args.checkpoint)
    report = export_onnx(
        model,
        args.onnx,
        input_size=args.input_size,
        dynamic=not args.static,
        opset=args.opset,
        check=not args.no_check,
    )
    print(report.describe())
    return 0

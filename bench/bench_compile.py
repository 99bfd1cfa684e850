"""Does ``torch.compile`` pay for its compile time here? Eager channels-last forward against
the compiled one (inductor) and a frozen, inference-optimised TorchScript trace, per preset.

    python bench/bench_compile.py [--presets small paper] [--repeat 5]

Prints one line per preset and writes bench/results/compile.json: eager seconds (before and
after compiling, to see drift), compiled seconds, the first compiled call (compile time
included) and the number of tiles after which compiling would have paid off.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.models import UNet
from unetlab.runtime import configure_threads, tune_allocator

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"paper": 572, "small": 512, "small-valid": 572}


def main() -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["small", "paper"], choices=list(SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile.json")
    args = parser.parse_args()
    tune_allocator()
    configure_threads()
    rows = []
    for preset in args.presets:
        size = SIZES[preset]
        model = UNet.from_preset(preset).eval().to(memory_format=torch.channels_last)
        x = torch.randn(1, model.in_channels, size, size).contiguous(
            memory_format=torch.channels_last
        )
        with torch.inference_mode():
            eager = bench.time_calls(lambda: model(x), repeat=args.repeat).median_s  # noqa: B023
            compiled = torch.compile(model)
            start = time.perf_counter()
            compiled(x)
            first = time.perf_counter() - start
            fast = bench.time_calls(lambda: compiled(x), repeat=args.repeat).median_s  # noqa: B023
            again = bench.time_calls(lambda: model(x), repeat=args.repeat).median_s  # noqa: B023
        with torch.no_grad():  # TorchScript: trace, freeze, optimize_for_inference (oneDNN)
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))
            scripted = bench.time_calls(lambda: frozen(x), repeat=args.repeat).median_s  # noqa: B023
        gain = min(eager, again) - fast
        row = {
            "what": "torch.compile",
            "preset": preset,
            "size": size,
            "eager_seconds": round(eager, 4),
            "eager_seconds_after": round(again, 4),
            "compiled_seconds": round(fast, 4),
            "first_call_seconds": round(first, 2),
            "torchscript_frozen_seconds": round(scripted, 4),
            "tiles_to_break_even": round((first - fast) / gain) if gain > 0 else None,
        }
        rows.append(row)
        print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    bench.save_rows(args.out, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

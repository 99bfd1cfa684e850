"""``unetlab env``: unetlab's version and commit, Python, torch (its devices and threads), the
packages unetlab reads and writes with, and the machine, as run folders record them: what a
bug report needs (audit s30 ops 6)."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "env",
        help="print the versions and the machine, for a bug report",
        description="Print unetlab's version (and git commit, from a checkout), Python, "
        "torch with its devices and threads, the packages unetlab uses, the CPU (model, "
        "AVX2 / AVX-512 / AMX flags) and the OS: the code and machine records of a run "
        "folder's history.yaml, without a run.",
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.provenance import environment

    found = environment()
    print(json.dumps(found, indent=1) if args.json else "\n".join(describe(found)))
    return 0


def describe(found: dict) -> list[str]:
    """The lines of :func:`unetlab.provenance.environment`'s record, one a topic."""
    from unetlab.provenance import describe_code

    code, machine, devices = found["code"], found["machine"], found["torch"]
    packages = found["packages"]
    gpus = ", ".join(devices["gpus"]) or "none"
    cuda = f"CUDA {devices['cuda']}, cuDNN {devices['cudnn']}" if devices["cuda_available"] else ""
    flags = machine["cpu_flags"]
    return [
        f"{describe_code(code)} at {code['package']}",
        f"python {code['python']} ({code['executable']})",
        f"torch {code['torch']}: GPUs {gpus}{f' ({cuda})' if cuda else ''}; MPS "
        f"{'yes' if devices['mps_available'] else 'no'}; CPU kernels "
        f"{devices['cpu_capability']}, bf16 native {'yes' if devices['bf16_native_cpu'] else 'no'}"
        f"; {devices['threads']} threads ({devices['interop_threads']} inter-op)",
        "packages: " + ", ".join(f"{name} {version or '-'}" for name, version in packages.items()),
        f"cpu {machine['cpu']} ({machine['cpus']} CPUs; flags "
        f"{' '.join(flags) if flags else 'none of AVX2 / AVX-512 / AMX' if flags == [] else 'unknown'})",
        f"os {machine['os']}",
    ]

"""What made a run: the code (unetlab's version, and its git commit when it is imported from a
checkout) and the machine (CPU model, threads, GPU). Run folders and checkpoints record them,
since every commit of unetlab reports the same version number while its defaults and presets
change.

The commit is read from the checkout's ``.git`` folder without running git; whether the
package's files differ from it (``dirty``) needs ``git status``, and is None (unknown) where
git cannot be run. Nothing here fails for want of git.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from unetlab.errors import in_command

PACKAGE = Path(__file__).resolve().parent
_SHA = re.compile(r"^[0-9a-f]{40}$")


def now() -> str:
    """The time, to the second, in ISO 8601 with the UTC offset."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def command_line(argv: list[str] | None = None) -> str:
    """The command (``sys.argv``), shell-quoted so that it can be pasted back. Run as
    ``python -m unetlab``, whose ``sys.argv[0]`` is the package's ``__main__.py`` (a file no
    shell runs: "Permission denied", audit s35 workshop 2), it is recorded as ``python -m
    unetlab`` (this Python's name: ``python3`` here); the console script's path as it is."""
    if argv is None and (launched := os.environ.get(COMMAND_ENV)):
        return launched  # --nproc's processes: the command the user ran, --nproc in it
    words = list(sys.argv if argv is None else argv)
    if words and _is_package_main(words[0]):
        words[:1] = _launcher_program() or _python_m()
    return shell_command(*words)


#: the environment variable that tells ``--nproc``'s processes (started as ``python -m
#: unetlab`` by torchrun) the program the user ran, for the commands they print and record
PROGRAM_ENV = "UNETLAB_PROGRAM"
#: the command the user ran, for ``--nproc``'s processes to record (theirs lack ``--nproc``:
#: history.yaml and config.yaml recorded a run of two processes as one's, s51 walkcluster)
COMMAND_ENV = "UNETLAB_COMMAND"


def program() -> list[str]:
    """The words that run unetlab as the user ran it, as :func:`command_line` records them:
    ``["python3", "-m", "unetlab"]`` under ``python -m unetlab`` (a user whose ``unetlab``
    script is not on PATH), else ``["unetlab"]`` (the console script; also from Python, a
    notebook: a shell command); in a process ``--nproc`` started, the launching process's
    (:data:`PROGRAM_ENV`)."""
    if launched := _launcher_program():
        return launched
    return _python_m() if sys.argv and _is_package_main(sys.argv[0]) else ["unetlab"]


def _launcher_program() -> list[str] | None:
    """The program of the process that started this one with ``--nproc`` (:data:`PROGRAM_ENV`),
    or None."""
    value = os.environ.get(PROGRAM_ENV)
    return shlex.split(value) if value else None


def _python_m() -> list[str]:
    """How ``python -m unetlab`` is recorded and printed: this Python's name (``python3``)."""
    return [Path(sys.executable).name or "python", "-m", "unetlab"]


def unetlab_command(*words: object) -> str:
    """A unetlab command for the user to paste back (``unetlab train --run-dir R --resume``),
    its program as this process's (:func:`program`), each word shell-quoted."""
    return shell_command(*program(), *words)


def _is_package_main(program: str) -> bool:
    """Whether ``program`` (``sys.argv[0]``) is unetlab's ``__main__.py`` (``python -m``)."""
    path = Path(program)
    return path.name == "__main__.py" and path.parent.name == "unetlab"


def command_with(given: str | os.PathLike, instead: str | os.PathLike) -> str | None:
    """The command the user ran (:func:`command_line`) with the path ``given`` (a word, or a
    ``--flag=`` word's value) replaced by ``instead`` (relative where it was typed so), to
    paste back; None where no word of it names ``given``, or outside a command (the API)."""
    words, found = shlex.split(command_line()), False
    for k, word in enumerate(words):
        flag, equals, value = word.rpartition("=") if word.startswith("--") else ("", "", word)
        if value and os.path.abspath(value) == os.path.abspath(given):
            typed = instead if os.path.isabs(value) else os.path.relpath(instead)
            words[k], found = f"{flag}{equals}{typed}", True
    return shell_command(*words) if found and in_command() else None


def shell_command(*words: object) -> str:
    """A command for the user to paste back, each word shell-quoted: a path with a space or
    accents stays one word (audit s35 workshop 1). Words are ``str()``-ed (paths, counts)."""
    return shlex.join(str(word) for word in words)


#: the code identity of the process that started this one with ``--nproc``, as JSON: every
#: output of one launch carries one record (s75: each process ran ``git status`` itself,
#: one timed out under load: a PNG's record ``"dirty": null``, its neighbour's ``false``)
CODE_ENV = "UNETLAB_CODE"


@functools.cache
def code_identity() -> dict:
    """``{"unetlab": version, "commit": sha or None, "dirty": bool or None, "torch": ...,
    "numpy": ..., "python": ...}``: commit and dirty are None for an installed (not
    checked-out) package; dirty is None too where git cannot be run. In a process
    ``--nproc`` started: the launching process's (:data:`CODE_ENV`), found once for all."""
    if launched := _launcher_code():
        return launched
    import numpy as np
    import torch

    from unetlab import __version__

    checkout = checkout_of(PACKAGE)
    commit = read_commit(checkout / ".git") if checkout else None
    return {
        "unetlab": __version__,
        "commit": commit,
        "dirty": package_dirty(checkout, PACKAGE) if commit else None,
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _launcher_code() -> dict | None:
    """The code identity the launching process handed this one (:data:`CODE_ENV`), or None
    (none handed, or not a record of one)."""
    try:
        code = json.loads(os.environ.get(CODE_ENV) or "null")
    except ValueError:
        return None
    return code if isinstance(code, dict) and "unetlab" in code else None


def describe_code(code: dict) -> str:
    """``unetlab 0.1.0 (git 1a2b3c4d5e6f, with uncommitted changes)``."""
    text = f"unetlab {code['unetlab']}"
    if code.get("commit"):
        dirty = {True: ", with uncommitted changes", False: "", None: ", changes unknown"}
        text += f" (git {code['commit'][:12]}{dirty[code.get('dirty')]})"
    return text


def checkout_of(package: Path) -> Path | None:
    """The git work tree that holds ``package`` as its ``src/<name>`` or ``<name>`` folder
    (an editable install), or None (installed into site-packages, or no checkout)."""
    for root in (package.parent.parent, package.parent):
        if (root / ".git").exists() and (root / "pyproject.toml").is_file():
            return root
    return None


def read_commit(dot_git: Path) -> str | None:
    """The commit that ``HEAD`` of the repository at ``dot_git`` names (a ``.git`` folder, or
    the ``gitdir:`` file of a worktree), read from its files; None if unreadable."""
    try:
        git_dir = _git_dir(dot_git)
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.match(head):  # detached
            return head
        if not head.startswith("ref: "):
            return None
        return _resolve_ref(git_dir, head.removeprefix("ref: ").strip())
    except (OSError, UnicodeDecodeError):
        return None


def _git_dir(dot_git: Path) -> Path:
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        target = dot_git.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
        return (dot_git.parent / target).resolve()
    return dot_git


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    """The sha of ``ref`` (``refs/heads/main``): its loose file, else packed-refs; a
    worktree's refs live in its common folder."""
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    for folder in dict.fromkeys((git_dir, common)):
        loose = folder / ref
        if loose.is_file():
            sha = loose.read_text(encoding="utf-8").strip()
            return sha if _SHA.match(sha) else None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _SHA.match(sha):
                return sha
    return None


def package_dirty(checkout: Path, package: Path) -> bool | None:
    """Whether the files of ``package`` in the ``checkout`` differ from its commit (changed,
    added or removed; files git ignores aside), by ``git status``; None where git cannot be
    run. Takes no lock, so a git command running beside it is not disturbed."""
    command = ["git", "--no-optional-locks", "-C", str(checkout), "status", "--porcelain"]
    try:
        done = subprocess.run(
            [*command, "--", str(package.relative_to(checkout))],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


#: Linux's description of the CPUs (model name, flags)
CPUINFO = "/proc/cpuinfo"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what Python knows of it."""
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


#: the CPU flags (``/proc/cpuinfo``) that decide how fast torch runs a U-Net here: AVX2
#: and AVX-512 for fp32, AVX512-BF16 and AMX for bf16 (runtime.supports_bf16)
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_flags() -> list[str] | None:
    """Which of :data:`SPEED_FLAGS` this CPU has (``/proc/cpuinfo``), or None where that is
    not known (not Linux)."""
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    have = set(value.split())
                    return [flag for flag in SPEED_FLAGS if flag in have]
    except OSError:
        pass
    return None


def version_line() -> str:
    """``unetlab 0.1.0 (git 1a2b3c4d5e6f, with uncommitted changes)``: the version and, from
    a checkout, its commit (read without torch) and whether the package's files differ from
    it (:func:`package_dirty`: "changes unknown" where git cannot say), for ``--version``;
    ``unetlab env`` says more."""
    from unetlab import __version__

    checkout = checkout_of(PACKAGE)
    commit = read_commit(checkout / ".git") if checkout else None
    dirty = package_dirty(checkout, PACKAGE) if commit else None
    return describe_code({"unetlab": __version__, "commit": commit, "dirty": dirty})


def machine(device=None) -> dict:
    """The machine a run trains on: CPU model, its speed flags (:func:`cpu_flags`) and
    count, OS, torch's thread count and, for a CUDA ``device``, the GPU's name, CUDA and
    cuDNN versions and cuDNN's determinism flags."""
    import torch

    found = {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpus": os.cpu_count(),
        "os": platform.platform(),
        "threads": torch.get_num_threads(),
        "gpu": None,
    }
    device = torch.device(device) if device is not None else None
    if device is not None and device.type == "cuda":
        found.update(
            gpu=torch.cuda.get_device_name(device),
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
            cudnn_deterministic=torch.backends.cudnn.deterministic,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
        )
    return found


#: the packages whose versions a bug report names (``unetlab env``), the optional ones too
PACKAGES = (
    "torch", "numpy", "tifffile", "zarr", "imagecodecs", "scipy", "scikit-image", "Pillow",
    "PyYAML", "tqdm", "matplotlib", "onnx", "onnxruntime",
)  # fmt: skip


def environment() -> dict:
    """What a bug report needs (``unetlab env``): the code (:func:`code_identity`, with where
    the package and the interpreter are), the machine (:func:`machine`, as run folders
    record it), torch's devices and threads (:func:`torch_devices`) and the versions of
    :data:`PACKAGES` (None: not installed)."""
    from importlib import metadata

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    where = {"package": str(PACKAGE), "executable": sys.executable}
    return {
        "code": code_identity() | where,
        "machine": machine(),
        "torch": torch_devices(),
        "packages": versions,
    }


def torch_devices() -> dict:
    """torch's devices and threads: CUDA (available, its and cuDNN's versions, the GPUs),
    MPS, the CPU's kernels (``cpu_capability``), native bf16, intra- and inter-op threads."""
    import torch

    from unetlab.runtime import cpu_capability, supports_bf16

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    return {
        "cuda_available": cuda,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "mps_available": bool(mps and mps.is_available()),
        "cpu_capability": cpu_capability(),
        "bf16_native_cpu": supports_bf16("cpu"),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
    }

"""What a run records of the code and machine that made it, and what its config resolved to."""

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.test_train import tiny_config, write_blobs
from unetlab import provenance
from unetlab.checkpoint import load_checkpoint
from unetlab.provenance import (
    checkout_of,
    code_identity,
    command_line,
    describe_code,
    machine,
    package_dirty,
    read_commit,
)
from unetlab.run_records import HISTORY_FILE
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER = "89abcdef0123456789abcdef0123456789abcdef"


def git_folder(tmp_path, head: str, files: dict | None = None) -> Path:
    dot_git = tmp_path / ".git"
    (dot_git / "refs" / "heads").mkdir(parents=True)
    (dot_git / "HEAD").write_text(head + "\n")
    for name, text in (files or {}).items():
        (dot_git / name).write_text(text)
    return dot_git


def test_the_commit_is_read_from_a_loose_ref_packed_refs_or_a_detached_head(tmp_path):
    loose = git_folder(tmp_path / "a", "ref: refs/heads/main", {"refs/heads/main": SHA + "\n"})
    assert read_commit(loose) == SHA
    packed = f"# pack-refs with: peeled\n{OTHER} refs/heads/dev\n{SHA} refs/heads/main\n"
    main = git_folder(tmp_path / "b", "ref: refs/heads/main", {"packed-refs": packed})
    assert read_commit(main) == SHA
    assert (
        read_commit(git_folder(tmp_path / "c", "ref: refs/heads/dev", {"packed-refs": packed}))
        == OTHER
    )
    assert read_commit(git_folder(tmp_path / "d", SHA)) == SHA
    assert read_commit(git_folder(tmp_path / "e", "ref: refs/heads/gone")) is None
    assert read_commit(tmp_path / "nothing" / ".git") is None


def test_a_worktree_reads_its_head_and_the_common_refs(tmp_path):
    main = git_folder(tmp_path / "main", "ref: refs/heads/main", {"refs/heads/main": SHA})
    own = main / "worktrees" / "wt"
    own.mkdir(parents=True)
    (own / "HEAD").write_text("ref: refs/heads/main\n")
    (own / "commondir").write_text("../..\n")
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {own}\n")
    assert read_commit(tmp_path / "wt" / ".git") == SHA


def test_an_installed_package_has_no_checkout(tmp_path):
    package = tmp_path / "site-packages" / "unetlab"
    package.mkdir(parents=True)
    assert checkout_of(package) is None
    repo = tmp_path / "repo"
    (repo / "src" / "unetlab").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "pyproject.toml").write_text("")
    assert checkout_of(repo / "src" / "unetlab") == repo


def test_without_git_the_dirty_flag_is_unknown_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    repo = Path(provenance.PACKAGE).parents[1]
    assert package_dirty(repo, provenance.PACKAGE) is None
    code = {"unetlab": "0.1.0", "commit": SHA, "dirty": None}
    assert describe_code(code) == "unetlab 0.1.0 (git 0123456789ab, changes unknown)"
    assert describe_code({"unetlab": "0.1.0", "commit": None}) == "unetlab 0.1.0"


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_version_names_a_modified_checkout_as_such(tmp_path, monkeypatch):
    # --version called every checkout clean (review s30 finding 8)
    repo, package = tmp_path / "repo", tmp_path / "repo" / "src" / "unetlab"
    package.mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    (package / "__init__.py").write_text("")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    sha = _git(repo, "rev-parse", "HEAD")
    monkeypatch.setattr(provenance, "PACKAGE", package)
    assert provenance.version_line().endswith(f"(git {sha[:12]})")
    (package / "__init__.py").write_text("changed = True\n")
    assert provenance.version_line().endswith(f"(git {sha[:12]}, with uncommitted changes)")
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    assert provenance.version_line().endswith(f"(git {sha[:12]}, changes unknown)")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_this_checkout_is_identified_as_git_says():
    repo = Path(provenance.PACKAGE).parents[1]
    if checkout_of(provenance.PACKAGE) is None:
        pytest.skip("unetlab is not imported from a checkout")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    assert code_identity()["commit"] == head.stdout.strip()
    assert code_identity()["dirty"] in (True, False)
    assert code_identity()["torch"] == str(torch.__version__)


def test_the_machine_names_cpu_threads_and_no_gpu_on_cpu():
    found = machine("cpu")
    assert found["cpu"] and found["threads"] == torch.get_num_threads() == 1
    assert found["gpu"] is None and "cuda" not in found


def test_the_command_is_shell_quoted_so_it_pastes_back():
    argv = ["unetlab", "train", "--data", "my data", "--set", "data.class_names={0: a, 255: b}"]
    assert shlex.split(command_line(argv)) == argv


def test_the_resume_command_is_quoted_too():
    from unetlab.train import resume_command

    command = resume_command(Path("my runs/a"), 2)
    assert shlex.split(command)[2:] == ["--run-dir", "my runs/a", "--resume", "--nproc", "2"]


def test_a_cuda_machine_names_its_gpu_and_cudnn(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"Fake GPU {device}")
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 90100)
    found = machine("cuda:0")
    assert found["gpu"] == "Fake GPU cuda:0" and found["cudnn"] == 90100
    assert found["cuda"] == torch.version.cuda and found["cudnn_deterministic"] is False


def test_a_run_records_code_machine_and_what_its_config_resolved_to(tmp_path, monkeypatch):
    root = write_blobs(tmp_path / "my data", 4)
    argv = ["unetlab", "train", "--data", str(root), "--set", "train.label_offset=[-0.5, 0]"]
    monkeypatch.setattr("sys.argv", argv)
    run = tmp_path / "run"
    cfg = tiny_config(root, "train.epochs=1", "train.amp=off", "train.class_weights=[1, 2.5]")
    fit(cfg, run_dir=run, progress=False)
    header = (run / "config.yaml").read_text().splitlines()[:3]
    assert shlex.split(header[1].removeprefix("# command: ")) == argv
    assert describe_code(code_identity()) in header[0]
    (entry,) = yaml.safe_load((run / HISTORY_FILE).read_text())
    assert entry["code"] == code_identity()
    assert entry["machine"]["threads"] == 1 and entry["machine"]["cpu"]
    resolved = entry["resolved"]
    normalization = dict(resolved["normalization"])
    floor = normalization.pop("floor")  # half the least std of the training images
    assert len(floor) == 1 and floor[0] > 0
    assert normalization.pop("dtype") == "uint8"  # the floor's units: the images' dtype
    assert resolved | {"model": None, "normalization": normalization} == {
        "device": "cpu",
        "threads": 1,
        "processes": 1,
        "amp": "off",
        "channels_last": False,
        "model": None,
        "class_weights": [1.0, 2.5],
        "normalization": {"mode": "per_image"},
        "label_values": [0, 255],
        "classes": ["dark", "bright"],
        "ignore_value": None,  # compare reads a killed run's ignored class by it (s69)
    }
    # the preset expanded: small's padding and norm, the config's depth and width, the data's
    assert resolved["model"] == {
        "class": "UNet",
        "preset": "small",
        "in_channels": 1,
        "num_classes": 2,
        "depth": 2,
        "base_channels": 4,
        "padding": "same",
        "norm": "batch",
        "upsample": "transpose",
        "fusion": "concat",
        "dropout": 0.0,
        "parameters": resolved["model"]["parameters"],
    }
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["padding"] is None
    assert load_checkpoint(run / "checkpoints" / "best.pt")["code"] == code_identity()
    cfg.train.epochs = 2
    fit(cfg, run_dir=run, progress=False, resume=True)
    first, second = yaml.safe_load((run / HISTORY_FILE).read_text())
    assert first == entry and second["at"]["step"] == 2 and second["resolved"] == resolved


def test_python_m_unetlab_is_recorded_as_such_not_as_its_main_file(monkeypatch):
    """Under ``python -m unetlab`` sys.argv[0] is .../unetlab/__main__.py, which pastes back
    as "Permission denied" (audit s35 workshop 2); the console script stays as it ran."""
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    main = str(provenance.PACKAGE / "__main__.py")
    argv = [main, "train", "--data", "mes données", "--epochs", "1"]
    assert shlex.split(command_line(argv)) == ["python3", "-m", "unetlab", *argv[1:]]
    script = ["/home/me/.venv/bin/unetlab", "train", "--data", "mes données"]
    assert shlex.split(command_line(script)) == script


def test_every_process_of_a_launch_records_the_launching_process_s_code(tmp_path, monkeypatch):
    """s75: each process of ``predict --nproc 2`` ran ``git status`` itself; under load one
    timed out, and its PNGs' records said ``"dirty": null`` where the other's said ``false``
    (a stale-labels test failed on one byte). The launching process finds it once and hands
    it to each: here it says the package is dirty, and its processes, which cannot run git
    (None on their own), record that. Seen failing without the fix: "dirty": null."""
    import json

    from unetlab import distributed

    if code_identity()["commit"] is None:
        pytest.skip("unetlab is not imported from a checkout: no dirty flag to differ")
    monkeypatch.setattr(provenance, "package_dirty", lambda *a: True)
    code_identity.cache_clear()
    said = "from unetlab.provenance import code_identity as c; import json; print(json.dumps(c()))"
    recorded = []

    def processes(command, env, grace):  # two processes of the launch, no git on their PATH
        for _ in range(2):
            run = [sys.executable, "-c", said]
            done = subprocess.run(run, env={**env, "PATH": str(tmp_path)}, capture_output=True)
            recorded.append(json.loads(done.stdout))
        return 0, ()

    monkeypatch.setattr(distributed, "run_passing_signals", processes)
    try:
        distributed.launch(2, ["predict", "--help"])
        launcher = code_identity()
    finally:
        code_identity.cache_clear()  # this process's own again for the tests after
    assert launcher["dirty"] is True
    assert recorded == [launcher, launcher]


def test_a_launch_hands_its_processes_the_code_as_it_is_now_not_as_first_found(
    tmp_path, monkeypatch
):
    """s75 review: a long-lived Python session found its code identity (cached) clean, then
    a file of the package was edited: the processes of a launch, which import the code as
    it is on disk now, recorded the cached "dirty": false (after a git pull, the old
    commit). The launch finds it afresh. Seen failing without the fix: dirty False."""
    import json

    from unetlab import distributed

    if code_identity()["commit"] is None:
        pytest.skip("unetlab is not imported from a checkout: no dirty flag to differ")
    recorded = []

    def processes(command, env, grace):  # the code identity each process is handed
        recorded.append(json.loads(env[provenance.CODE_ENV]))
        return 0, ()

    monkeypatch.setattr(distributed, "run_passing_signals", processes)
    monkeypatch.setattr(provenance, "package_dirty", lambda *a: False)
    code_identity.cache_clear()
    try:
        assert code_identity()["dirty"] is False  # found, and kept, before the edit
        monkeypatch.setattr(provenance, "package_dirty", lambda *a: True)  # edited since
        distributed.launch(2, ["predict", "--help"])
    finally:
        code_identity.cache_clear()  # this process's own again for the tests after
    assert [code["dirty"] for code in recorded] == [True]

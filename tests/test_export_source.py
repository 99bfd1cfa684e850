"""Exports name the checkpoint they came from, and one checkpoint exported twice gives the
same bytes (audit s34 repro F6: two exports of one model looked like two models)."""

from __future__ import annotations

import hashlib
import zipfile

import pytest
import torch
import yaml

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from unetlab.checkpoint import load_model, save_model  # noqa: E402
from unetlab.inference.bioimageio import export_bioimageio  # noqa: E402
from unetlab.inference.export import (  # noqa: E402
    OnnxRunner,
    export_onnx,
    export_torchscript,
    exported_source,
)
from unetlab.models import UNet  # noqa: E402
from unetlab.packages import package_record  # noqa: E402

from .test_package_words import entry_set  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # torch.jit in torch 2.13
    pytest.mark.usefixtures("one_thread"),  # conftest.py: faster on a busy machine
]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="valid").eval()
    model.classes, model.label_values = ["membrane", "cell"], [0, 255]
    return save_model(tmp_path / "run" / "best.pt", model, train_state={"epoch": 3, "step": 12})


def _check_source(source: dict, checkpoint) -> None:
    assert source["sha256"] == _sha(checkpoint)
    assert source["checkpoint"] == "best.pt"  # its name: no local folder in the file
    assert (source["epoch"], source["step"]) == (3, 12)
    assert source["code"]["unetlab"] and "commit" in source["code"]


def test_onnx_and_torchscript_name_their_checkpoint_and_repeat_their_bytes(checkpoint, tmp_path):
    model = load_model(checkpoint)
    for name in ("a", "b"):  # twice in one process: torch named the second trace apart
        export_onnx(model, tmp_path / f"{name}.onnx")
        export_torchscript(model, tmp_path / f"{name}.ts")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert (tmp_path / "a.ts").read_bytes() == (tmp_path / "b.ts").read_bytes()
    for name in ("a.onnx", "a.ts"):
        _check_source(exported_source(tmp_path / name), checkpoint)
    assert OnnxRunner(tmp_path / "a.onnx").source == exported_source(tmp_path / "a.onnx")
    with zipfile.ZipFile(tmp_path / "a.ts") as archive:  # no Python stack of the trace
        assert not [n for n in archive.namelist() if n.endswith(".debug_pkl")]
    loaded = torch.jit.load(str(tmp_path / "a.ts"))
    x = torch.rand(1, 1, 60, 60)
    with torch.inference_mode():
        assert torch.allclose(loaded(x), torch.softmax(model(x), 1), atol=1e-5)


def test_a_package_names_its_checkpoint_and_repeats_its_bytes(checkpoint, tmp_path):
    model = load_model(checkpoint)
    export_torchscript(model, tmp_path / "first.ts")  # a trace before the package's
    for name in ("a.zip", "b.zip"):
        export_bioimageio(model, tmp_path / name)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    _check_source(exported_source(tmp_path / "a.zip"), checkpoint)
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
        readme = archive.read("README.md").decode()
        (tmp_path / "w.onnx").write_bytes(archive.read("weights.onnx"))
        (tmp_path / "w.ts").write_bytes(archive.read("weights_torchscript.pt"))
    assert rdf["config"]["unetlab"]["exported_with"]["unetlab"]
    assert f"checkpoint `best.pt` (sha256 `{_sha(checkpoint)}`), epoch 3" in readme
    for weights in ("w.onnx", "w.ts"):  # the weight files carry it too
        _check_source(exported_source(tmp_path / weights), checkpoint)
    assert (tmp_path / "w.ts").read_bytes() == (tmp_path / "first.ts").read_bytes()


def test_an_export_of_a_package_names_the_first_checkpoint(checkpoint, tmp_path):
    export_bioimageio(load_model(checkpoint), tmp_path / "pkg")
    package = load_model(tmp_path / "pkg")
    _check_source(package.source, checkpoint)
    export_onnx(package, tmp_path / "again.onnx", check=False)
    _check_source(exported_source(tmp_path / "again.onnx"), checkpoint)


def test_a_model_built_in_python_names_no_checkpoint(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=4).eval()
    export_onnx(model, tmp_path / "m.onnx", check=False)
    assert exported_source(tmp_path / "m.onnx") is None
    export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    assert package_record(tmp_path / "pkg")["source"] is None
    assert "no checkpoint file" in (tmp_path / "pkg" / "README.md").read_text()


def test_the_cli_says_the_source_it_records(checkpoint, tmp_path, capsys):
    from unetlab.cli import main

    assert (
        main(["export", "--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "m.onnx")]) == 0
    )
    sha = _sha(checkpoint)
    line = f"source recorded in each file: checkpoint best.pt (sha256 {sha[:12]}, epoch 3, step 12)"
    assert line in capsys.readouterr().out.splitlines()
    assert exported_source(tmp_path / "m.onnx")["sha256"] == sha


def test_an_export_given_as_a_checkpoint_names_the_checkpoint_it_records(checkpoint, tmp_path):
    """``predict --checkpoint model.onnx`` (or a TorchScript file) said to give "the .pt
    checkpoint it was exported from" without naming it, though the export records it (s54
    new user): the refusal names it as ``unetlab export`` said it."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.errors import CheckpointError

    model = load_model(checkpoint)
    export_onnx(model, tmp_path / "m.onnx")
    export_torchscript(model, tmp_path / "m.pt")
    named = (
        f"exported from, best.pt (sha256 {_sha(checkpoint)[:12]}, epoch 3, step 12) by its record"
    )
    for name, kind in (("m.onnx", "an ONNX"), ("m.pt", "a TorchScript")):
        with pytest.raises(CheckpointError) as refused:
            load_checkpoint(tmp_path / name)
        line = str(refused.value)
        assert f"{kind} export cannot be loaded back" in line and named in line, line


def _with_extra(export, out, text: bytes):
    """A copy of the TorchScript ``export`` whose ``extra/unetlab.json`` holds ``text``."""
    with zipfile.ZipFile(export) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            extra = info.filename.endswith("/extra/unetlab.json")
            dst.writestr(info.filename, text if extra else src.read(info))
    return out


def _with_onnx_source(export, out, record: str):
    """A copy of the ONNX ``export`` whose ``source_checkpoint`` metadata is ``record``."""
    import onnx

    model = onnx.load(str(export))
    for prop in model.metadata_props:
        if prop.key == "source_checkpoint":
            prop.value = record
    onnx.save(model, str(out))
    return out


def _encrypted_extra(export, out):
    """A copy of the TorchScript ``export`` whose central directory says its unetlab.json is
    encrypted (zipfile's RuntimeError, "password required": a traceback, s61 review)."""
    with zipfile.ZipFile(export) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/extra/unetlab.json"))
        flags = archive.getinfo(member).flag_bits
    entry_set(export, out, member, "flags", flags | 1)  # bit 0: encrypted
    with zipfile.ZipFile(out) as archive, pytest.raises(RuntimeError, match="encrypted"):
        archive.read(member)
    return out


def _damaged_exports(checkpoint, tmp_path) -> dict:
    """Exports of ``checkpoint`` whose source record cannot be read, each with its kind."""
    model = load_model(checkpoint)
    ts, onnx_file = tmp_path / "m.pt", tmp_path / "m.onnx"
    export_torchscript(model, ts, check=False)
    export_onnx(model, onnx_file, check=False)
    bad_crc = tmp_path / "crc.pt"
    bad_crc.write_bytes(ts.read_bytes().replace(b'"source_checkpoint"', b'"source_checkpoinT"'))
    damaged = {
        _with_extra(ts, tmp_path / "bad.pt", b'{"source_checkpoint": "{bad"}'): "a TorchScript",
        _with_extra(ts, tmp_path / "empty.pt", b'{"source_checkpoint": "{}"}'): "a TorchScript",
        _with_extra(ts, tmp_path / "list.pt", b"[1, 2]"): "a TorchScript",
        _with_extra(ts, tmp_path / "text.pt", b"\xff not json"): "a TorchScript",
        bad_crc: "a TorchScript",
        _encrypted_extra(ts, tmp_path / "encrypted.pt"): "a TorchScript",
        _with_onnx_source(onnx_file, tmp_path / "x.onnx", "best.pt"): "an ONNX",
        _with_onnx_source(onnx_file, tmp_path / "y.onnx", '{"checkpoint": 3}'): "an ONNX",
    }
    return damaged


def test_a_damaged_or_foreign_export_given_as_a_checkpoint_is_refused_without_a_name(
    checkpoint, tmp_path
):
    """An export whose source record cannot be read crashed the refusal (JSONDecodeError,
    KeyError 'checkpoint', BadZipFile on a bad CRC: review s54): it is refused in the same
    line, without the checkpoint's name."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.errors import CheckpointError

    for path, kind in _damaged_exports(checkpoint, tmp_path).items():
        with pytest.raises(CheckpointError) as refused:
            load_checkpoint(path)
        line = str(refused.value)
        assert line == (
            f"{path}: {kind} export cannot be loaded back for training or prediction; give the"
            " .pt checkpoint it was exported from (or a bioimage.io package unetlab exported,"
            " .zip or folder)"
        ), line


def test_a_damaged_or_foreign_export_names_no_source(checkpoint, tmp_path):
    """exported_source and OnnxRunner read the record unguarded and crashed on these exports
    (JSONDecodeError, UnicodeDecodeError, BadZipFile on a bad CRC) or kept a record naming
    no file ({"checkpoint": 3}): they read it as the refusal above does, and find none."""
    damaged = _damaged_exports(checkpoint, tmp_path)
    for path in damaged:
        assert exported_source(path) is None, path
    for path in (p for p in damaged if p.suffix == ".onnx"):
        assert OnnxRunner(path).source is None, path


def test_a_torchscript_file_torch_saved_names_no_checkpoint(tmp_path):
    """A TorchScript file of ``torch.jit.save`` (no unetlab record in it) was refused as "a
    zip without rdf.yaml", where the docstring promises None (revE): None, whatever its
    suffix; a zip that is neither TorchScript nor a package is still refused (below)."""
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    scripted = torch.jit.trace(model, torch.rand(1, 1, 16, 16))
    for name in ("plain.pt", "plain.ts", "plain.zip"):
        torch.jit.save(scripted, str(tmp_path / name))
        assert exported_source(tmp_path / name) is None, name


def test_a_file_that_is_no_export_is_refused_in_one_line_naming_it(tmp_path):
    """exported_source raised protobuf's DecodeError on a garbage .onnx file and a KeyError
    on a zip without rdf.yaml (s55): one line naming the file and what it is."""
    from unetlab.errors import UnetlabError

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\xff\xff\xff not a model at all")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
    (tmp_path / "folder").mkdir()
    cases = {
        garbage: "no ONNX model onnx can read",
        other: "a zip without rdf.yaml or bioimageio.yaml",
        tmp_path / "folder": "a folder without rdf.yaml or bioimageio.yaml",
        tmp_path / "missing.onnx": "no such file or folder",
    }
    for path, what in cases.items():
        with pytest.raises(UnetlabError) as refused:
            exported_source(path)
        line = str(refused.value)
        assert line.startswith(f"{path}: {what}; give an .onnx or TorchScript file"), line
        assert "\n" not in line


def _zip_with_record(package, out, config):
    """A copy of the package folder ``package`` as a zip whose rdf.yaml's config is ``config``."""
    rdf = yaml.safe_load((package / "rdf.yaml").read_text()) | {"config": config}
    with zipfile.ZipFile(out, "w") as archive:
        for file in package.iterdir():
            text = yaml.safe_dump(rdf) if file.name == "rdf.yaml" else file.read_bytes()
            archive.writestr(file.name, text)
    return out


def test_a_damaged_package_record_is_one_line_naming_the_part(tmp_path):
    """package_record (exported_source's reader) raised AttributeError on a config.unetlab of
    a list, and no reader checked the record's label_offset (text, one number passed): one
    line naming the part, from package_record, exported_source and load_model alike."""
    from unetlab.errors import UnetlabError

    model = UNet(1, 2, depth=2, base_channels=4).eval()
    pkg = export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    record = package_record(pkg)
    cases = {
        "config.unetlab is a list, not a mapping": {"unetlab": [1]},
        "config is a list, not a mapping": ["x"],
        "config.unetlab.label_offset is 'ab', not two numbers": {
            "unetlab": record | {"label_offset": "ab"}
        },
        "config.unetlab.label_offset is [1], not two numbers": {
            "unetlab": record | {"label_offset": [1]}
        },
    }
    for said, config in cases.items():
        bad = _zip_with_record(pkg, tmp_path / "bad.zip", config)
        for read in (package_record, exported_source, load_model):
            with pytest.raises(UnetlabError) as refused:
                read(bad)
            line = str(refused.value)
            assert line.startswith(f"{bad}: a damaged or foreign package: its {said}"), line
            assert line.endswith("; export the package again from its checkpoint"), line
    good = _zip_with_record(pkg, tmp_path / "good.zip", {"unetlab": record})
    assert package_record(good) == record and exported_source(good) is None


def test_a_package_source_of_no_record_names_no_checkpoint(checkpoint, tmp_path):
    """A package whose config.unetlab.source is text, a list or names no file was read
    unchecked: ``unetlab export`` of it crashed (dict('best.pt'), KeyError 'sha256') and
    exported_source gave the text back. It names no source, as such an ONNX file does."""
    from unetlab.cli import main

    pkg = export_bioimageio(load_model(checkpoint), tmp_path / "pkg")
    record = package_record(pkg)
    for source in ("best.pt", {"checkpoint": 3}, [1]):
        bad = _zip_with_record(pkg, tmp_path / "bad.zip", {"unetlab": record | {"source": source}})
        assert exported_source(bad) is None and load_model(bad).source is None, source
        onnx_file = str(tmp_path / "again.onnx")
        assert main(["export", "--checkpoint", str(bad), "--onnx", onnx_file, "--overwrite"]) == 0
    _check_source(load_model(pkg).source, checkpoint)


def test_a_package_of_broken_yaml_is_one_line_from_every_reader(tmp_path):
    """load_model put the whole YAMLError (seven lines) in its refusal where package_record
    gave its first line (s59 review C): one line, in the same words, from both."""
    from unetlab.errors import UnetlabError

    model = UNet(1, 2, depth=2, base_channels=4).eval()
    pkg = export_bioimageio(model, tmp_path / "pkg", weight_formats=("pytorch_state_dict",))
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        for file in pkg.iterdir():
            text = file.read_bytes()
            if file.name == "rdf.yaml":
                text = text.replace(b"config:", b"config: [unclosed\n  x: :", 1)
            archive.writestr(file.name, text)
    for read in (package_record, load_model):
        with pytest.raises(UnetlabError) as refused:
            read(bad)
        line = str(refused.value)
        assert line.startswith(f"{bad}: its rdf.yaml is not valid YAML ("), line
        assert "\n" not in line


def test_a_package_described_in_bioimageio_yaml_is_read_as_load_model_reads_it(
    checkpoint, tmp_path
):
    """load_model read a package whose description is bioimageio.yaml (the spec's other
    name); package_record (exported_source's reader) looked for rdf.yaml alone: its folder
    raised FileNotFoundError, its zip KeyError. Both read now, folder, zip and the file."""
    pkg = export_bioimageio(load_model(checkpoint), tmp_path / "pkg")
    record = package_record(pkg)
    (pkg / "rdf.yaml").rename(pkg / "bioimageio.yaml")
    packed = tmp_path / "pkg.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        for file in pkg.iterdir():
            archive.writestr(file.name, file.read_bytes())
    for given in (pkg, packed, pkg / "bioimageio.yaml"):
        assert package_record(given) == record, given
        _check_source(exported_source(given), checkpoint)

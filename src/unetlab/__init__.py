"""unetlab: U-Net semantic segmentation, as the paper built it, as easy as a demo.

The public API, for notebooks and scripts::

    from unetlab import UNet, load_model, predict_image, summarize
    model = UNet.from_preset("paper")          # 31,030,658 parameters, 572 -> 388
    model.output_size(572), model.border, model.receptive_field   # 388, 92, 185

    cfg = load_config(None, ["data.root=path/to/data", "train.max_minutes=10"])
    cfg, plan = plan_training(cfg)             # check the data, plan what you left unset
    fit(cfg, run_dir="runs/mine", plan=plan)   # config.yaml, plan.yaml, metrics.csv, ...
    model = load_model("runs/mine/checkpoints/best.pt")
    probs = predict_image(model, image)        # (K, H, W) float32, any image size
    ids, table = predict_objects(model, image) # (H, W) uint16 object ids, per-object columns
    table = measure_objects(ids, image, pixel_size=0.25)  # any label image, in px and µm
    outputs = OutputOptions(objects=ObjectOptions.for_model, outlines="both")
    predict_folder(model, "images/", "out/", outputs)  # + _objects.geojson, _objects_rois.zip
    report = evaluate_model(model, "path/to/data")
    pooled_object_scores(pred_ids, true_ids)   # (T, H, W) stacks scored frame by frame
    matching_table(truth=gt, prediction=ids)   # StarDist's matching rows, IoU 0.1..0.9
    write_dataset(images, masks, "data")       # arrays -> data/images, data/masks for fit
    plt.imshow(unetlab.plots.object_overlay(image, ids))  # drawing: unetlab.plots
"""

__version__ = "0.2.0"

import importlib as _importlib

#: Each public name and the module that defines it. They load on first use (PEP 562), so
#: ``python -m unetlab --version`` and each data-parallel worker import only what they run.
_HOMES = {
    "load_checkpoint": "checkpoint",
    "load_model": "checkpoint",
    "save_model": "checkpoint",
    "Config": "config",
    "load_config": "config",
    "save_config": "config",
    "compare_runs": "compare",
    "TileDataset": "data.datasets",
    "load_samples": "data.datasets",
    "split_pairs": "data.datasets",
    "read_image": "data.io",
    "read_mask": "data.io",
    "read_stack": "data.io",
    "write_dataset": "data.write",
    "synthetic_em": "data.synthetic",
    "write_synthetic_dataset": "data.synthetic",
    "Augment": "data.transforms",
    "weight_map": "data.weightmap",
    "run_demo": "demo",
    "CheckpointError": "errors",
    "DatasetError": "errors",
    "DiskFullError": "errors",
    "FolderInUseError": "errors",
    "ImageReadError": "errors",
    "OutOfMemoryError": "errors",
    "OutputError": "errors",
    "UnetlabError": "errors",
    "Report": "evaluate",
    "evaluate_model": "evaluate",
    "evaluate_predictions": "evaluate",
    "predict_file": "inference.files",
    "FolderPrediction": "inference.folders",
    "predict_folder": "inference.folders",
    "predict_tree": "inference.tree",
    "measure_objects": "inference.measure",
    "ObjectOptions": "inference.objects",
    "objects_from_probabilities": "inference.objects",
    "predict_objects": "inference.objects",
    "OutputOptions": "inference.records",
    "predict_image": "inference.predict",
    "predict_tensor": "inference.predict",
    "labels_from_probabilities": "inference.predict",
    "encode_labels": "inference.predict",
    "export_onnx": "inference.export",
    "export_torchscript": "inference.export",
    "export_bioimageio": "inference.bioimageio",
    "plan_training": "plan",
    "fit_label_offset": "train",
    "build_loss": "losses",
    "ConfusionMatrix": "metrics",
    "object_scores": "metrics.objects",
    "pooled_object_scores": "metrics.objects",
    "matching_table": "metrics.matching",
    "pooled_matching_table": "metrics.matching",
    "PRESETS": "models",
    "UNet": "models",
    "UNetConfig": "models",
    "summarize": "models.summary",
    "TrainingError": "train",
    "fit": "train",
}

#: Modules a notebook reaches as ``unetlab.NAME`` without importing them: drawing (overlays
#: of arrays for ``plt.imshow``) and the runtime (``tune_allocator`` for a loop of predictions).
_MODULES = ("plots", "runtime")

__all__ = sorted(["__version__", *_HOMES])


def __getattr__(name: str):
    if name in _MODULES:
        return _importlib.import_module(f"unetlab.{name}")  # sets the attribute itself
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'unetlab' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"unetlab.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The public names (tab completion): the API, its loaded modules and :data:`_MODULES`,
    not this file's own helpers (audit s32 notebook 11: ``importlib`` was listed)."""
    public = {n for n in globals() if not n.startswith("_")}
    return sorted(public | set(_HOMES) | set(_MODULES) | {"__version__"})

"""Prediction: the overlap-tile engine, tile sizing, the array/tensor API, files and export.

- :mod:`unetlab.inference.tiling`: pure tiling pieces and one loop over any tile function.
- :mod:`unetlab.inference.sizing`: tile and batch sizes from a memory budget.
- :mod:`unetlab.inference.predict`: numpy images and tensors in, class probabilities out.
- :mod:`unetlab.inference.files`: image files in, label images and probabilities out.
- :mod:`unetlab.inference.records`: what a prediction writes (``OutputOptions``) and what
  made it (the record each output folder keeps).
- :mod:`unetlab.inference.outlines`: object outlines for QuPath (GeoJSON) and Fiji (ImageJ ROIs).
- :mod:`unetlab.inference.export`: ONNX and TorchScript export, and the ONNX runner.
- :mod:`unetlab.inference.bioimageio`: bioimage.io model packages, written and read back.
"""

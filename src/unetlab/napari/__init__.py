"""A napari plugin (``pip install "unetlab[napari]"``, npe2 manifest ``napari.yaml``): the
dock widget "U-Net prediction" (:mod:`unetlab.napari.widget`), a synthetic EM sample and a
reader of predict's outputs at their scale (:mod:`unetlab.napari.reader`).
The logic lives in :mod:`unetlab.napari.core` and the reader, which need neither napari nor
Qt."""

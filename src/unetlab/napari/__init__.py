"""A napari plugin (``pip install "unetlab[napari]"``, npe2 manifest ``napari.yaml``): the
dock widget "U-Net prediction" (:mod:`unetlab.napari.widget`) and a synthetic EM sample.
The logic lives in :mod:`unetlab.napari.core`, which needs neither napari nor Qt."""

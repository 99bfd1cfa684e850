"""Reading and writing images, normalisation, data sets and augmentation."""

"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class UnetlabError(ValueError):
    """Bad input from the user: the message names the problem and the fix."""


class ImageReadError(UnetlabError):
    """An image or mask file is missing, corrupt or of an unsupported kind."""


class CheckpointError(UnetlabError):
    """A file is not a unetlab checkpoint, or is truncated."""


class DatasetError(UnetlabError):
    """A data set folder has problems (listed in the message, with the files)."""

"""The project's error types.

Every message is one sentence a clinician can read: what happened and what to do about it.
"""


class MovescreenError(Exception):
    """Base class for every error movescreen raises on purpose."""


class InputError(MovescreenError):
    """The input (video, folder, camera, CSV) cannot be read or used."""


class ModelError(MovescreenError):
    """The pose model is missing, corrupt or cannot be loaded."""


class NoPersonError(MovescreenError):
    """No person was found in the input, so nothing could be analysed."""


class CameraError(InputError):
    """A camera could not be opened or stopped delivering frames."""


class ConfigError(MovescreenError):
    """A configuration file or option is invalid."""

"""Errors in what the user gave us (params, data, files): reported in one line that names the culprit. Anything
else is a bug or an environment problem and keeps its traceback."""


class PitchpipeError(Exception):
    """The message names the file, key or variable at fault and says what is wrong."""


class ParamsError(PitchpipeError, ValueError):
    """A params.yaml value is missing or wrong; the message names the key."""


class DataError(PitchpipeError, ValueError):
    """An input a stage needs is missing, empty or unusable; the message names it."""

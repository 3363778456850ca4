"""pitchpipe: synthesize labelled notes, learn their pitch, and report the error by pitch."""

__version__ = "0.1.0"

"""Pitch of the user's recordings: `estimate`, the `pitchpipe predict` command, its output formats and
note segmentation."""

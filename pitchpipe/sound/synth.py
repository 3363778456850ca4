"""In-process FluidSynth rendering: each soundfont loaded once, a fresh synthesizer per note."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from pitchpipe.errors import DataError
from pitchpipe.sound.midi import read_channel_events

_FLOAT_P = ctypes.POINTER(ctypes.c_float)
_FLUID_WARN, _FLUID_INFO, _FLUID_DBG = 2, 3, 4


def _bind(library, name, restype, *argtypes):
    function = getattr(library, name)
    function.restype, function.argtypes = restype, argtypes
    return function


class SoundfontRenderer:
    """Renders one-note MIDI files to stereo int16 audio, same bytes in → same samples out.

    A synthesizer keeps voice state (filter and amplitude histories) across notes even after a full
    reset, so a reused synth renders a note slightly differently depending on what it played before.
    We therefore load the soundfont once and attach it to a new, cheap synthesizer for every note.
    MIDI events are dispatched at their exact frames (not through FluidSynth's millisecond player
    clock); reverb and chorus are off; output is read as float and rounded without dither.
    """

    def __init__(self, soundfont: str | Path, sample_rate: int, gain: float = 0.5):
        import fluidsynth  # pyfluidsynth: locates and loads libfluidsynth

        self._fs = fluidsynth
        fl = fluidsynth._fl
        set_log = _bind(fl, "fluid_set_log_function", ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        for level in (_FLUID_WARN, _FLUID_INFO, _FLUID_DBG):
            set_log(level, None, None)  # "no preset on channel N" chatter from each new synth
        self._write_float = _bind(fl, "fluid_synth_write_float", ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                  _FLOAT_P, ctypes.c_int, ctypes.c_int, _FLOAT_P, ctypes.c_int, ctypes.c_int)
        self._add_sfont = _bind(fl, "fluid_synth_add_sfont", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        self._remove_sfont = _bind(fl, "fluid_synth_remove_sfont", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        self.soundfont = str(soundfont)
        self.sample_rate = sample_rate
        if not Path(self.soundfont).is_file():
            raise DataError(f"soundfont {self.soundfont!r} does not exist")
        self._loader = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate), channels=16,
                                        **{"synth.reverb.active": 0, "synth.chorus.active": 0,
                                           "synth.cpu-cores": 1})
        self._sfid = self._loader.sfload(self.soundfont)
        if self._sfid < 0:
            raise DataError(f"FluidSynth could not load soundfont {self.soundfont!r}")
        self._sfont = fluidsynth.fluid_synth_get_sfont_by_id(self._loader.synth, self._sfid)

    def _apply(self, synth, kind: int, channel: int, d1: int, d2: int) -> None:
        fs = self._fs
        if kind == 0x90 and d2 > 0:
            fs.fluid_synth_noteon(synth, channel, d1, d2)
        elif kind in (0x80, 0x90):
            fs.fluid_synth_noteoff(synth, channel, d1)
        elif kind == 0xB0:
            fs.fluid_synth_cc(synth, channel, d1, d2)
        elif kind == 0xC0:
            fs.fluid_synth_program_change(synth, channel, d1)
        elif kind == 0xE0:
            fs.fluid_synth_pitch_bend(synth, channel, d1 | (d2 << 7))

    def render(self, midi_bytes: bytes, n_frames: int) -> np.ndarray:
        """Play `midi_bytes` from time zero and return its first `n_frames` frames, shape (n, 2) int16."""
        left = np.zeros(n_frames, dtype=np.float32)
        right = np.zeros(n_frames, dtype=np.float32)
        synth = self._fs.new_fluid_synth(self._loader.settings)
        self._add_sfont(synth, self._sfont)
        done = 0
        try:
            for seconds, kind, channel, d1, d2 in read_channel_events(midi_bytes) + [(None, 0, 0, 0, 0)]:
                frame = n_frames if seconds is None else min(n_frames, round(seconds * self.sample_rate))
                if frame > done:
                    self._write_float(synth, frame - done, left[done:].ctypes.data_as(_FLOAT_P), 0, 1,
                                      right[done:].ctypes.data_as(_FLOAT_P), 0, 1)
                    done = frame
                self._apply(synth, kind, channel, d1, d2)
        finally:
            self._remove_sfont(synth, self._sfont)  # detach first: the font outlives this synth
            self._fs.delete_fluid_synth(synth)
        stereo = np.stack([left, right], axis=1)
        return np.clip(np.rint(stereo * 32767.0), -32768, 32767).astype(np.int16)

"""Signals and their analysis: audio I/O and resampling, notes and MIDI, FluidSynth, synthetic tones,
classical pitch estimators, the spectra both models read, and the tracker's decoders. No data sets, no models."""

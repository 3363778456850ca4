import numpy as np
import pytest

from pitchpipe.sound.midi import bend_cents, bend_value, note_midi_bytes, read_channel_events
from pitchpipe.sound.notes import cents_between, hz_to_midi, midi_to_hz, note_name


def test_pitch_arithmetic():
    assert midi_to_hz(69) == pytest.approx(440.0)
    assert midi_to_hz(60) == pytest.approx(261.6256, abs=1e-4)
    assert midi_to_hz(69, 100) == pytest.approx(midi_to_hz(70))
    assert hz_to_midi(880.0) == pytest.approx(81.0)
    assert cents_between(880.0, 440.0) == pytest.approx(1200.0)
    assert np.isnan(cents_between(0.0, 440.0))
    assert [note_name(m) for m in (36, 60, 70, 107)] == ["C2", "C4", "A#4", "B7"]


def test_bend_values_round_trip_within_resolution():
    for cents in (-50.0, -12.3, 0.0, 33.3, 50.0):
        value = bend_value(cents, 2)
        assert abs(bend_cents(value, 2) - cents) <= 200 / 8192 / 2 + 1e-9
    assert bend_value(200.0, 2) == 8191 and bend_value(-200.0, 2) == -8192


def test_midi_file_carries_bend_range_program_bend_and_note_in_order():
    data = note_midi_bytes(program=41, midi_note=60, velocity=90, note_seconds=1.0, bend=-1365,
                           bend_range_semitones=2)
    events = read_channel_events(data)
    kinds = [(round(t, 6), kind, d1) for t, kind, _, d1, _ in events]
    assert kinds[:4] == [(0.0, 0xB0, 101), (0.0, 0xB0, 100), (0.0, 0xB0, 6), (0.0, 0xB0, 38)]
    assert events[2][4] == 2  # data entry: 2 semitones
    assert kinds[4] == (0.0, 0xC0, 41)
    t, kind, _, lsb, msb = events[5]
    assert kind == 0xE0 and (lsb | msb << 7) - 8192 == -1365
    assert events[6][1:] == (0x90, 0, 60, 90)
    assert events[7][0] == pytest.approx(1.0) and events[7][1] == 0x80


def test_non_midi_bytes_are_rejected():
    with pytest.raises(ValueError, match="MThd"):
        read_channel_events(b"RIFF....")

"""One-note Standard MIDI Files written with midiutil: what the synth renders and what is kept."""

from __future__ import annotations

import io

from midiutil import MIDIFile

PITCH_BEND_CENTER = 8192
PITCH_BEND_MAX = 8191
TEMPO_BPM = 60  # one beat is one second, so note times in the file read as seconds


def bend_value(cents: float, bend_range_semitones: int) -> int:
    """14-bit pitch-wheel offset (-8192..8191) closest to `cents` for the given bend range."""
    value = round(cents / (100.0 * bend_range_semitones) * PITCH_BEND_CENTER)
    return max(-PITCH_BEND_CENTER, min(PITCH_BEND_MAX, value))


def bend_cents(value: int, bend_range_semitones: int) -> float:
    """The detune in cents that a pitch-wheel offset really produces: the label uses this, not the request."""
    return value * 100.0 * bend_range_semitones / PITCH_BEND_CENTER


def note_midi_bytes(program: int, midi_note: int, velocity: int, note_seconds: float,
                    bend: int, bend_range_semitones: int, channel: int = 0) -> bytes:
    """A format-1 MIDI file: bend range (RPN 0), program change, pitch bend, then one note."""
    track = 0
    smf = MIDIFile(1, adjust_origin=False, deinterleave=False)
    smf.addTempo(track, 0, TEMPO_BPM)
    smf.makeRPNCall(track, channel, 0, 0, 0, bend_range_semitones, 0)
    smf.addProgramChange(track, channel, 0, program)
    smf.addPitchWheelEvent(track, channel, 0, bend)
    smf.addNote(track, channel, midi_note, 0, note_seconds, velocity)
    buffer = io.BytesIO()
    smf.writeFile(buffer)
    return buffer.getvalue()


def _read_varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def read_channel_events(data: bytes) -> list[tuple[float, int, int, int, int]]:
    """Channel events of a Standard MIDI File as (seconds, status_kind, channel, data1, data2), in time order.

    status_kind is the high nibble (0x80 note off, 0x90 note on, 0xB0 controller, 0xC0 program, 0xE0 bend).
    Tempo changes are honoured; sysex and other meta events are skipped. Events at equal times keep
    their file order, which is what makes RPN → program → bend → note-on land in that order.
    """
    if data[:4] != b"MThd":
        raise ValueError("not a Standard MIDI File (no MThd header)")
    header_len = int.from_bytes(data[4:8], "big")
    n_tracks = int.from_bytes(data[10:12], "big")
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000:
        raise ValueError("SMPTE time division is not supported")
    pos = 8 + header_len
    timed = []  # (tick, order, kind, channel, d1, d2) with kind -1 for tempo (d1 = microseconds per beat)
    order = 0
    for _ in range(n_tracks):
        if data[pos:pos + 4] != b"MTrk":
            raise ValueError(f"expected MTrk chunk at byte {pos}")
        end = pos + 8 + int.from_bytes(data[pos + 4:pos + 8], "big")
        pos += 8
        tick = 0
        status = 0
        while pos < end:
            delta, pos = _read_varlen(data, pos)
            tick += delta
            if data[pos] & 0x80:
                status = data[pos]
                pos += 1
            if status == 0xFF:
                meta_type = data[pos]
                length, pos = _read_varlen(data, pos + 1)
                if meta_type == 0x51:
                    timed.append((tick, order, -1, 0, int.from_bytes(data[pos:pos + 3], "big"), 0))
                pos += length
            elif status in (0xF0, 0xF7):
                length, pos = _read_varlen(data, pos)
                pos += length
            else:
                kind, channel = status & 0xF0, status & 0x0F
                if kind in (0xC0, 0xD0):
                    d1, d2 = data[pos], 0
                    pos += 1
                else:
                    d1, d2 = data[pos], data[pos + 1]
                    pos += 2
                timed.append((tick, order, kind, channel, d1, d2))
            order += 1
        pos = end
    timed.sort(key=lambda event: (event[0], event[1]))
    events = []
    seconds_per_tick = 0.5 / division  # 120 bpm until a tempo event says otherwise
    last_tick, now = 0, 0.0
    for tick, _, kind, channel, d1, d2 in timed:
        now += (tick - last_tick) * seconds_per_tick
        last_tick = tick
        if kind == -1:
            seconds_per_tick = d1 / 1e6 / division
        else:
            events.append((now, kind, channel, d1, d2))
    return events


def phrase_midi_bytes(program: int, keys: list[tuple[float, float, int, int]], bends: list[tuple[float, int]],
                      bend_range_semitones: int, channel: int = 0) -> bytes:
    """A format-1 MIDI file of a monophonic phrase: bend range (RPN 0), program change, then `keys`
    (start s, end s, MIDI key, velocity) and pitch-wheel `bends` (time s, 14-bit offset), times in seconds."""
    track = 0
    smf = MIDIFile(1, adjust_origin=False, deinterleave=False)
    smf.addTempo(track, 0, TEMPO_BPM)
    smf.makeRPNCall(track, channel, 0, 0, 0, bend_range_semitones, 0)
    smf.addProgramChange(track, channel, 0, program)
    for time, value in bends:
        smf.addPitchWheelEvent(track, channel, time, value)
    for start, end, key, velocity in keys:
        smf.addNote(track, channel, key, start, end - start, velocity)
    buffer = io.BytesIO()
    smf.writeFile(buffer)
    return buffer.getvalue()

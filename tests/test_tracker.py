"""The frame-level tracker: its analysis, the melody labels and phrases, chunked streaming against whole files, the
decoders, notes from tracks, and `pitchpipe predict` with a tracker."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from pitchpipe.config import frames_config, phrases_config
from pitchpipe.sound.decode import Decoder, decode, viterbi_path
from pitchpipe.sound.frames import FrameAnalysis, bin_midi, frame_count, with_context
from pitchpipe.data.melody import BOUNDARY, GLIDE, NEAR_CHANGE, VIBRATO, PlannedNote, frame_labels, pitch_curve
from pitchpipe.sound.midi import read_channel_events
from pitchpipe.sound.notes import cents_between, hz_to_midi, midi_to_hz
from pitchpipe.data.phrases import key_segments, make_phrase, run_phrases
from pitchpipe.model.tracking import CHUNK_FRAMES, TrackerModel, load_tracker
from pitchpipe.inference.transcribe import notes_midi, segment_notes

RATE = 16000


def harmonic_tone(f0, seconds, gain=0.3, partials=5):
    t = np.arange(round(seconds * RATE)) / RATE
    return gain * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1) if k * f0 < 7000)


@pytest.fixture(scope="module")
def frames(default_params):
    return frames_config(default_params)


@pytest.mark.parametrize("f0", [65.41, 98.0, 261.63, 440.0, 1046.5, 2093.0])
def test_each_bins_fundamental_channel_peaks_at_the_pitch_from_c2_to_c7(frames, f0):
    analysis = FrameAnalysis(frames)
    values = analysis.features(harmonic_tone(f0, 1.0))
    fundamental = values[50, :, frames.harmonics.index(1.0)]
    peak = bin_midi(frames)[fundamental.argmax()]
    assert abs(peak - hz_to_midi(f0)) <= 0.5  # within half a semitone: the band maximum is flat over a bin or two
    assert values.shape == (frame_count(RATE, frames), len(bin_midi(frames)), len(frames.harmonics))


def test_features_ignore_level_and_silence_is_zero(frames):
    analysis = FrameAnalysis(frames)
    loud = analysis.features(harmonic_tone(220.0, 1.0, gain=0.5))
    quiet = analysis.features(harmonic_tone(220.0, 1.0, gain=0.5 * 10 ** (-60 / 20)))  # -66 dBFS: quiet, not silent
    np.testing.assert_allclose(quiet, loud, atol=2e-4)
    assert not analysis.features(np.zeros(RATE)).any()
    # a quiet tail 30 dB below a loud note within reference_seconds reads as quiet
    tail = analysis.features(np.concatenate([harmonic_tone(220.0, 0.5), harmonic_tone(220.0, 0.5, gain=0.5 * 10 ** (-1.5))]))
    assert tail[70].max() < tail[20].max() - 0.3


def test_context_stacks_neighbouring_frames_with_silence_beyond_the_ends():
    features = np.arange(5, dtype=np.float32)[:, None, None] * np.ones((1, 2, 1), np.float32)
    stacked = with_context(features, (-1, 0, 2))
    assert stacked.shape == (5, 2, 3)
    assert stacked[:, 0, 0].tolist() == [0, 0, 1, 2, 3]
    assert stacked[:, 0, 1].tolist() == [0, 1, 2, 3, 4]
    assert stacked[:, 0, 2].tolist() == [2, 3, 4, 0, 0]


def test_pitch_curve_and_labels_follow_the_plan():
    notes = [PlannedNote(0.1, 0.5, 57.0, 100),  # A3
             PlannedNote(0.5, 1.0, 64.0, 100, tied=True, glide=0.2),  # glides up a fifth
             PlannedNote(1.3, 2.0, 69.0, 90, vibrato_cents=50.0, vibrato_hz=5.0, vibrato_onset=0.2)]  # after a rest
    f0, flags = frame_labels(notes, 221, 0.01)
    assert f0[5] == 0 and f0[115] == 0 and f0[205] == 0  # before, in the rest, after
    assert f0[30] == pytest.approx(midi_to_hz(57.0), rel=1e-6)
    assert f0[90] == pytest.approx(midi_to_hz(64.0), rel=1e-6)  # the glide is over
    assert midi_to_hz(57.0) < f0[60] < midi_to_hz(64.0) and flags[60] & GLIDE
    assert flags[100] & NEAR_CHANGE and flags[10] & BOUNDARY and flags[100] & BOUNDARY and not flags[50] & BOUNDARY
    vibrato = hz_to_midi(f0[160:200])
    assert np.all(flags[160:200] & VIBRATO) and 0.4 < vibrato.max() - 69.0 <= 0.5 and -0.5 <= vibrato.min() - 69.0 < -0.4
    midi, which = pitch_curve(notes, np.array([0.05, 0.3, 1.1]))
    assert np.isnan(midi[0]) and which.tolist() == [-1, 0, -1]
    assert key_segments(notes) == [(0.1, 1.0, 57, 100), (1.3, 2.0, 69, 90)]  # the glide bends the held key


def test_phrases_sound_at_their_labels(default_params):
    """Both sources, measured by librosa's pYIN away from note changes: the labels are the pitch heard (pYIN's own
    octave errors forgiven: half the synthetic tones miss their low partials, which fools it; on a sparse residue,
    such as synthetic phrase 4's partials 2, 3, 7, 9 and 11, it loses even the chroma, hence 0.93)."""
    import librosa

    config = phrases_config(default_params)
    agreement = {}
    for source in ("fluid", "synth"):
        hits = chroma_hits = total = 0
        for phrase_id in range(8):
            phrase = make_phrase(source, phrase_id, config, augmented=False)
            again = make_phrase(source, phrase_id, config, augmented=False)
            assert np.array_equal(phrase.audio, again.audio)  # seeded by (seed, source, phrase)
            f0, voiced, _ = librosa.pyin(phrase.audio.astype(float), fmin=60, fmax=2100, sr=RATE, frame_length=2048,
                                         hop_length=config.hop, fill_na=None)
            frames = min(len(f0), len(phrase.f0_hz))
            steady = (phrase.f0_hz[:frames] > 0) & (phrase.f0_hz[:frames] < 2000) & voiced[:frames] \
                & ((phrase.flags[:frames] & NEAR_CHANGE) == 0)  # pYIN's range, away from note changes
            cents = cents_between(f0[:frames][steady], phrase.f0_hz[:frames][steady])
            hits, total = hits + int(np.sum(np.abs(cents) < 50)), total + int(steady.sum())
            chroma_hits += int(np.sum(np.abs((cents + 600) % 1200 - 600) < 50))
        agreement[source] = (hits / total, chroma_hits / total)
    assert agreement["fluid"][0] > 0.85 and agreement["fluid"][1] > 0.9 and agreement["synth"][1] > 0.93, agreement


def test_synthetic_phrases_are_heard_at_their_labels_up_high(default_params):
    """The voice-like source sings no higher than C6, and an additive tone that lost its low partials keeps a
    heard pitch on every note: where its fundamental is missing, at least two partials stand within 20 dB of the
    loudest under the band limit (the residue rule), also on the phrase's high notes, whose upper partials the band
    limit takes (the rule used to be checked on the phrase's lowest note only)."""
    from pitchpipe.data.phrases import VOICE_MIDI_HIGH
    from pitchpipe.sound.tones import NYQUIST_FRACTION, RESIDUE_WITHIN_DB

    config = phrases_config(default_params)
    window = np.hanning(2048)
    checked = {"voice": 0, "missing": 0}
    for phrase_id in range(40):
        phrase = make_phrase("synth", phrase_id, config, augmented=False)
        pitched = phrase.f0_hz[phrase.f0_hz > 0]
        if phrase.instrument == "voice":
            assert hz_to_midi(pitched.max()) <= VOICE_MIDI_HIGH + 0.5 + 0.1, phrase_id  # detuned by up to 50 cents
            checked["voice"] += 1
            continue
        steady = np.flatnonzero((phrase.f0_hz > 1000) & ((phrase.flags & (NEAR_CHANGE | GLIDE | VIBRATO)) == 0))
        for frame in steady[::10]:
            centre, f0 = frame * config.hop, float(phrase.f0_hz[frame])
            piece = phrase.audio[max(0, centre - 1024):centre + 1024]
            if len(piece) < 2048:
                continue
            spectrum = np.abs(np.fft.rfft(piece * window))
            partials = np.arange(1, int(NYQUIST_FRACTION * RATE / f0) + 1)
            level = np.array([spectrum[int(round(k * f0 * 2048 / RATE)) - 2:int(round(k * f0 * 2048 / RATE)) + 3].max()
                              for k in partials])
            loud = level >= level.max() * 10 ** (-(RESIDUE_WITHIN_DB + 1) / 20)  # 1 dB for the measurement
            if not loud[0]:
                checked["missing"] += 1
                assert loud.sum() >= 2, (phrase_id, frame, f0, np.round(20 * np.log10(level / level.max())))
    assert checked["voice"] >= 5 and checked["missing"] >= 5, checked


def test_training_phrases_lose_every_fundamental_but_keep_their_partials(default_params):
    """`phrases.missing_fundamental_prob`: a phrase high-passed above its highest note loses that note's
    fundamental (30 dB or more) and keeps its second partial; a tone that is nearly all fundamental is left alone."""
    from pitchpipe.data.phrases import without_fundamentals
    from pitchpipe.seeding import rng

    config = phrases_config(default_params).model_copy(update={"missing_fundamental_prob": 1.0})
    t = np.arange(RATE) / RATE
    f0 = np.full(100, 300.0)

    def level(audio, hz):
        spectrum = np.abs(np.fft.rfft(audio[4000:12000] * np.hanning(8000)))
        return 20 * np.log10(spectrum[int(hz * 8000 / RATE) - 2:int(hz * 8000 / RATE) + 3].max())

    tone = sum(np.sin(2 * np.pi * k * 300 * t) / k for k in range(1, 8))
    out = without_fundamentals(tone, f0, config, rng(1, "test"))
    assert level(tone, 300) - level(out, 300) >= 30
    assert abs(level(tone, 600) - level(out, 600)) < 1 and abs(level(tone, 900) - level(out, 900)) < 0.5
    sine = np.sin(2 * np.pi * 300 * t) + 0.01 * np.sin(2 * np.pi * 600 * t)
    assert without_fundamentals(sine, f0, config, rng(1, "test")) is sine
    unchanged = config.model_copy(update={"missing_fundamental_prob": 0.0})
    assert without_fundamentals(tone, f0, unchanged, rng(1, "test")) is tone


def test_phrase_shards_do_not_depend_on_the_worker_count(tiny, tmp_path):
    import hashlib

    config = phrases_config(tiny)
    for workers in (1, 2):
        run_phrases(config, tmp_path / str(workers), workers=workers)
    digests = [{p.relative_to(tmp_path / str(w)).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((tmp_path / str(w)).rglob("*.parquet"))} for w in (1, 2)]
    assert digests[0] == digests[1] and len(digests[0]) > 3


def test_viterbi_follows_leaps_and_rests_and_ignores_a_lone_spike():
    bins, frames = 120, 60
    activations = np.full((frames, bins), 0.01)
    activations[:20, 30] = 0.9  # a note
    activations[20:35, 51] = 0.9  # a legato leap of 7 semitones (3 bins a semitone)
    activations[40:, 60] = 0.9  # after a rest of 5 frames
    activations[10, 100] = 0.95  # one wrong frame, louder than the note
    centres = 40 + np.arange(bins) / 3
    path = viterbi_path(activations, 3, Decoder("viterbi"))
    assert path[:20].tolist() == [30] * 20 and path[20:35].tolist() == [51] * 15
    assert (path[35:40] == -1).all() and (path[40:] == 60).all()
    midi, confidence, voiced = decode(activations, centres, 3, Decoder("weighted"))
    assert midi[10] == pytest.approx(centres[100]) and confidence[10] == pytest.approx(0.95)  # alone, it is fooled
    midi, _, voiced = decode(activations, centres, 3, Decoder("viterbi"))
    assert midi[10] == pytest.approx(centres[30], abs=0.05) and voiced.sum() == 55


def test_chunked_tracking_equals_the_whole_file_at_once(tracker_dir):
    model = load_tracker(tracker_dir)
    rng = np.random.default_rng(1)
    seconds = 2.5 * CHUNK_FRAMES * model.frames.hop / RATE  # three chunks
    t = np.arange(round(seconds * RATE)) / RATE
    audio = 0.3 * np.sin(2 * np.pi * 220 * 2 ** (np.sin(2 * np.pi * 0.3 * t)) * t) + 0.01 * rng.standard_normal(len(t))
    blocks = (audio[i:i + 7919] for i in range(0, len(audio), 7919))  # blocks that fall anywhere
    streamed = model.track(blocks, decoder=Decoder("weighted"))
    whole, _ = model.activations(audio)
    midi, confidence, voiced = decode(whole, model.centres, model.frames.bins_per_semitone, Decoder("weighted"))
    assert len(streamed.midi) == frame_count(len(audio), model.frames) == len(midi)
    np.testing.assert_allclose(streamed.confidence, confidence, atol=1e-5)
    np.testing.assert_allclose(streamed.midi, midi, atol=1e-4)
    viterbi = model.track(iter([audio]), decoder=Decoder("viterbi"))
    path_midi, _, path_voiced = decode(whole, model.centres, model.frames.bins_per_semitone, Decoder("viterbi"))
    assert np.mean(np.isclose(viterbi.midi, path_midi, atol=1e-3) & (viterbi.voiced == path_voiced)) > 0.995


def test_notes_from_a_track_with_vibrato_a_rest_and_a_leap():
    times = np.arange(300) * 0.01
    midi = np.full(300, np.nan)
    midi[10:100] = 57.0 + 0.5 * np.sin(2 * np.pi * 5.5 * times[10:100])  # A3 with ±50 cents of vibrato
    midi[100:160] = 64.3  # legato up a fifth, 30 cents sharp
    midi[200:280] = 69.0  # A4 after a rest
    midi[230] = 81.0  # a one-frame blip an octave up
    frequency = midi_to_hz(midi)
    notes = segment_notes(times, frequency, np.isfinite(midi), np.ones(300))
    assert [n.midi for n in notes] == [57, 64, 69]
    assert notes[0].onset == pytest.approx(0.10) and notes[1].onset == pytest.approx(1.0, abs=0.03)
    assert notes[2].onset == pytest.approx(2.0) and notes[2].offset == pytest.approx(2.8)
    assert notes[1].cents == pytest.approx(30.0, abs=1.0) and abs(notes[0].cents) < 10
    events = [e for e in read_channel_events(notes_midi(notes)) if e[1] == 0x90 and e[4] > 0]
    assert [(round(e[0], 2), e[3]) for e in events] == [(0.1, 57), (round(notes[1].onset, 2), 64), (2.0, 69)]


def predict(*arguments):
    return subprocess.run([sys.executable, "-m", "pitchpipe.cli", "predict", *map(str, arguments)],
                          capture_output=True, text=True)


def test_predict_with_a_tracker_every_10_ms_notes_and_quiet_files(tracker_dir, tmp_path):
    melody = np.concatenate([harmonic_tone(220.0, 0.5), harmonic_tone(329.63, 0.5), np.zeros(8000),
                             harmonic_tone(440.0, 0.5)])
    soundfile.write(tmp_path / "melody.wav", melody, RATE)
    soundfile.write(tmp_path / "quiet.flac", harmonic_tone(440.0, 1.0) * 10 ** (-65 / 20) / 0.3, RATE)  # -65 dBFS
    soundfile.write(tmp_path / "zeros.wav", np.zeros(RATE), RATE)
    result = predict(tmp_path / "melody.wav", tmp_path / "quiet.flac", tmp_path / "zeros.wav", "--model", tracker_dir,
                     "--out-dir", tmp_path / "out", "--notes", "-v")
    assert result.returncode == 0, result.stderr
    assert f"tracker from {tracker_dir}" in result.stderr
    assert "zeros.wav is digitally silent" in result.stderr and "quiet.flac" not in result.stderr
    rows = list(csv.DictReader((tmp_path / "out/melody.f0.csv").open()))
    assert [float(r["time"]) for r in rows[:3]] == [0.0, 0.01, 0.02] and len(rows) == frame_count(len(melody), model_frames(tracker_dir))
    assert len(list(csv.DictReader((tmp_path / "out/quiet.f0.csv").open()))) == 101  # rows, not an error
    assert (tmp_path / "out/melody.notes.csv").read_text().startswith("onset,offset,midi,note,cents,confidence")
    assert (tmp_path / "out/melody.mid").read_bytes()[:4] == b"MThd"

    every_other = predict(tmp_path / "melody.wav", "--model", tracker_dir, "--hop", "0.02")
    assert every_other.returncode == 0 and len(every_other.stdout.splitlines()) == 1 + (len(rows) + 1) // 2
    for arguments, message in ((["--hop", "0.015"], "must be a multiple"), (["--fmin", "0"], "must be a positive"),
                               (["--fmax", "-5"], "must be a positive")):
        result = predict(tmp_path / "melody.wav", "--model", tracker_dir, *arguments)
        assert result.returncode == 2 and message in result.stderr, (arguments, result.stderr)
    outside = predict(tmp_path / "melody.wav", "--model", tracker_dir, "--fmin", "20")
    assert outside.returncode == 0 and "outside the tracker's range" in outside.stderr


def model_frames(folder):
    return load_tracker(folder).frames


def test_estimate_uses_the_tracker_by_default(tracker_dir, monkeypatch, tmp_path):
    from pitchpipe.inference import predict as predict_module

    monkeypatch.setenv("PITCHPIPE_MODEL", str(tracker_dir))
    monkeypatch.chdir(tmp_path)
    track = predict_module.estimate(harmonic_tone(440.0, 1.0), RATE)
    assert np.allclose(np.diff(track.times), 0.01) and len(track.times) == 101
    assert isinstance(predict_module.load_model(str(tracker_dir)), TrackerModel)

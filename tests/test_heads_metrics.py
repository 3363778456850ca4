import numpy as np
import pytest

import json

from pitchpipe.errors import DataError
from pitchpipe.scores.headline import error_db, headline
from pitchpipe.scores.metrics import breakdown, by_note, octave_label, pitch_metrics, pitched_rate, reliability, rounded, write_json
from pitchpipe.model.heads import PitchBins, decode_regression, encode_regression
from pitchpipe.sound.notes import cents_between, midi_to_hz
from pitchpipe.model.saved_model import PitchCodec


def test_perfect_prediction_scores_full_marks():
    true = midi_to_hz(np.arange(36, 108))
    metrics = pitch_metrics(true, true)
    assert metrics["rpa_50c"] == metrics["rpa_10c"] == metrics["rca_50c"] == 1.0
    assert metrics["mae_hz"] == 0.0 and metrics["median_abs_cents"] == 0.0 and metrics["octave_error_rate"] == 0.0
    assert metrics["count"] == 72


def test_one_octave_off_scores_zero_rpa_and_full_rca():
    true = midi_to_hz(np.arange(36, 108))
    metrics = pitch_metrics(true * 2.0, true)
    assert metrics["rpa_50c"] == 0.0 and metrics["rca_50c"] == 1.0 and metrics["octave_error_rate"] == 1.0
    assert metrics["median_abs_cents"] == pytest.approx(1200.0)


def test_metrics_thresholds_and_missing_estimates():
    true = np.full(4, 440.0)
    predicted = 440.0 * 2 ** (np.array([5.0, 30.0, 70.0, np.nan]) / 1200)
    metrics = pitch_metrics(predicted, true)
    assert metrics["rpa_10c"] == 0.25 and metrics["rpa_50c"] == 0.5 and metrics["rca_50c"] == 0.5
    assert metrics["octave_error_rate"] == 0.0


def test_by_note_groups_errors():
    rows = by_note(np.array([441.0, 443.0, 220.0]), np.array([440.0, 440.0, 220.0]), np.array([69, 69, 57]))
    assert [r["midi_note"] for r in rows] == [57, 69]
    assert rows[1]["count"] == 2 and rows[1]["mean_abs_hz"] == pytest.approx(2.0)
    assert rows[0]["mean_abs_cents"] == 0.0


def test_bins_decode_recovers_pitch_between_bins():
    bins = PitchBins(35.0, 108.0, 20.0)
    f0 = midi_to_hz(np.array([36.0, 60.13, 69.0, 88.27, 107.49]))
    decoded, confidence = bins.decode(bins.targets(f0, blur_cents=25.0))
    assert np.max(np.abs(cents_between(decoded, f0))) < 1.0
    assert np.all(confidence > 0.8)
    flat = np.full((1, len(bins.centres)), 0.01)
    assert bins.decode(flat)[1][0] == pytest.approx(0.01)


def test_blurred_targets_peak_at_the_true_bin():
    bins = PitchBins(35.0, 108.0, 20.0)
    target = bins.targets(np.array([440.0]), blur_cents=25.0)[0]
    assert bins.centres[target.argmax()] == pytest.approx(69.0)
    assert target.max() == pytest.approx(1.0) and target[target.argmax() + 2] == pytest.approx(np.exp(-0.5 * 1.6 ** 2))


@pytest.mark.parametrize("head", ["hz", "cents"])
def test_regression_heads_round_trip(head):
    f0 = midi_to_hz(np.array([36.0, 69.0, 107.0]))
    encoded = encode_regression(head, f0, 71.5, 36.0)
    assert np.all(np.abs(encoded) <= 4.0)
    np.testing.assert_allclose(decode_regression(head, encoded, 71.5, 36.0), f0, rtol=1e-5)


@pytest.mark.parametrize("head", ["hz", "cents", "bins"])
def test_codec_round_trip(head):
    codec = PitchCodec(head, 35.0, 108.0, 20.0, 25.0)
    f0 = midi_to_hz(np.array([40.2, 77.7]))
    hz, confidence = codec.decode(codec.encode(f0))
    assert np.max(np.abs(cents_between(hz, f0))) < 1.0 and np.all((confidence > 0) & (confidence <= 1))


def test_breakdown_scores_each_group_value_per_estimator():
    true = np.array([110.0, 220.0, 440.0, 880.0])
    estimates = {"model": true * np.array([1.0, 2.0, 1.0, 1.0]), "yin": np.array([110.0, np.nan, 440.0, 881.0])}
    groups = breakdown(estimates, true, {"octave": octave_label([45, 57, 69, 81])})
    assert list(groups["octave"]) == ["C2–B2", "C3–B3", "C4–B4", "C5–B5"]
    assert groups["octave"]["C3–B3"]["model"]["octave_error_rate"] == 1.0
    assert groups["octave"]["C3–B3"]["yin"]["rpa_50c"] == 0.0  # no estimate counts as wrong
    assert groups["octave"]["C5–B5"]["yin"]["rpa_10c"] == 1.0


def test_pitched_rate_and_rounding_for_json():
    assert pitched_rate(np.array([True, False, False, False])) == 0.25
    assert rounded({"a": [0.123456789, float("nan")], "b": 3}) == {"a": [0.123457, None], "b": 3}


def test_reliability_merges_thin_bins_and_keeps_every_clip():
    rng = np.random.default_rng(3)
    confidence = np.concatenate([rng.uniform(0.0, 0.8, 25), rng.uniform(0.9, 1.0, 500), [0.85] * 40])
    true_hz = np.full(len(confidence), 440.0)
    predicted = np.where(np.arange(len(confidence)) % 2 == 0, 440.0, 300.0)
    predicted[25:525] = 441.0  # the confident ones are right
    rows = reliability(confidence, predicted, true_hz, bins=10, min_count=30)
    assert sum(row["count"] for row in rows) == len(confidence)
    assert all(row["count"] >= 30 for row in rows)
    # the 25 clips below 0.8 are too few alone: they join the 0.8-0.9 bin's 40
    assert [(row["confidence_low"], row["confidence_high"], row["count"]) for row in rows] == [(0.0, 0.9, 65), (0.9, 1.0, 500)]
    assert rows[1]["rpa_50c"] == 1.0 and rows[0]["rpa_50c"] == pytest.approx(np.mean(predicted[confidence < 0.9] == 440.0))
    assert rows[0]["confidence"] == pytest.approx(confidence[confidence < 0.9].mean())
    few = reliability(np.array([0.1, 0.95]), np.array([440.0, 440.0]), np.array([440.0, 440.0]), min_count=30)
    assert [(row["confidence_low"], row["confidence_high"], row["count"]) for row in few] == [(0.0, 1.0, 2)]


def test_headline_is_one_short_flat_row_with_the_transform_in_db(tmp_path):
    scores = {"model": {"rpa_50c": 0.98765, "median_abs_cents": 2.34567}, "yin": {"rpa_50c": 0.88, "median_abs_cents": 4.9}}
    write_json(tmp_path / "metrics.json", {"test": scores, "probes": scores})
    write_json(tmp_path / "loso.json", {"FluidR3_GM": scores, "TimGM6mb": scores})
    write_json(tmp_path / "stft.json", {"held_out": {"relative_error": 2.2e-7}})
    write_json(tmp_path / "tracker.json", {"test_tracker": {"rpa": 0.977, "oa": 0.969, "voicing_false_alarm": 0.033}})
    paths = [tmp_path / name for name in ("metrics.json", "loso.json", "stft.json", "tracker.json")]
    summary = headline(*paths)
    assert len(summary) == 14 and all(isinstance(value, float) for value in summary.values())
    assert summary["rpa50"] == 0.988 and summary["cents"] == 2.346 and summary["yin_rpa50"] == 0.88
    assert summary["TimGM6mb_rpa50"] == 0.988 and summary["track_fa"] == 0.033
    assert summary["stft_db"] == -133.2 and error_db(1e-6) == pytest.approx(-120) and error_db(0.0) == -400.0
    (tmp_path / "tracker.json").write_text(json.dumps({"test_tracker": {"rpa": 0.9}}))
    with pytest.raises(DataError, match=r"tracker.json: no 'test_tracker.oa'"):
        headline(*paths)
    (tmp_path / "loso.json").write_text("{not json")
    with pytest.raises(DataError, match=r"loso.json: not valid JSON"):
        headline(*paths)

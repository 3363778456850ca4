"""Typed, validated views of params.yaml: every bad value is reported by its key before work starts."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pitchpipe.errors import ParamsError

SEGMENTS = ("attack", "sustain", "decay")
TOP = "<top>"  # the section name of params.yaml's top level


class _Section:
    """Reads keys of one params.yaml section, raising ParamsError('file: section.key: why')."""

    def __init__(self, source: str, name: str, values: Any):
        self.source, self.name = source, name
        if not isinstance(values, dict):
            raise ParamsError(f"{source}: {name}: expected a mapping of keys, got {type(values).__name__}")
        self.values, self.read = values, set()

    def fail(self, key: str, why: str) -> ParamsError:
        where = key if self.name == TOP else f"{self.name}.{key}"
        return ParamsError(f"{self.source}: {where}: {why}")

    def peek(self, key: str, default: Any = None) -> Any:
        """The raw value (or `default`), for keys whose type depends on the value."""
        self.read.add(key)
        return self.values.get(key, default)

    def finish(self) -> None:
        """Refuse keys that nothing read: a misspelt key would otherwise be ignored while its default runs."""
        for key in sorted(set(self.values) - self.read, key=str):
            raise self.fail(str(key), "unknown key" + _did_you_mean(str(key), self.read))

    def get(self, key: str, kind, default: Any = ..., low=None, high=None):
        self.read.add(key)
        if key not in self.values:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.values[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(key, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"must be finite, got {value!r}")
        if low is not None and value < low or high is not None and value > high:
            raise self.fail(key, f"{value!r} is out of range [{low}, {high}]")
        return value

    def int_list(self, key: str, low: int, high: int, default: Any = ...) -> tuple[int, ...]:
        values = self.get(key, list, default)
        for index, value in enumerate(values):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise self.fail(f"{key}[{index}]", f"{value!r} is not an integer in [{low}, {high}]")
        return tuple(values)


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})"


def _harmonics(section: _Section) -> tuple[float, ...]:
    harmonics = section.get("harmonics", list)
    for index, value in enumerate(harmonics):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.1 <= value <= 32:
            raise section.fail(f"harmonics[{index}]", f"{value!r} is not a number in [0.1, 32]")
    if 1 not in harmonics:
        raise section.fail("harmonics", "must include 1 (the pitch itself)")
    return tuple(float(h) for h in harmonics)


def _split(section: _Section) -> dict[str, float]:
    split = section.get("split", dict)
    if set(split) != {"train", "val", "test"}:
        raise section.fail("split", f"needs exactly the keys train, val, test; got {sorted(split)}")
    for name, fraction in split.items():
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise section.fail(f"split.{name}", f"{fraction!r} must be a fraction strictly between 0 and 1")
    if abs(sum(split.values()) - 1.0) > 1e-6:
        raise section.fail("split", f"fractions sum to {sum(split.values())}, not 1")
    return {name: float(split[name]) for name in ("train", "val", "test")}


@dataclass(frozen=True)
class RenderConfig:
    seed: int
    soundfonts: tuple[str, ...]
    programs: tuple[int, ...]
    programs_per_octave: int
    excluded_programs: tuple[int, ...]
    midi_low: int
    midi_high: int
    detunes_per_note: int
    detune_cents: float
    bend_range_semitones: int
    velocities: tuple[int, ...]
    note_seconds: float
    release_seconds: float
    sample_rate: int
    notes_per_shard: int

    @property
    def program_pool(self) -> tuple[int, ...]:
        return tuple(p for p in self.programs if p not in self.excluded_programs)


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation, each kind with its own probability: of the soundfont clips' train split (prepare.augment)
    and of every synthetic clip (synthesize.augment)."""

    reverb_prob: float = 0.0
    tilt_prob: float = 0.0
    tilt_db_per_octave: float = 0.0
    noise_prob: float = 0.0
    snr_db_min: float = 40.0
    snr_db_max: float = 40.0


@dataclass(frozen=True)
class PrepareConfig:
    seed: int
    note_seconds: float
    sample_rate: int
    clip_samples: int
    segments: tuple[str, ...]
    silence_db: float
    gain_min: float
    gain_max: float
    missing_fundamental_prob: float
    split: dict[str, float] = field(default_factory=dict)
    augment: AugmentConfig = AugmentConfig()


REPRESENTATIONS = ("stft", "harmonic", "raw")


@dataclass(frozen=True)
class FeaturizeConfig:
    """`stft`: the seed's spectrogram (window … max_hz). `harmonic`: a log-frequency spectrum of the whole clip,
    `bins_per_semitone` bins from `midi_low` to `midi_high`, sampled at each of `harmonics` times the bin's pitch."""

    sample_rate: int
    window: str
    nperseg: int
    noverlap: int
    nfft: int
    scale: str
    max_hz: float | None
    dtype: str
    representation: str = "stft"
    midi_low: float = 35.0
    midi_high: float = 108.0
    bins_per_semitone: int = 5
    harmonics: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0)
    floor_db: float = -80.0


def read_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level")
    return params


def _seed(params: dict, source: str) -> int:
    return _Section(source, TOP, params).get("seed", int, low=0)


def _instruments(s: _Section) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """(soundfonts, programs, excluded programs) of the render section: what the phrases stage reads too."""
    soundfonts = s.get("soundfonts", list)
    if not soundfonts:
        raise s.fail("soundfonts", "needs at least one soundfont")
    for index, font in enumerate(soundfonts):
        if not isinstance(font, str) or not Path(font).is_file():
            raise s.fail(f"soundfonts[{index}]", f"{font!r} is not an existing file")
    programs_value = s.peek("programs", "all")
    programs = tuple(range(128)) if programs_value == "all" else s.int_list("programs", 0, 127)
    excluded = s.int_list("excluded_programs", 0, 127, default=[])
    explicit_excluded = sorted(set(programs) & set(excluded)) if programs_value != "all" else []
    if explicit_excluded:
        raise s.fail("programs", f"{explicit_excluded} are listed in render.excluded_programs (their pitch does not match their label)")
    return tuple(soundfonts), programs, excluded


def render_config(params: dict, source: str = "params.yaml") -> RenderConfig:
    s = _Section(source, "render", params.get("render"))
    soundfonts, programs, excluded = _instruments(s)
    config = RenderConfig(
        seed=_seed(params, source), soundfonts=soundfonts, programs=programs,
        programs_per_octave=s.get("programs_per_octave", int, low=0, high=128),
        excluded_programs=excluded,
        midi_low=s.get("midi_low", int, low=0, high=127), midi_high=s.get("midi_high", int, low=0, high=127),
        detunes_per_note=s.get("detunes_per_note", int, low=1, high=100),
        detune_cents=s.get("detune_cents", float, low=0.0, high=100.0),
        bend_range_semitones=s.get("bend_range_semitones", int, low=1, high=24),
        velocities=s.int_list("velocities", 1, 127),
        note_seconds=s.get("note_seconds", float, low=0.05, high=30.0),
        release_seconds=s.get("release_seconds", float, low=0.0, high=30.0),
        sample_rate=s.get("sample_rate", int, low=8000, high=192000),
        notes_per_shard=s.get("notes_per_shard", int, low=1))
    if config.midi_low > config.midi_high:
        raise s.fail("midi_low", f"{config.midi_low} is above render.midi_high {config.midi_high}")
    if not config.velocities:
        raise s.fail("velocities", "needs at least one velocity")
    if config.detune_cents > 100.0 * config.bend_range_semitones:
        raise s.fail("detune_cents", f"{config.detune_cents} exceeds the pitch-bend range of {config.bend_range_semitones} semitones")
    if len(config.program_pool) < max(1, config.programs_per_octave):
        raise s.fail("programs_per_octave", f"{config.programs_per_octave} wanted but only {len(config.program_pool)} programs remain after exclusions")
    s.finish()
    return config


def augment_config(parent: _Section) -> AugmentConfig:
    a = _Section(parent.source, f"{parent.name}.augment", parent.get("augment", dict))
    config = AugmentConfig(
        reverb_prob=a.get("reverb_prob", float, low=0.0, high=1.0), tilt_prob=a.get("tilt_prob", float, low=0.0, high=1.0),
        tilt_db_per_octave=a.get("tilt_db_per_octave", float, low=0.0, high=24.0),
        noise_prob=a.get("noise_prob", float, low=0.0, high=1.0),
        snr_db_min=a.get("snr_db_min", float, low=-20.0, high=100.0), snr_db_max=a.get("snr_db_max", float, low=-20.0, high=100.0))
    if config.snr_db_min > config.snr_db_max:
        raise a.fail("snr_db_min", f"{config.snr_db_min} is above {a.name}.snr_db_max {config.snr_db_max}")
    a.finish()
    return config


def prepare_config(params: dict, source: str = "params.yaml") -> PrepareConfig:
    s = _Section(source, "prepare", params.get("prepare"))
    segments = s.get("segments", list)
    for index, name in enumerate(segments):
        if name not in SEGMENTS:
            raise s.fail(f"segments[{index}]", f"{name!r} is not one of {SEGMENTS}")
    if not segments or len(set(segments)) != len(segments):
        raise s.fail("segments", "needs one or more distinct segments")
    split = _split(s)
    render = _Section(source, "render", params.get("render"))
    config = PrepareConfig(
        seed=_seed(params, source), note_seconds=render.get("note_seconds", float, low=0.05),
        sample_rate=s.get("sample_rate", int, low=4000, high=96000),
        clip_samples=s.get("clip_samples", int, low=64), segments=tuple(segments),
        silence_db=s.get("silence_db", float, high=0.0),
        gain_min=s.get("gain_min", float, low=0.0, high=1.0), gain_max=s.get("gain_max", float, low=0.0, high=1.0),
        missing_fundamental_prob=s.get("missing_fundamental_prob", float, low=0.0, high=1.0),
        split=split, augment=augment_config(s))
    if config.gain_min > config.gain_max:
        raise s.fail("gain_min", f"{config.gain_min} is above prepare.gain_max {config.gain_max}")
    clip_seconds = config.clip_samples / config.sample_rate
    if "sustain" in segments and config.note_seconds < 2 * clip_seconds:
        raise ParamsError(f"{source}: render.note_seconds: {config.note_seconds} s is too short for separate attack and "
                          f"sustain clips of {clip_seconds:.3f} s (needs at least {2 * clip_seconds:.3f})")
    s.finish()
    return config


def featurize_config(params: dict, source: str = "params.yaml") -> FeaturizeConfig:
    s = _Section(source, "featurize", params.get("featurize"))
    prepare = _Section(source, "prepare", params.get("prepare"))
    harmonic = _Section(source, "featurize.harmonic", s.get("harmonic", dict))
    config = FeaturizeConfig(
        sample_rate=prepare.get("sample_rate", int, low=4000), window=s.get("window", str),
        nperseg=s.get("nperseg", int, low=8), noverlap=s.get("noverlap", int, low=0),
        nfft=s.get("nfft", int, low=8), scale=s.get("scale", str),
        max_hz=None if s.peek("max_hz") is None else s.get("max_hz", float), dtype=s.get("dtype", str),
        representation=s.get("representation", str),
        midi_low=harmonic.get("midi_low", float, low=0.0, high=127.0),
        midi_high=harmonic.get("midi_high", float, low=0.0, high=140.0),
        bins_per_semitone=harmonic.get("bins_per_semitone", int, low=1, high=20),
        harmonics=_harmonics(harmonic), floor_db=harmonic.get("floor_db", float, low=-200.0, high=-10.0))
    if config.representation not in REPRESENTATIONS:
        raise s.fail("representation", f"{config.representation!r} is not one of {', '.join(REPRESENTATIONS)}")
    if config.midi_low >= config.midi_high:
        raise harmonic.fail("midi_low", f"{config.midi_low} must be below featurize.harmonic.midi_high {config.midi_high}")
    if config.noverlap >= config.nperseg:
        raise s.fail("noverlap", f"{config.noverlap} must be smaller than featurize.nperseg {config.nperseg}")
    if config.nfft < config.nperseg:
        raise s.fail("nfft", f"{config.nfft} must be at least featurize.nperseg {config.nperseg}")
    if config.scale not in ("magnitude", "log", "psd"):
        raise s.fail("scale", f"{config.scale!r} is not one of magnitude, log, psd")
    if config.dtype not in ("float16", "float32"):
        raise s.fail("dtype", f"{config.dtype!r} is not float16 or float32")
    if config.max_hz is not None and not 0 < config.max_hz <= config.sample_rate / 2:
        raise s.fail("max_hz", f"{config.max_hz} must be in (0, {config.sample_rate / 2}]")
    try:
        from scipy.signal import get_window
        get_window(config.window, config.nperseg)
    except ValueError as error:
        raise s.fail("window", f"{config.window!r}: {error}") from None
    if config.dtype == "float16" and config.representation == "stft" and config.scale != "log":
        raise s.fail("dtype", f"float16 cannot hold {config.scale} values (they underflow to zero; psd loses most "
                              f"bins): use featurize.scale log or featurize.dtype float32")
    s.finish()
    harmonic.finish()
    return config


@dataclass(frozen=True)
class TrainConfig:
    seed: int
    architecture: str
    head: str
    epochs: int
    batch_size: int
    learning_rate: float
    dropout: float
    bin_cents: float
    blur_cents: float
    pitch_low_midi: float
    pitch_high_midi: float
    frontend: str = "fixed"
    ema_momentum: float = 0.0
    filters: int = 32  # the tracker's convolution width


ARCHITECTURES = ("harmonic", "compact", "original", "frontend")
FRONTENDS = ("fixed", "dft_init", "random")  # the frontend architecture's first layer: a fixed DFT, trained from one, or from noise
PAIRED = {"harmonic": "harmonic", "frontend": "raw"}  # architectures that need one representation, and only them


def _representation(params: dict, source: str) -> str:
    return _Section(source, "featurize", params.get("featurize")).get("representation", str)


def train_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    s = _Section(source, "train", params.get("train"))
    render = _Section(source, "render", params.get("render"))
    margin = render.get("detune_cents", float, low=0.0) / 100.0 + 0.5
    config = TrainConfig(
        seed=_seed(params, source), architecture=s.get("architecture", str), head=s.get("head", str),
        epochs=s.get("epochs", int, low=1), batch_size=s.get("batch_size", int, low=1),
        learning_rate=s.get("learning_rate", float, low=1e-7, high=1.0), dropout=s.get("dropout", float, low=0.0, high=0.95),
        bin_cents=s.get("bin_cents", float, low=1.0, high=100.0), blur_cents=s.get("blur_cents", float, low=1.0, high=200.0),
        pitch_low_midi=render.get("midi_low", int, low=0, high=127) - margin,
        pitch_high_midi=render.get("midi_high", int, low=0, high=127) + margin,
        frontend=s.get("frontend", str, default="fixed"),
        ema_momentum=s.get("ema_momentum", float, default=0.0, low=0.0, high=0.9999))
    if config.frontend not in FRONTENDS:
        raise s.fail("frontend", f"{config.frontend!r} is not one of {', '.join(FRONTENDS)}")
    if config.head not in ("hz", "cents", "bins"):
        raise s.fail("head", f"{config.head!r} is not one of hz, cents, bins")
    if config.architecture not in ARCHITECTURES:
        raise s.fail("architecture", f"{config.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    representation = _representation(params, source)
    if PAIRED.get(config.architecture, representation) != representation or (
            representation in PAIRED.values() and PAIRED.get(config.architecture) != representation):
        raise s.fail("architecture", f"{config.architecture!r} does not go with featurize.representation "
                                     f"{representation!r} (harmonic goes with harmonic, frontend with raw)")
    if config.architecture == "harmonic" and config.head != "bins":
        raise s.fail("head", f"{config.head!r}: the harmonic architecture has one output per bin (head: bins)")
    s.finish()
    return config


@dataclass(frozen=True)
class ProbesConfig:
    seed: int
    sample_rate: int
    clip_samples: int
    gain_min: float
    gain_max: float
    midi_low: int
    midi_high: int
    detunes_per_semitone: int
    noises: tuple[str, ...]
    snr_db: tuple[int, ...]
    reverb: bool
    unvoiced_per_kind: int


def probes_config(params: dict, source: str = "params.yaml") -> ProbesConfig:
    s = _Section(source, "probes", params.get("probes"))
    prepare = _Section(source, "prepare", params.get("prepare"))
    noises = s.get("noises", list)
    for index, kind in enumerate(noises):
        if kind not in ("white", "pink"):
            raise s.fail(f"noises[{index}]", f"{kind!r} is not white or pink")
    config = ProbesConfig(
        seed=s.get("seed", int, low=0), sample_rate=prepare.get("sample_rate", int, low=4000, high=96000),
        clip_samples=prepare.get("clip_samples", int, low=64),
        gain_min=prepare.get("gain_min", float, low=0.0, high=1.0), gain_max=prepare.get("gain_max", float, low=0.0, high=1.0),
        midi_low=s.get("midi_low", int, low=0, high=127), midi_high=s.get("midi_high", int, low=0, high=127),
        detunes_per_semitone=s.get("detunes_per_semitone", int, low=1, high=100), noises=tuple(noises), snr_db=s.int_list("snr_db", -20, 80), reverb=s.get("reverb", bool),
        unvoiced_per_kind=s.get("unvoiced_per_kind", int, low=0))
    if config.midi_low > config.midi_high:
        raise s.fail("midi_low", f"{config.midi_low} is above probes.midi_high {config.midi_high}")
    if config.seed == _seed(params, source):
        raise s.fail("seed", "must differ from the training seed: probes are seeded apart from training data")
    s.finish()
    return config


def loso_config(params: dict, held_out: str, source: str = "params.yaml") -> TrainConfig:
    """The training config of a leave-one-soundfont-out run: `train` with `loso.epochs` epochs."""
    s = _Section(source, "loso", params.get("loso"))
    held = s.get("held_out", list)
    if held_out not in held:
        raise s.fail("held_out", f"{held_out!r} is not listed (have {held})")
    fonts = [Path(f).stem for f in _Section(source, "render", params.get("render")).get("soundfonts", list)]
    if held_out not in fonts:
        raise s.fail("held_out", f"{held_out!r} is not one of the render.soundfonts {fonts}")
    if len(fonts) < 2:
        raise s.fail("held_out", "leaving a soundfont out needs at least two in render.soundfonts")
    config = TrainConfig(**{**train_config(params, source).__dict__, "epochs": s.get("epochs", int, low=1)})
    s.finish()
    return config


def loso_configs(params: dict, source: str = "params.yaml") -> dict[str, TrainConfig]:
    """{soundfont: its leave-one-soundfont-out training config} for every entry of `loso.held_out`."""
    s = _Section(source, "loso", params.get("loso"))
    held = s.get("held_out", list)
    if not held or len(set(map(str, held))) != len(held):
        raise s.fail("held_out", f"needs one or more soundfonts, each once (have {held})")
    return {font: loso_config(params, font, source) for font in held}


@dataclass(frozen=True)
class SynthesizeConfig:
    seed: int
    sample_rate: int
    clip_samples: int
    gain_min: float
    gain_max: float
    augment: AugmentConfig
    midi_low: int
    midi_high: int
    clips: int
    unvoiced_fraction: float
    val_fraction: float
    clips_per_shard: int


def synthesize_config(params: dict, source: str = "params.yaml") -> SynthesizeConfig:
    s = _Section(source, "synthesize", params.get("synthesize"))
    prepare = _Section(source, "prepare", params.get("prepare"))
    render = _Section(source, "render", params.get("render"))
    config = SynthesizeConfig(
        seed=_seed(params, source), sample_rate=prepare.get("sample_rate", int, low=4000, high=96000),
        clip_samples=prepare.get("clip_samples", int, low=64),
        gain_min=prepare.get("gain_min", float, low=0.0, high=1.0), gain_max=prepare.get("gain_max", float, low=0.0, high=1.0),
        augment=augment_config(s),
        midi_low=render.get("midi_low", int, low=0, high=127), midi_high=render.get("midi_high", int, low=0, high=127),
        clips=s.get("clips", int, low=0), unvoiced_fraction=s.get("unvoiced_fraction", float, low=0.0, high=1.0),
        val_fraction=s.get("val_fraction", float, low=0.0, high=0.5), clips_per_shard=s.get("clips_per_shard", int, low=1))
    s.finish()
    return config


@dataclass(frozen=True)
class LearnStftConfig:
    seed: int
    variant: str
    sample_rate: int
    slice_samples: int
    nperseg: int
    noverlap: int
    nfft: int
    dft_points: int
    examples: int
    test_examples: int
    epochs: int
    batch_size: int
    learning_rate: float


def learn_stft_config(params: dict, source: str = "params.yaml") -> LearnStftConfig:
    s = _Section(source, "learn_stft", params.get("learn_stft"))
    config = LearnStftConfig(
        seed=_seed(params, source), variant=s.get("variant", str), sample_rate=s.get("sample_rate", int, low=1000),
        slice_samples=s.get("slice_samples", int, low=16, high=65536), nperseg=s.get("nperseg", int, low=4),
        noverlap=s.get("noverlap", int, low=0), nfft=s.get("nfft", int, low=4),
        dft_points=s.get("dft_points", int, low=2, high=4096), examples=s.get("examples", int, low=1),
        test_examples=s.get("test_examples", int, low=1), epochs=s.get("epochs", int, low=1),
        batch_size=s.get("batch_size", int, low=1), learning_rate=s.get("learning_rate", float, low=1e-7, high=1.0))
    if config.variant not in ("stft", "dft"):
        raise s.fail("variant", f"{config.variant!r} is not one of stft, dft")
    if config.noverlap >= config.nperseg:
        raise s.fail("noverlap", f"{config.noverlap} must be smaller than learn_stft.nperseg {config.nperseg}")
    if config.nfft < config.nperseg:
        raise s.fail("nfft", f"{config.nfft} must be at least learn_stft.nperseg {config.nperseg}")
    if config.nperseg > config.slice_samples:
        raise s.fail("nperseg", f"{config.nperseg} is longer than learn_stft.slice_samples {config.slice_samples}")
    s.finish()
    return config


@dataclass(frozen=True)
class PhrasesConfig:
    """Melodies for the frame-level tracker: FluidSynth phrases (`rendered`, the render section's soundfonts and
    programs) and synthetic ones (`synthetic`), `seconds` long, labelled every `hop` samples. `seed` is the
    training seed for `phrases` and probes.seed for `melody_probes` (then only synthetic phrases, no split)."""

    seed: int
    sample_rate: int
    hop: int
    seconds: float
    rendered: int
    synthetic: int
    phrases_per_shard: int
    midi_low: int
    midi_high: int
    note_seconds_min: float
    note_seconds_max: float
    rest_prob: float
    legato_prob: float
    vibrato_prob: float
    glide_prob: float
    voice_prob: float
    split: dict[str, float]
    augment: AugmentConfig
    soundfonts: tuple[str, ...] = ()
    programs: tuple[int, ...] = ()
    gain_min: float = 0.2
    gain_max: float = 1.0


@dataclass(frozen=True)
class FramesConfig:
    """The tracker's input: one multi-resolution analysis of the whole file (a decimation pyramid of `levels`
    octave-spaced sample rates, the same `window` at each, so low bins get long windows), sampled like the
    harmonic representation at each bin's harmonics every `hop` samples, in dB below the loudest partial within
    ±`reference_seconds`, with the frames at `context` offsets stacked as channels."""

    sample_rate: int
    hop: int
    window: int
    level_below_midi: tuple[float, ...]  # bins below the k-th value read level k + 1 (sample rate / 2^(k+1))
    midi_low: float
    midi_high: float
    bins_per_semitone: int
    harmonics: tuple[float, ...]
    floor_db: float
    reference_seconds: float
    context: tuple[int, ...]
    train_frame_stride: int
    dtype: str = "float16"
    representation: str = "frames"


def frames_config(params: dict, source: str = "params.yaml") -> FramesConfig:
    s = _Section(source, "frames", params.get("frames"))
    prepare = _Section(source, "prepare", params.get("prepare"))
    edges = s.get("level_below_midi", list)
    for index, value in enumerate(edges):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise s.fail(f"level_below_midi[{index}]", f"{value!r} is not a MIDI number")
    if list(edges) != sorted(edges, reverse=True):
        raise s.fail("level_below_midi", f"{edges} must go down: each level below the last")
    context = s.get("context", list)
    if 0 not in context or any(isinstance(c, bool) or not isinstance(c, int) or abs(c) > 50 for c in context):
        raise s.fail("context", f"{context} must be whole frame offsets within ±50, including 0")
    config = FramesConfig(
        sample_rate=prepare.get("sample_rate", int, low=4000, high=96000), hop=s.get("hop", int, low=8, high=4096),
        window=s.get("window", int, low=64, high=8192), level_below_midi=tuple(float(e) for e in edges),
        midi_low=s.get("midi_low", float, low=0.0, high=127.0), midi_high=s.get("midi_high", float, low=0.0, high=140.0),
        bins_per_semitone=s.get("bins_per_semitone", int, low=1, high=20), harmonics=_harmonics(s),
        floor_db=s.get("floor_db", float, low=-200.0, high=-10.0),
        reference_seconds=s.get("reference_seconds", float, low=0.0, high=10.0), context=tuple(context),
        train_frame_stride=s.get("train_frame_stride", int, low=1, high=100))
    if config.midi_low >= config.midi_high:
        raise s.fail("midi_low", f"{config.midi_low} must be below frames.midi_high {config.midi_high}")
    if config.hop % 2 ** len(edges):
        raise s.fail("hop", f"{config.hop} must be a multiple of {2 ** len(edges)} (one hop at every level of the pyramid)")
    s.finish()
    return config


def phrases_config(params: dict, source: str = "params.yaml", section: str = "phrases") -> PhrasesConfig:
    """The `phrases` section, or `melody_probes` (its own seed and counts, the rest from `phrases`)."""
    s = _Section(source, "phrases", params.get("phrases"))
    prepare = _Section(source, "prepare", params.get("prepare"))
    soundfonts, programs = (), ()
    if section == "phrases":  # the probes are synthetic only
        soundfonts, programs, excluded = _instruments(_Section(source, "render", params.get("render")))
        programs = tuple(p for p in programs if p not in excluded)
    config = PhrasesConfig(
        seed=_seed(params, source), sample_rate=prepare.get("sample_rate", int, low=4000, high=96000),
        hop=_Section(source, "frames", params.get("frames")).get("hop", int, low=8, high=4096),
        seconds=s.get("seconds", float, low=0.5, high=60.0), rendered=s.get("rendered", int, low=0),
        synthetic=s.get("synthetic", int, low=0), phrases_per_shard=s.get("phrases_per_shard", int, low=1),
        midi_low=s.get("midi_low", int, low=0, high=127), midi_high=s.get("midi_high", int, low=0, high=127),
        note_seconds_min=s.get("note_seconds_min", float, low=0.02, high=30.0),
        note_seconds_max=s.get("note_seconds_max", float, low=0.02, high=30.0),
        rest_prob=s.get("rest_prob", float, low=0.0, high=1.0), legato_prob=s.get("legato_prob", float, low=0.0, high=1.0),
        vibrato_prob=s.get("vibrato_prob", float, low=0.0, high=1.0), glide_prob=s.get("glide_prob", float, low=0.0, high=1.0),
        voice_prob=s.get("voice_prob", float, low=0.0, high=1.0), split=_split(s), augment=augment_config(s),
        soundfonts=soundfonts, programs=programs,
        gain_min=prepare.get("gain_min", float, low=0.0, high=1.0), gain_max=prepare.get("gain_max", float, low=0.0, high=1.0))
    if config.midi_low > config.midi_high:
        raise s.fail("midi_low", f"{config.midi_low} is above phrases.midi_high {config.midi_high}")
    if config.note_seconds_min > config.note_seconds_max:
        raise s.fail("note_seconds_min", f"{config.note_seconds_min} is above phrases.note_seconds_max {config.note_seconds_max}")
    if section == "phrases" and config.rendered and not config.programs:
        raise s.fail("rendered", "render.programs less render.excluded_programs leaves no program to render")
    if config.rendered + config.synthetic == 0:
        raise s.fail("synthetic", "phrases.rendered and phrases.synthetic are both 0: no melodies to train on")
    s.finish()
    if section == "melody_probes":
        p = _Section(source, "melody_probes", params.get("melody_probes"))
        seed = p.get("seed", int, low=0)
        if seed == config.seed:
            raise p.fail("seed", "must differ from the training seed: probes are seeded apart from training data")
        config = dataclasses.replace(config, seed=seed, rendered=0, synthetic=p.get("phrases", int, low=1),
                                     seconds=p.get("seconds", float, low=0.5, high=60.0),
                                     augment=augment_config(p))
        p.finish()
    return config


def tracker_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    """The frame model's training: `tracker` (epochs, batch, rate, dropout, blur, moving average) with the
    output bins of `frames`."""
    s = _Section(source, "tracker", params.get("tracker"))
    frames = frames_config(params, source)
    config = TrainConfig(
        seed=_seed(params, source), architecture="tracker", head="bins", epochs=s.get("epochs", int, low=1),
        batch_size=s.get("batch_size", int, low=1), learning_rate=s.get("learning_rate", float, low=1e-7, high=1.0),
        dropout=s.get("dropout", float, low=0.0, high=0.95), bin_cents=100.0 / frames.bins_per_semitone,
        blur_cents=s.get("blur_cents", float, low=1.0, high=200.0), pitch_low_midi=frames.midi_low,
        pitch_high_midi=frames.midi_high, ema_momentum=s.get("ema_momentum", float, default=0.0, low=0.0, high=0.9999),
        filters=s.get("filters", int, low=1, high=256))
    s.finish()
    return config


SECTIONS = ("seed", "render", "prepare", "synthesize", "featurize", "train", "probes", "loso", "learn_stft",
            "phrases", "frames", "tracker", "melody_probes", "evaluate_tracker")


def check_params(params: dict, source: str = "params.yaml") -> None:
    """Every section read as its stage reads it, and nothing else in the file: an unknown or misspelt key at any
    level is an error even where no stage that reads its section would rerun."""
    top = _Section(source, TOP, params)
    for key in SECTIONS:
        top.peek(key)
    top.finish()
    render_config(params, source), prepare_config(params, source), synthesize_config(params, source)
    featurize_config(params, source), train_config(params, source), probes_config(params, source)
    for held_out in _Section(source, "loso", params.get("loso")).get("held_out", list):
        loso_config(params, held_out, source)
    learn_stft_config(params, source)
    phrases_config(params, source), phrases_config(params, source, "melody_probes"), tracker_config(params, source)
    evaluate_tracker_config(params, source)


@dataclass(frozen=True)
class EvaluateTrackerConfig:
    baseline_phrases: int  # phrases of each set that YIN and pYIN also track (pYIN runs about 2x real time)


def evaluate_tracker_config(params: dict, source: str = "params.yaml") -> EvaluateTrackerConfig:
    s = _Section(source, "evaluate_tracker", params.get("evaluate_tracker"))
    config = EvaluateTrackerConfig(baseline_phrases=s.get("baseline_phrases", int, low=0))
    s.finish()
    return config

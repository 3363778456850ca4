"""params.yaml as one declarative pydantic model, and the typed configs each stage reads from it.

Every section is a frozen model that refuses unknown keys, with its ranges declared once (`Field`) and its choices
as `Literal`s; the rules that tie keys together, within a section or across sections, are one function
(`cross_rules`). Pydantic's errors become one line naming the key: `params.yaml: render.midi_low: 200 is out of
range [0, 127]`, `params.yaml: featurize.max_Hz: unknown key (did you mean 'max_hz'?)`."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pitchpipe.errors import ParamsError

SEGMENTS = ("attack", "sustain", "decay")
REPRESENTATIONS = ("stft", "harmonic", "raw")
ARCHITECTURES = ("harmonic", "compact", "original", "frontend")
FRONTENDS = ("fixed", "dft_init", "random")  # the frontend architecture's first layer: a fixed DFT, trained from one, or from noise
PAIRED = {"harmonic": "harmonic", "frontend": "raw"}  # architectures that need one representation, and only them


def Range(kind, low=None, high=None):  # noqa: N802 (a type, read as one)
    return Annotated[kind, Field(ge=low, le=high)]


Fraction = Range(float, 0.0, 1.0)
Midi = Range(int, 0, 127)
SampleRate = Range(int, 4000, 96000)
Rate = Range(float, 1e-7, 1.0)
Harmonics = list[Range(float, 0.1, 32)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Augment(Section):
    """Each kind of augmentation with its own probability."""

    reverb_prob: Fraction
    tilt_prob: Fraction
    tilt_db_per_octave: Range(float, 0.0, 24.0)
    noise_prob: Fraction
    snr_db_min: Range(float, -20.0, 100.0)
    snr_db_max: Range(float, -20.0, 100.0)


class Render(Section):
    soundfonts: list[str]
    programs: Union[Literal["all"], list[Midi]] = "all"
    programs_per_octave: Range(int, 0, 128)
    excluded_programs: list[Midi] = []
    midi_low: Midi
    midi_high: Midi
    detunes_per_note: Range(int, 1, 100)
    detune_cents: Range(float, 0.0, 100.0)
    bend_range_semitones: Range(int, 1, 24)
    velocities: list[Range(int, 1, 127)]
    note_seconds: Range(float, 0.05, 30.0)
    release_seconds: Range(float, 0.0, 30.0)
    sample_rate: Range(int, 8000, 192000)
    notes_per_shard: Range(int, 1)


class Prepare(Section):
    sample_rate: SampleRate
    clip_samples: Range(int, 64)
    segments: list[Literal[SEGMENTS]]
    silence_db: Range(float, None, 0.0)
    gain_min: Fraction
    gain_max: Fraction
    missing_fundamental_prob: Fraction
    split: dict[str, float]
    augment: Augment


class Synthesize(Section):
    clips: Range(int, 0)
    unvoiced_fraction: Fraction
    val_fraction: Range(float, 0.0, 0.5)
    clips_per_shard: Range(int, 1)
    augment: Augment


class Harmonic(Section):
    midi_low: Range(float, 0.0, 127.0)
    midi_high: Range(float, 0.0, 140.0)
    bins_per_semitone: Range(int, 1, 20)
    harmonics: Harmonics
    floor_db: Range(float, -200.0, -10.0)


class Featurize(Section):
    representation: Literal[REPRESENTATIONS]
    harmonic: Harmonic
    window: str
    nperseg: Range(int, 8)
    noverlap: Range(int, 0)
    nfft: Range(int, 8)
    scale: Literal["magnitude", "log", "psd"]
    max_hz: float | None
    dtype: Literal["float16", "float32"]


class Train(Section):
    architecture: Literal[ARCHITECTURES]
    frontend: Literal[FRONTENDS] = "fixed"
    head: Literal["hz", "cents", "bins"]
    epochs: Range(int, 1)
    batch_size: Range(int, 1)
    learning_rate: Rate
    dropout: Range(float, 0.0, 0.95)
    bin_cents: Range(float, 1.0, 100.0)
    blur_cents: Range(float, 1.0, 200.0)
    ema_momentum: Range(float, 0.0, 0.9999) = 0.0


class Probes(Section):
    seed: Range(int, 0)
    midi_low: Midi
    midi_high: Midi
    detunes_per_semitone: Range(int, 1, 100)
    noises: list[Literal["white", "pink"]]
    snr_db: list[Range(int, -20, 80)]
    reverb: bool
    unvoiced_per_kind: Range(int, 0)


class Loso(Section):
    held_out: list[str]
    epochs: Range(int, 1)


class LearnStft(Section):
    variant: Literal["stft", "dft"]
    sample_rate: Range(int, 1000)
    slice_samples: Range(int, 16, 65536)
    nperseg: Range(int, 4)
    noverlap: Range(int, 0)
    nfft: Range(int, 4)
    dft_points: Range(int, 2, 4096)
    examples: Range(int, 1)
    test_examples: Range(int, 1)
    epochs: Range(int, 1)
    batch_size: Range(int, 1)
    learning_rate: Rate


class Phrases(Section):
    seconds: Range(float, 0.5, 60.0)
    rendered: Range(int, 0)
    synthetic: Range(int, 0)
    phrases_per_shard: Range(int, 1)
    midi_low: Midi
    midi_high: Midi
    note_seconds_min: Range(float, 0.02, 30.0)
    note_seconds_max: Range(float, 0.02, 30.0)
    rest_prob: Fraction
    legato_prob: Fraction
    vibrato_prob: Fraction
    glide_prob: Fraction
    voice_prob: Fraction
    missing_fundamental_prob: Fraction
    split: dict[str, float]
    augment: Augment


class Frames(Section):
    hop: Range(int, 8, 4096)
    window: Range(int, 64, 8192)
    level_below_midi: list[float]
    midi_low: Range(float, 0.0, 127.0)
    midi_high: Range(float, 0.0, 140.0)
    bins_per_semitone: Range(int, 1, 20)
    harmonics: Harmonics
    floor_db: Range(float, -200.0, -10.0)
    reference_seconds: Range(float, 0.0, 10.0)
    context: list[Range(int, -50, 50)]
    train_frame_stride: Range(int, 1, 100)


class Tracker(Section):
    epochs: Range(int, 1)
    batch_size: Range(int, 1)
    learning_rate: Rate
    dropout: Range(float, 0.0, 0.95)
    blur_cents: Range(float, 1.0, 200.0)
    ema_momentum: Range(float, 0.0, 0.9999) = 0.0
    filters: Range(int, 1, 256)


class MelodyProbes(Section):
    seed: Range(int, 0)
    phrases: Range(int, 1)
    seconds: Range(float, 0.5, 60.0)
    augment: Augment


class EvaluateTracker(Section):
    baseline_phrases: Range(int, 0)  # phrases of each set that YIN and pYIN also track (pYIN runs about 2x real time)


class Params(Section):
    seed: Range(int, 0)
    render: Render
    prepare: Prepare
    synthesize: Synthesize
    featurize: Featurize
    train: Train
    probes: Probes
    loso: Loso
    learn_stft: LearnStft
    phrases: Phrases
    frames: Frames
    tracker: Tracker
    melody_probes: MelodyProbes
    evaluate_tracker: EvaluateTracker


# ---- pydantic's errors in our words ----------------------------------------------------------------------------

def _where(loc: tuple) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _annotation_at(loc: tuple):
    """The annotation (Annotated included) that `loc` points at, walking the models and list elements."""
    annotation: Any = Params
    for part in loc:
        while get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = annotation.model_fields[part].rebuild_annotation() if part in annotation.model_fields else None
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        elif get_origin(annotation) is Union:
            annotation = next((a for a in get_args(annotation) if get_origin(a) is list), None)
            annotation = get_args(annotation)[0] if annotation is not None else None
        if annotation is None:
            return None
    return annotation


def _bounds(annotation) -> tuple[type, Any, Any]:
    kind, low, high = annotation, None, None
    if get_origin(annotation) is Annotated:
        kind, *metadata = get_args(annotation)
        for item in metadata:
            for constraint in getattr(item, "metadata", [item]):
                low = getattr(constraint, "ge", low)
                high = getattr(constraint, "le", high)
    return kind, low, high


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})"


def _explain(error: dict) -> str:
    loc, kind, value = error["loc"], error["type"], error.get("input")
    if kind == "extra_forbidden":
        parent = _annotation_at(loc[:-1])
        return "unknown key" + _did_you_mean(str(loc[-1]), parent.model_fields if parent else [])
    if kind == "missing":
        return "missing"
    annotation = _annotation_at(loc)
    if kind in ("greater_than_equal", "less_than_equal"):
        base, low, high = _bounds(annotation)
        if isinstance(loc[-1], int):
            return f"{value!r} is not {'an integer' if base is int else 'a number'} in [{low:g}, {high:g}]"
        return f"{float(value) if base is float else value!r} is out of range [{low}, {high}]"
    if kind == "literal_error":
        return f"{value!r} is not one of {', '.join(map(str, get_args(annotation)))}"
    if kind == "finite_number":
        return f"must be finite, got {value!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not (get_origin(annotation) is dict):
        return f"expected a mapping of keys, got {type(value).__name__}"
    if kind.endswith("_type"):
        return f"expected {kind.removesuffix('_type').replace('dict', 'mapping')}, got {value!r}"
    return error["msg"]


def _fail(source: str, where: str, why: str) -> ParamsError:
    return ParamsError(f"{source}: {where}: {why}")


def _checked(model, value, loc: tuple, source: str):
    """`value` validated as `model` (a section, or the whole file at loc ()); a problem as a ParamsError."""
    try:
        return model.model_validate(value) if isinstance(model, type) and issubclass(model, BaseModel) else \
            TypeAdapter(model).validate_python(value, strict=True)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        # a value that is neither "all" nor a valid list: report the list's problem, not that it is not "all"
        errors = [e for e in errors if not any(str(part).startswith("literal[") for part in e["loc"])] or errors
        first = errors[0]
        where = loc + tuple(part for part in first["loc"] if not str(part).startswith(("list[", "literal[")))
        raise _fail(source, _where(where) or "<top>", _explain({**first, "loc": where})) from None


def validate(params: dict, source: str = "params.yaml", sections: tuple[str, ...] | None = None,
             rules: tuple[str, ...] | None = None):
    """The file checked field by field and then by `cross_rules`; the first problem as a ParamsError. With
    `sections`, only those (and `seed`) are read and only the `rules` of the sections named there run: what one
    stage reads. Without, the whole file and every rule: `check_params`."""
    if sections is None:
        model = _checked(Params, params, (), source)
        cross_rules(model, source, tuple(Params.model_fields))
        return model
    if not isinstance(params, dict):
        raise _fail(source, "<top>", f"expected a mapping of keys, got {type(params).__name__}")
    missing = next((name for name in ("seed", *sections) if name not in params), None)
    if missing:
        raise _fail(source, missing, "missing")
    values = {name: _checked(Params.model_fields[name].rebuild_annotation(), params[name], (name,), source)
              for name in ("seed", *sections)}
    view = SimpleNamespace(**values)
    cross_rules(view, source, rules if rules is not None else sections)
    return view


def _split_rule(split: dict[str, float], where: str, source: str) -> None:
    if set(split) != {"train", "val", "test"}:
        raise _fail(source, where, f"needs exactly the keys train, val, test; got {sorted(split)}")
    for name, fraction in split.items():
        if not 0 < fraction < 1:
            raise _fail(source, f"{where}.{name}", f"{fraction!r} must be a fraction strictly between 0 and 1")
    if abs(sum(split.values()) - 1.0) > 1e-6:
        raise _fail(source, where, f"fractions sum to {sum(split.values())}, not 1")


def _harmonics_rule(harmonics: list[float], where: str, source: str) -> None:
    if 1 not in harmonics:
        raise _fail(source, where, "must include 1 (the pitch itself)")


def cross_rules(p, source: str, rules: tuple[str, ...]) -> None:
    """What one key cannot say alone, for the sections named in `rules`: orderings, sums, pairings, files that must
    exist. `p` has those sections and any others their rules read."""
    def fail(where: str, why: str) -> ParamsError:
        return _fail(source, where, why)

    if "render" in rules:
        r = p.render
        if not r.soundfonts:
            raise fail("render.soundfonts", "needs at least one soundfont")
        for index, font in enumerate(r.soundfonts):
            if not Path(font).is_file():
                raise fail(f"render.soundfonts[{index}]", f"{font!r} is not an existing file")
        overlap = sorted(set(r.programs) & set(r.excluded_programs)) if r.programs != "all" else []
        if overlap:
            raise fail("render.programs", f"{overlap} are listed in render.excluded_programs (their pitch does not match their label)")
        if r.midi_low > r.midi_high:
            raise fail("render.midi_low", f"{r.midi_low} is above render.midi_high {r.midi_high}")
        if not r.velocities:
            raise fail("render.velocities", "needs at least one velocity")
        if r.detune_cents > 100.0 * r.bend_range_semitones:
            raise fail("render.detune_cents", f"{float(r.detune_cents)} exceeds the pitch-bend range of {r.bend_range_semitones} semitones")
        if len(program_pool(r)) < max(1, r.programs_per_octave):
            raise fail("render.programs_per_octave", f"{r.programs_per_octave} wanted but only {len(program_pool(r))} programs remain after exclusions")
    for name in ("prepare", "synthesize", "phrases", "melody_probes"):
        augment = getattr(p, name).augment if name in rules else None
        if augment is not None and augment.snr_db_min > augment.snr_db_max:
            raise fail(f"{name}.augment.snr_db_min", f"{float(augment.snr_db_min)} is above {name}.augment.snr_db_max {float(augment.snr_db_max)}")
    if "prepare" in rules:
        q = p.prepare
        if not q.segments or len(set(q.segments)) != len(q.segments):
            raise fail("prepare.segments", "needs one or more distinct segments")
        _split_rule(q.split, "prepare.split", source)
        if q.gain_min > q.gain_max:
            raise fail("prepare.gain_min", f"{float(q.gain_min)} is above prepare.gain_max {float(q.gain_max)}")
        clip_seconds = q.clip_samples / q.sample_rate
        if "sustain" in q.segments and p.render.note_seconds < 2 * clip_seconds:
            raise fail("render.note_seconds", f"{float(p.render.note_seconds)} s is too short for separate attack and "
                                              f"sustain clips of {clip_seconds:.3f} s (needs at least {2 * clip_seconds:.3f})")
    if "featurize" in rules:
        f, h = p.featurize, p.featurize.harmonic
        _harmonics_rule(h.harmonics, "featurize.harmonic.harmonics", source)
        if h.midi_low >= h.midi_high:
            raise fail("featurize.harmonic.midi_low", f"{float(h.midi_low)} must be below featurize.harmonic.midi_high {float(h.midi_high)}")
        if f.noverlap >= f.nperseg:
            raise fail("featurize.noverlap", f"{f.noverlap} must be smaller than featurize.nperseg {f.nperseg}")
        if f.nfft < f.nperseg:
            raise fail("featurize.nfft", f"{f.nfft} must be at least featurize.nperseg {f.nperseg}")
        if f.max_hz is not None and not 0 < f.max_hz <= p.prepare.sample_rate / 2:
            raise fail("featurize.max_hz", f"{float(f.max_hz)} must be in (0, {p.prepare.sample_rate / 2}]")
        try:
            from scipy.signal import get_window
            get_window(f.window, f.nperseg)
        except ValueError as error:
            raise fail("featurize.window", f"{f.window!r}: {error}") from None
        if f.dtype == "float16" and f.representation == "stft" and f.scale != "log":
            raise fail("featurize.dtype", f"float16 cannot hold {f.scale} values (they underflow to zero; psd loses most "
                                          f"bins): use featurize.scale log or featurize.dtype float32")
    if "train" in rules:
        t, representation = p.train, p.featurize.representation
        if PAIRED.get(t.architecture, representation) != representation or (
                representation in PAIRED.values() and PAIRED.get(t.architecture) != representation):
            raise fail("train.architecture", f"{t.architecture!r} does not go with featurize.representation "
                                             f"{representation!r} (harmonic goes with harmonic, frontend with raw)")
        if t.architecture == "harmonic" and t.head != "bins":
            raise fail("train.head", f"{t.head!r}: the harmonic architecture has one output per bin (head: bins)")
    if "probes" in rules and p.probes.midi_low > p.probes.midi_high:
        raise fail("probes.midi_low", f"{p.probes.midi_low} is above probes.midi_high {p.probes.midi_high}")
    for name in ("probes", "melody_probes"):
        if name in rules and getattr(p, name).seed == p.seed:
            raise fail(f"{name}.seed", "must differ from the training seed: probes are seeded apart from training data")
    if "loso" in rules:
        held, fonts = p.loso.held_out, [Path(font).stem for font in p.render.soundfonts]
        if not held or len(set(held)) != len(held):
            raise fail("loso.held_out", f"needs one or more soundfonts, each once (have {held})")
        for font in held:
            if font not in fonts:
                raise fail("loso.held_out", f"{font!r} is not one of the render.soundfonts {fonts}")
        if len(fonts) < 2:
            raise fail("loso.held_out", "leaving a soundfont out needs at least two in render.soundfonts")
    if "learn_stft" in rules:
        s = p.learn_stft
        if s.noverlap >= s.nperseg:
            raise fail("learn_stft.noverlap", f"{s.noverlap} must be smaller than learn_stft.nperseg {s.nperseg}")
        if s.nfft < s.nperseg:
            raise fail("learn_stft.nfft", f"{s.nfft} must be at least learn_stft.nperseg {s.nperseg}")
        if s.nperseg > s.slice_samples:
            raise fail("learn_stft.nperseg", f"{s.nperseg} is longer than learn_stft.slice_samples {s.slice_samples}")
    if "frames" in rules:
        m = p.frames
        _harmonics_rule(m.harmonics, "frames.harmonics", source)
        if m.level_below_midi != sorted(m.level_below_midi, reverse=True):
            raise fail("frames.level_below_midi", f"{m.level_below_midi} must go down: each level below the last")
        if 0 not in m.context:
            raise fail("frames.context", f"{m.context} must be whole frame offsets within ±50, including 0")
        if m.midi_low >= m.midi_high:
            raise fail("frames.midi_low", f"{float(m.midi_low)} must be below frames.midi_high {float(m.midi_high)}")
        if m.hop % 2 ** len(m.level_below_midi):
            raise fail("frames.hop", f"{m.hop} must be a multiple of {2 ** len(m.level_below_midi)} (one hop at every level of the pyramid)")
    if "phrases" in rules:
        ph = p.phrases
        _split_rule(ph.split, "phrases.split", source)
        if ph.midi_low > ph.midi_high:
            raise fail("phrases.midi_low", f"{ph.midi_low} is above phrases.midi_high {ph.midi_high}")
        if ph.note_seconds_min > ph.note_seconds_max:
            raise fail("phrases.note_seconds_min", f"{float(ph.note_seconds_min)} is above phrases.note_seconds_max {float(ph.note_seconds_max)}")
        if ph.rendered and hasattr(p, "render") and not program_pool(p.render):
            raise fail("phrases.rendered", "render.programs less render.excluded_programs leaves no program to render")
        if ph.rendered + ph.synthetic == 0:
            raise fail("phrases.synthetic", "phrases.rendered and phrases.synthetic are both 0: no melodies to train on")


def program_pool(render: Render) -> tuple[int, ...]:
    programs = range(128) if render.programs == "all" else render.programs
    return tuple(p for p in programs if p not in render.excluded_programs)


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


def check_params(params: dict, source: str = "params.yaml") -> None:
    """Every section checked and nothing else in the file: an unknown or misspelt key at any level is an error even
    where no stage that reads its section would rerun."""
    validate(params, source)


# ---- what each stage reads ---------------------------------------------------------------------------------------

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
    missing_fundamental_prob: float = 0.0  # training phrases high-passed just above their highest note


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


@dataclass(frozen=True)
class EvaluateTrackerConfig:
    baseline_phrases: int


def _augment(section: Augment) -> AugmentConfig:
    return AugmentConfig(**section.model_dump())


def _split(split: dict[str, float]) -> dict[str, float]:
    return {name: float(split[name]) for name in ("train", "val", "test")}


def render_config(params: dict, source: str = "params.yaml") -> RenderConfig:
    p = validate(params, source, ("render",))
    r = p.render
    return RenderConfig(
        seed=p.seed, soundfonts=tuple(r.soundfonts), programs=tuple(range(128)) if r.programs == "all" else tuple(r.programs),
        programs_per_octave=r.programs_per_octave, excluded_programs=tuple(r.excluded_programs), midi_low=r.midi_low,
        midi_high=r.midi_high, detunes_per_note=r.detunes_per_note, detune_cents=r.detune_cents,
        bend_range_semitones=r.bend_range_semitones, velocities=tuple(r.velocities), note_seconds=r.note_seconds,
        release_seconds=r.release_seconds, sample_rate=r.sample_rate, notes_per_shard=r.notes_per_shard)


def prepare_config(params: dict, source: str = "params.yaml") -> PrepareConfig:
    p = validate(params, source, ("render", "prepare"), ("prepare",))
    q = p.prepare
    return PrepareConfig(
        seed=p.seed, note_seconds=p.render.note_seconds, sample_rate=q.sample_rate, clip_samples=q.clip_samples,
        segments=tuple(q.segments), silence_db=q.silence_db, gain_min=q.gain_min, gain_max=q.gain_max,
        missing_fundamental_prob=q.missing_fundamental_prob, split=_split(q.split), augment=_augment(q.augment))


def featurize_config(params: dict, source: str = "params.yaml") -> FeaturizeConfig:
    p = validate(params, source, ("prepare", "featurize"), ("featurize",))
    f, h = p.featurize, p.featurize.harmonic
    return FeaturizeConfig(
        sample_rate=p.prepare.sample_rate, window=f.window, nperseg=f.nperseg, noverlap=f.noverlap, nfft=f.nfft,
        scale=f.scale, max_hz=f.max_hz, dtype=f.dtype, representation=f.representation, midi_low=h.midi_low,
        midi_high=h.midi_high, bins_per_semitone=h.bins_per_semitone, harmonics=tuple(h.harmonics), floor_db=h.floor_db)


def train_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    p = validate(params, source, ("render", "featurize", "train"), ("train",))
    t, margin = p.train, p.render.detune_cents / 100.0 + 0.5
    return TrainConfig(
        seed=p.seed, architecture=t.architecture, head=t.head, epochs=t.epochs, batch_size=t.batch_size,
        learning_rate=t.learning_rate, dropout=t.dropout, bin_cents=t.bin_cents, blur_cents=t.blur_cents,
        pitch_low_midi=p.render.midi_low - margin, pitch_high_midi=p.render.midi_high + margin, frontend=t.frontend,
        ema_momentum=t.ema_momentum)


def probes_config(params: dict, source: str = "params.yaml") -> ProbesConfig:
    p = validate(params, source, ("prepare", "probes"), ("probes",))
    s, q = p.probes, p.prepare
    return ProbesConfig(
        seed=s.seed, sample_rate=q.sample_rate, clip_samples=q.clip_samples, gain_min=q.gain_min, gain_max=q.gain_max,
        midi_low=s.midi_low, midi_high=s.midi_high, detunes_per_semitone=s.detunes_per_semitone,
        noises=tuple(s.noises), snr_db=tuple(s.snr_db), reverb=s.reverb, unvoiced_per_kind=s.unvoiced_per_kind)


def loso_config(params: dict, held_out: str, source: str = "params.yaml") -> TrainConfig:
    """The training config of a leave-one-soundfont-out run: `train` with `loso.epochs` epochs."""
    held = params.get("loso", {}).get("held_out", []) if isinstance(params.get("loso"), dict) else []
    if held_out not in held:
        raise _fail(source, "loso.held_out", f"{held_out!r} is not listed (have {held})")
    loso = validate(params, source, ("render", "loso")).loso
    return dataclasses.replace(train_config(params, source), epochs=loso.epochs)


def loso_configs(params: dict, source: str = "params.yaml") -> dict[str, TrainConfig]:
    """{soundfont: its leave-one-soundfont-out training config} for every entry of `loso.held_out`."""
    return {font: loso_config(params, font, source) for font in validate(params, source, ("render", "loso")).loso.held_out}


def synthesize_config(params: dict, source: str = "params.yaml") -> SynthesizeConfig:
    p = validate(params, source, ("render", "prepare", "synthesize"), ("synthesize",))
    s, q = p.synthesize, p.prepare
    return SynthesizeConfig(
        seed=p.seed, sample_rate=q.sample_rate, clip_samples=q.clip_samples, gain_min=q.gain_min, gain_max=q.gain_max,
        augment=_augment(s.augment), midi_low=p.render.midi_low, midi_high=p.render.midi_high, clips=s.clips,
        unvoiced_fraction=s.unvoiced_fraction, val_fraction=s.val_fraction, clips_per_shard=s.clips_per_shard)


def learn_stft_config(params: dict, source: str = "params.yaml") -> LearnStftConfig:
    p = validate(params, source, ("learn_stft",))
    return LearnStftConfig(seed=p.seed, **p.learn_stft.model_dump())


def frames_config(params: dict, source: str = "params.yaml") -> FramesConfig:
    p = validate(params, source, ("prepare", "frames"), ("frames",))
    m = p.frames.model_dump()
    return FramesConfig(**{**m, "sample_rate": p.prepare.sample_rate, "level_below_midi": tuple(m["level_below_midi"]),
                           "harmonics": tuple(m["harmonics"]), "context": tuple(m["context"])})


def phrases_config(params: dict, source: str = "params.yaml", section: str = "phrases") -> PhrasesConfig:
    """The `phrases` section, or `melody_probes` (its own seed and counts, the rest from `phrases`)."""
    p = validate(params, source, ("render", "prepare", "frames", "phrases") if section == "phrases" else
                 ("prepare", "frames", "phrases", "melody_probes"), ("render", "phrases") if section == "phrases" else
                 ("phrases", "melody_probes"))
    s, q = p.phrases, p.prepare
    config = PhrasesConfig(
        **{**s.model_dump(exclude={"split", "augment"}), "seed": p.seed, "sample_rate": q.sample_rate, "hop": p.frames.hop,
           "split": _split(s.split), "augment": _augment(s.augment), "gain_min": q.gain_min, "gain_max": q.gain_max},
        soundfonts=tuple(p.render.soundfonts) if section == "phrases" else (),  # the probes are synthetic only
        programs=program_pool(p.render) if section == "phrases" else ())
    if section == "melody_probes":
        m = p.melody_probes
        config = dataclasses.replace(config, seed=m.seed, rendered=0, synthetic=m.phrases, seconds=m.seconds,
                                     augment=_augment(m.augment), missing_fundamental_prob=0.0)
    return config


def tracker_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    """The frame model's training: `tracker` (epochs, batch, rate, dropout, blur, moving average) with the
    output bins of `frames`."""
    p = validate(params, source, ("frames", "tracker"), ("frames",))
    t, m = p.tracker, p.frames
    return TrainConfig(
        seed=p.seed, architecture="tracker", head="bins", epochs=t.epochs, batch_size=t.batch_size,
        learning_rate=t.learning_rate, dropout=t.dropout, bin_cents=100.0 / m.bins_per_semitone, blur_cents=t.blur_cents,
        pitch_low_midi=m.midi_low, pitch_high_midi=m.midi_high, ema_momentum=t.ema_momentum, filters=t.filters)


def evaluate_tracker_config(params: dict, source: str = "params.yaml") -> EvaluateTrackerConfig:
    return EvaluateTrackerConfig(**validate(params, source, ("evaluate_tracker",)).evaluate_tracker.model_dump())

"""params.yaml as one declarative pydantic model, and the typed config each stage reads from it.

Every section is a frozen model that refuses unknown keys, with its ranges declared once (`Field`) and its choices
as `Literal`s; the rules that tie keys together, within a section or across sections, are one function
(`cross_rules`). Pydantic's errors become one line naming the key: `params.yaml: render.midi_low: 200 is out of
range [0, 127]`, `params.yaml: featurize.stft.max_Hz: unknown key (did you mean 'max_hz'?)`. A stage's config is its
section plus the keys it borrows from others (`Borrowed`); the featurize config is a discriminated union of the
representations, each carrying only its own fields."""

from __future__ import annotations

import difflib
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from pitchpipe.errors import ParamsError

SEGMENTS = ("attack", "sustain", "decay")
REPRESENTATIONS = ("stft", "harmonic", "raw")
ARCHITECTURES = ("harmonic", "compact", "original", "frontend")
FRONTENDS = ("fixed", "dft_init", "random")  # the frontend architecture's first layer: a fixed DFT, trained from one, or from noise
PAIRED = {"harmonic": "harmonic", "frontend": "raw"}  # architectures that need one representation, and only them


def Range(kind, low=None, high=None):  # noqa: N802 (a type, read as one)
    return Annotated[kind, Field(ge=low, le=high)]


def Seq(item):  # noqa: N802 (a type): a YAML list, held as a tuple so that configs hash and cannot change
    return Annotated[tuple[item, ...], BeforeValidator(lambda value: tuple(value) if isinstance(value, list) else value)]


def Borrowed(path: str):  # noqa: N802 (a field): a stage config's key read from another section, e.g. "prepare.sample_rate"
    return Field(json_schema_extra={"from": path})


Fraction = Range(float, 0.0, 1.0)
Midi = Range(int, 0, 127)
SampleRate = Range(int, 4000, 96000)
Rate = Range(float, 1e-7, 1.0)
Harmonics = Seq(Range(float, 0.1, 32))


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
    soundfonts: Seq(str)
    programs: Union[Literal["all"], Seq(Midi)] = "all"
    programs_per_octave: Range(int, 0, 128)
    excluded_programs: Seq(Midi) = ()
    midi_low: Midi
    midi_high: Midi
    detunes_per_note: Range(int, 1, 100)
    detune_cents: Range(float, 0.0, 100.0)
    bend_range_semitones: Range(int, 1, 24)
    velocities: Seq(Range(int, 1, 127))
    note_seconds: Range(float, 0.05, 30.0)
    release_seconds: Range(float, 0.0, 30.0)
    sample_rate: Range(int, 8000, 192000)
    notes_per_shard: Range(int, 1)

    @property
    def program_pool(self) -> tuple[int, ...]:
        """The programs that may be drawn: `programs` ("all": 0-127) less `excluded_programs`."""
        programs = range(128) if self.programs == "all" else self.programs
        return tuple(p for p in programs if p not in self.excluded_programs)


class Prepare(Section):
    sample_rate: SampleRate
    clip_samples: Range(int, 64)
    segments: Seq(Literal[SEGMENTS])
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
    """A log-frequency spectrum of the whole clip: `bins_per_semitone` bins from `midi_low` to `midi_high`,
    sampled at each of `harmonics` times the bin's pitch."""

    midi_low: Range(float, 0.0, 127.0)
    midi_high: Range(float, 0.0, 140.0)
    bins_per_semitone: Range(int, 1, 20)
    harmonics: Harmonics
    floor_db: Range(float, -200.0, -10.0)


class Stft(Section):
    """The seed's spectrogram, scipy.signal.spectrogram semantics."""

    window: str
    nperseg: Range(int, 8)
    noverlap: Range(int, 0)
    nfft: Range(int, 8)
    scale: Literal["magnitude", "log", "psd"]
    max_hz: float | None


class Featurize(Section):
    representation: Literal[REPRESENTATIONS]
    dtype: Literal["float16", "float32"]
    harmonic: Harmonic
    stft: Stft


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
    noises: Seq(Literal["white", "pink"])
    snr_db: Seq(Range(int, -20, 80))
    reverb: bool
    unvoiced_per_kind: Range(int, 0)


class Loso(Section):
    held_out: Seq(str)
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
    missing_fundamental_prob: Fraction  # training phrases high-passed just above their highest note
    split: dict[str, float]
    augment: Augment


class Frames(Section):
    """The tracker's input: one multi-resolution analysis of the whole file (a decimation pyramid of octave-spaced
    sample rates, the same `window` at each, so low bins get long windows; bins below the k-th `level_below_midi`
    read level k + 1), sampled like the harmonic representation at each bin's harmonics every `hop` samples, in dB
    below the loudest partial within ±`reference_seconds`, with the frames at `context` offsets stacked as channels."""

    hop: Range(int, 8, 4096)
    window: Range(int, 64, 8192)
    level_below_midi: Seq(float)
    midi_low: Range(float, 0.0, 127.0)
    midi_high: Range(float, 0.0, 140.0)
    bins_per_semitone: Range(int, 1, 20)
    harmonics: Harmonics
    floor_db: Range(float, -200.0, -10.0)
    reference_seconds: Range(float, 0.0, 10.0)
    context: Seq(Range(int, -50, 50))
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
        elif get_origin(annotation) in (tuple, dict):
            annotation = get_args(annotation)[-1 if get_origin(annotation) is dict else 0]
        elif get_origin(annotation) is Union:  # "all" or a list: the list's item
            annotation = next((get_args(get_args(a)[0])[0] for a in get_args(annotation) if get_origin(a) is Annotated), None)
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
        return f"expected {kind.removesuffix('_type').replace('dict', 'mapping').replace('tuple', 'list')}, got {value!r}"
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
        first = errors[0]  # its loc without the union members' and validators' names ("tuple[...]", "function-before[...]")
        where = loc + tuple(part for part in first["loc"] if not (isinstance(part, str) and "[" in part))
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
        if len(r.program_pool) < max(1, r.programs_per_octave):
            raise fail("render.programs_per_octave", f"{r.programs_per_octave} wanted but only {len(r.program_pool)} programs remain after exclusions")
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
        f, h, s = p.featurize, p.featurize.harmonic, p.featurize.stft
        _harmonics_rule(h.harmonics, "featurize.harmonic.harmonics", source)
        if h.midi_low >= h.midi_high:
            raise fail("featurize.harmonic.midi_low", f"{float(h.midi_low)} must be below featurize.harmonic.midi_high {float(h.midi_high)}")
        if s.noverlap >= s.nperseg:
            raise fail("featurize.stft.noverlap", f"{s.noverlap} must be smaller than featurize.stft.nperseg {s.nperseg}")
        if s.nfft < s.nperseg:
            raise fail("featurize.stft.nfft", f"{s.nfft} must be at least featurize.stft.nperseg {s.nperseg}")
        if s.max_hz is not None and not 0 < s.max_hz <= p.prepare.sample_rate / 2:
            raise fail("featurize.stft.max_hz", f"{float(s.max_hz)} must be in (0, {p.prepare.sample_rate / 2}]")
        try:
            from scipy.signal import get_window
            get_window(s.window, s.nperseg)
        except ValueError as error:
            raise fail("featurize.stft.window", f"{s.window!r}: {error}") from None
        if f.dtype == "float16" and f.representation == "stft" and s.scale != "log":
            raise fail("featurize.dtype", f"float16 cannot hold {s.scale} values (they underflow to zero; psd loses most "
                                          f"bins): use featurize.stft.scale log or featurize.dtype float32")
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
            raise fail("loso.held_out", f"needs one or more soundfonts, each once (have {list(held)})")
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
        if list(m.level_below_midi) != sorted(m.level_below_midi, reverse=True):
            raise fail("frames.level_below_midi", f"{list(m.level_below_midi)} must go down: each level below the last")
        if 0 not in m.context:
            raise fail("frames.context", f"{list(m.context)} must be whole frame offsets within ±50, including 0")
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
        if ph.rendered and hasattr(p, "render") and not p.render.program_pool:
            raise fail("phrases.rendered", "render.programs less render.excluded_programs leaves no program to render")
        if ph.rendered + ph.synthetic == 0:
            raise fail("phrases.synthetic", "phrases.rendered and phrases.synthetic are both 0: no melodies to train on")


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


# ---- what each stage reads: its section, plus what it borrows ---------------------------------------------------

class RenderConfig(Render):
    seed: int = Borrowed("seed")
    programs: Seq(Midi)  # "all" spelt out


class PrepareConfig(Prepare):
    seed: int = Borrowed("seed")
    note_seconds: float = Borrowed("render.note_seconds")


class Features(Section):
    sample_rate: int = Borrowed("prepare.sample_rate")
    dtype: Literal["float16", "float32", "float64"] = Borrowed("featurize.dtype")  # params: 16 or 32; 64 for exact checks


class StftFeatures(Stft, Features):
    representation: Literal["stft"] = "stft"


class HarmonicFeatures(Harmonic, Features):
    representation: Literal["harmonic"] = "harmonic"


class RawFeatures(Features):
    """The audio itself, for models that learn their own front end."""

    representation: Literal["raw"] = "raw"


FeaturizeConfig = Annotated[Union[StftFeatures, HarmonicFeatures, RawFeatures], Field(discriminator="representation")]
_FEATURES = TypeAdapter(FeaturizeConfig)


class TrainConfig(Train):
    """The note model's training (`train`), or the tracker's (`tracker` with the output bins of `frames`)."""

    seed: int = Borrowed("seed")
    architecture: Literal[(*ARCHITECTURES, "tracker")]
    pitch_low_midi: float
    pitch_high_midi: float
    filters: int = 32  # the tracker's convolution width


class Clips(Section):
    """What every maker of clips takes from `prepare`: their rate, length and gain range."""

    sample_rate: int = Borrowed("prepare.sample_rate")
    clip_samples: int = Borrowed("prepare.clip_samples")
    gain_min: float = Borrowed("prepare.gain_min")
    gain_max: float = Borrowed("prepare.gain_max")


class ProbesConfig(Probes, Clips):
    pass


class SynthesizeConfig(Synthesize, Clips):
    seed: int = Borrowed("seed")
    midi_low: int = Borrowed("render.midi_low")
    midi_high: int = Borrowed("render.midi_high")


class LearnStftConfig(LearnStft):
    seed: int = Borrowed("seed")


class PhrasesConfig(Phrases):
    """Melodies for the frame-level tracker: FluidSynth phrases (`rendered`, from `soundfonts` and `programs`) and
    synthetic ones (`synthetic`), `seconds` long, labelled every `hop` samples. `seed` is the training seed for
    `phrases` and melody_probes.seed for `melody_probes` (then only synthetic phrases, no split)."""

    seed: int = Borrowed("seed")
    sample_rate: int = Borrowed("prepare.sample_rate")
    hop: int = Borrowed("frames.hop")
    gain_min: float = Borrowed("prepare.gain_min")
    gain_max: float = Borrowed("prepare.gain_max")
    soundfonts: Seq(str) = ()
    programs: Seq(int) = ()


class FramesConfig(Frames):
    sample_rate: int = Borrowed("prepare.sample_rate")
    dtype: Literal["float16", "float32"] = "float16"
    representation: Literal["frames"] = "frames"


EvaluateTrackerConfig = EvaluateTracker


def _build(config: type[BaseModel], p, section: str | None = None, **values):
    """`config` from the keys of `section` (a dotted path into `p`), its borrowed keys and `values`."""
    fields = attrgetter(section)(p).model_dump() if section else {}
    for name, info in config.model_fields.items():
        if info.json_schema_extra and name not in values:
            fields[name] = attrgetter(info.json_schema_extra["from"])(p)
    return config(**{**fields, **values})


def _split(split: dict[str, float]) -> dict[str, float]:
    return {name: float(split[name]) for name in ("train", "val", "test")}


def render_config(params: dict, source: str = "params.yaml") -> RenderConfig:
    p = validate(params, source, ("render",))
    return _build(RenderConfig, p, "render", programs=tuple(range(128)) if p.render.programs == "all" else p.render.programs)


def prepare_config(params: dict, source: str = "params.yaml") -> PrepareConfig:
    p = validate(params, source, ("render", "prepare"), ("prepare",))
    return _build(PrepareConfig, p, "prepare", split=_split(p.prepare.split))


def featurize_config(params: dict, source: str = "params.yaml") -> FeaturizeConfig:
    p = validate(params, source, ("prepare", "featurize"), ("featurize",))
    kind = p.featurize.representation
    variant = {"stft": StftFeatures, "harmonic": HarmonicFeatures, "raw": RawFeatures}[kind]
    return _build(variant, p, None if kind == "raw" else f"featurize.{kind}")


def featurize_config_from(values: dict) -> FeaturizeConfig:
    """The featurize config recorded in feature shards and saved models (JSON), back as its representation's type."""
    return _FEATURES.validate_python(values)


def train_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    p = validate(params, source, ("render", "featurize", "train"), ("train",))
    margin = p.render.detune_cents / 100.0 + 0.5
    return _build(TrainConfig, p, "train", pitch_low_midi=p.render.midi_low - margin,
                  pitch_high_midi=p.render.midi_high + margin)


def probes_config(params: dict, source: str = "params.yaml") -> ProbesConfig:
    return _build(ProbesConfig, validate(params, source, ("prepare", "probes"), ("probes",)), "probes")


def loso_config(params: dict, held_out: str, source: str = "params.yaml") -> TrainConfig:
    """The training config of a leave-one-soundfont-out run: `train` with `loso.epochs` epochs."""
    return loso_configs(params, source, held_out)[held_out]


def loso_configs(params: dict, source: str = "params.yaml", only: str | None = None) -> dict[str, TrainConfig]:
    """{soundfont: its leave-one-soundfont-out training config} for every entry of `loso.held_out` (or `only`)."""
    loso = validate(params, source, ("render", "loso")).loso
    if only is not None and only not in loso.held_out:
        raise _fail(source, "loso.held_out", f"{only!r} is not listed (have {list(loso.held_out)})")
    config = train_config(params, source).model_copy(update={"epochs": loso.epochs})
    return {font: config for font in loso.held_out if only in (None, font)}


def synthesize_config(params: dict, source: str = "params.yaml") -> SynthesizeConfig:
    p = validate(params, source, ("render", "prepare", "synthesize"), ("synthesize",))
    return _build(SynthesizeConfig, p, "synthesize")


def learn_stft_config(params: dict, source: str = "params.yaml") -> LearnStftConfig:
    return _build(LearnStftConfig, validate(params, source, ("learn_stft",)), "learn_stft")


def frames_config(params: dict, source: str = "params.yaml") -> FramesConfig:
    return _build(FramesConfig, validate(params, source, ("prepare", "frames"), ("frames",)), "frames")


def phrases_config(params: dict, source: str = "params.yaml", section: str = "phrases") -> PhrasesConfig:
    """The `phrases` section, or `melody_probes` (its own seed and counts, the rest from `phrases`; synthetic only,
    never high-passed)."""
    if section == "phrases":
        p = validate(params, source, ("render", "prepare", "frames", "phrases"), ("render", "phrases"))
        return _build(PhrasesConfig, p, "phrases", split=_split(p.phrases.split), soundfonts=p.render.soundfonts,
                      programs=p.render.program_pool)
    p = validate(params, source, ("prepare", "frames", "phrases", "melody_probes"), ("phrases", "melody_probes"))
    m = p.melody_probes
    return _build(PhrasesConfig, p, "phrases", split=_split(p.phrases.split), seed=m.seed, rendered=0,
                  synthetic=m.phrases, seconds=m.seconds, augment=m.augment, missing_fundamental_prob=0.0)


def tracker_config(params: dict, source: str = "params.yaml") -> TrainConfig:
    """The frame model's training: `tracker` (epochs, batch, rate, dropout, blur, moving average, width) with the
    output bins of `frames`."""
    p = validate(params, source, ("frames", "tracker"), ("frames",))
    m = p.frames
    return _build(TrainConfig, p, "tracker", architecture="tracker", head="bins", bin_cents=100.0 / m.bins_per_semitone,
                  pitch_low_midi=m.midi_low, pitch_high_midi=m.midi_high)


def evaluate_tracker_config(params: dict, source: str = "params.yaml") -> EvaluateTrackerConfig:
    return validate(params, source, ("evaluate_tracker",)).evaluate_tracker

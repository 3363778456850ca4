import io
import time

from pitchpipe.parallel import Progress, default_workers


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_with_rate_and_eta():
    stream = Terminal()
    progress = Progress("render", 10, "notes", stream=stream)
    time.sleep(0.3)  # the bar redraws at most five times a second
    progress.advance(4)
    time.sleep(0.3)
    progress.advance(6)
    progress.finish()
    text = stream.getvalue()
    assert "\rrender:  40%" in text and "4/10 [" in text and " notes/s]" in text  # tqdm: share, count, ETA, rate
    assert text.rstrip().splitlines()[-1].startswith("render: 10 notes in ")


def test_progress_is_one_summary_line_in_logs():
    stream = io.StringIO()
    progress = Progress("prepare", 3, stream=stream)
    progress.advance(3)
    progress.finish(", 9 clips kept")
    assert stream.getvalue().count("\n") == 1 and "\r" not in stream.getvalue()
    assert stream.getvalue().startswith("prepare: 3 clips in ") and stream.getvalue().endswith(", 9 clips kept\n")


def test_workers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PITCHPIPE_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("PITCHPIPE_WORKERS", "zero")
    try:
        default_workers()
    except ValueError as error:
        assert "PITCHPIPE_WORKERS='zero'" in str(error)
    else:
        raise AssertionError("a bad worker count was accepted")

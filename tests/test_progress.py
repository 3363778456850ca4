import io

from pitchpipe.parallel import Progress, default_workers


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_redraws_on_a_terminal_with_rate_and_eta():
    stream = Terminal()
    progress = Progress("render", 10, "notes", stream=stream)
    progress.advance(4)
    progress.advance(6)
    progress.finish()
    text = stream.getvalue()
    assert text.startswith("\rrender: 4/10 notes, ") and "/s, ETA " in text and "\rrender: 10/10 notes" in text
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

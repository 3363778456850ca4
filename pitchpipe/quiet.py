"""TensorFlow's C++ start-up chatter kept off stderr, real messages kept.

On a machine without a GPU, TensorFlow writes lines such as `cudart_stub.cc] Could not find cuda drivers` and
`failed call to cuInit` straight to file descriptor 2, some before its own log level is read, so
TF_CPP_MIN_LOG_LEVEL cannot silence them. This routes descriptor 2 through a filter that drops lines matching
NOISE and passes everything else (Python warnings, tracebacks, TensorFlow's real warnings and errors).
`PITCHPIPE_TF_LOGS=1` leaves stderr alone.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

NOISE = re.compile("|".join([
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"cudart_stub\.cc:\d+\] Could not find cuda drivers",
    r"cuda_platform\.cc:\d+\] failed call to cuInit",
    r"cuda_(fft|dnn|blas)\.cc:\d+\] Unable to register cu(FFT|DNN|BLAS) factory",
    r"computation_placer\.cc:\d+\] computation placer already registered",
    r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* in other operations, rebuild TensorFlow",
    r"port\.cc:\d+\] oneDNN custom operations are on",
    r"NodeDef mentions attribute \w+ which is not in the op definition",
]))
_installed = False


def quiet_tensorflow() -> None:
    """Filter this process's stderr (and its children's, which inherit it) from now until exit."""
    global _installed
    if _installed or os.environ.get("PITCHPIPE_TF_LOGS") == "1":
        return
    _installed = True
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # drop TensorFlow's info lines; its warnings pass the filter
    sys.stderr.flush()
    original = os.dup(2)
    reader, writer = os.pipe()
    os.dup2(writer, 2)
    os.close(writer)

    def forward() -> None:
        with os.fdopen(reader, "rb") as lines:
            for line in lines:
                if not NOISE.search(line.decode("utf-8", "replace")):
                    os.write(original, line)

    thread = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:  # at exit: hand descriptor 2 back, let the filter drain what is left
        sys.stderr.flush()
        os.dup2(original, 2)
        thread.join(timeout=5)

    atexit.register(restore)

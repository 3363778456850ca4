"""What the report's figures share: matplotlib on the file-only backend, figures as inline SVG."""

from __future__ import annotations

import io


def svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def pyplot():
    """pyplot on the file-only backend, with stable SVG ids."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "pitchpipe"
    import matplotlib.pyplot as plt

    return plt


def figure(width=8.0, height=3.2):
    return pyplot().subplots(figsize=(width, height))

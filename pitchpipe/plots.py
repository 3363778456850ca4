"""What the report's pages share: matplotlib on the file-only backend, figures as inline SVG, HTML tables."""

from __future__ import annotations

import html
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


def table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

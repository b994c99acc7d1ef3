"""Small inline SVG charts for the standalone report. Every label is escaped; nothing is fetched."""

from __future__ import annotations

from markupsafe import Markup, escape

COLORS = {"negative": "#d64545", "neutral": "#9aa3b2", "positive": "#2f9e5b", "unscored": "#d9dde4"}
LINE_COLOR = "#2f5bea"
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 44, 30, 22


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    """Wrap chart elements in an accessible <svg> element."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(label)}">')  # fmt: skip
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11) -> str:
    """An escaped text label."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="#555">{escape(text)}</text>')  # fmt: skip


def _tick_labels(labels: list[str], every: int) -> list[int]:
    """Which x labels to draw so they do not overlap."""
    return [i for i in range(len(labels)) if i % every == 0]


def stacked_bars(rows: list[dict], keys: tuple[str, ...], labels: list[str], label: str,
                 width: int = 720, height: int = 220) -> Markup:  # fmt: skip
    """Vertical bars per row, stacked by `keys`, with a y axis from 0 to the tallest bar."""
    top = max([sum(r[k] for k in keys) for r in rows] + [1])
    plot_w, plot_h = width - PAD_LEFT - 8, height - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(rows), 1)
    body = [_text(PAD_LEFT - 6, PAD_TOP + 4, str(top), "end"), _text(PAD_LEFT - 6, PAD_TOP + plot_h, "0", "end")]
    for i, row in enumerate(rows):
        y = PAD_TOP + plot_h
        for key in keys:
            h = row[key] / top * plot_h
            if h > 0:
                y -= h
                body.append(f'<rect x="{PAD_LEFT + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                            f'height="{h:.1f}" fill="{COLORS.get(key, LINE_COLOR)}"><title>{escape(labels[i])}: '
                            f'{row[key]} {escape(key)}</title></rect>')  # fmt: skip
    every = max(1, len(rows) // 8)
    body += [_text(PAD_LEFT + (i + 0.5) * step, height - 12, labels[i]) for i in _tick_labels(labels, every)]
    body.append(_legend(keys, width))
    return _svg(width, height, label, body)


def _legend(keys: tuple[str, ...], width: int) -> str:
    """A one-line colour legend in the top right corner."""
    widths = [24 + 7 * len(key) for key in keys]
    x, parts = width - 8 - sum(widths), []
    for key, w in zip(keys, widths, strict=True):
        parts.append(f'<rect x="{x}" y="2" width="10" height="10" fill="{COLORS.get(key, LINE_COLOR)}"/>')
        parts.append(_text(x + 14, 11, key, "start", 10))
        x += w
    return "".join(parts)


def line(points: list[tuple[str, float | None]], label: str, low: float = -100, high: float = 100,
         width: int = 720, height: int = 180) -> Markup:  # fmt: skip
    """A line over labelled points between `low` and `high`, with a zero rule; gaps stay gaps."""
    plot_w, plot_h = width - PAD_LEFT - 8, height - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(points), 1)

    def y_of(value: float) -> float:
        return PAD_TOP + (high - value) / (high - low) * plot_h

    body = [f'<line x1="{PAD_LEFT}" x2="{width - 8}" y1="{y_of(0):.1f}" y2="{y_of(0):.1f}" stroke="#ccc"/>',
            _text(PAD_LEFT - 6, PAD_TOP + 4, f"{high:+g}", "end"), _text(PAD_LEFT - 6, y_of(0) + 4, "0", "end"),
            _text(PAD_LEFT - 6, PAD_TOP + plot_h, f"{low:+g}", "end")]  # fmt: skip
    segment: list[str] = []
    for i, (name, value) in enumerate(points + [("", None)]):
        if value is None:
            if len(segment) > 1:
                body.append(f'<polyline fill="none" stroke="{LINE_COLOR}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            continue
        x, y = PAD_LEFT + (i + 0.5) * step, y_of(value)
        segment.append(f"{x:.1f},{y:.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{LINE_COLOR}"><title>{escape(name)}: '
                    f"{value:+.1f}</title></circle>")  # fmt: skip
    labels = [name for name, _ in points]
    every = max(1, len(points) // 8)
    body += [_text(PAD_LEFT + (i + 0.5) * step, height - 12, labels[i]) for i in _tick_labels(labels, every)]
    return _svg(width, height, label, body)


def hbars(items: list[tuple[str, float, str]], label: str, width: int = 720) -> Markup:
    """Horizontal bars: (name, value, colour) per row, scaled to the largest value."""
    row_h, name_w = 24, 160
    height = row_h * max(len(items), 1) + 8
    top = max([v for _, v, _ in items] + [1])
    body = []
    for i, (name, value, colour) in enumerate(items):
        y = 4 + i * row_h
        w = value / top * (width - name_w - 70)
        body.append(_text(name_w - 8, y + 15, name, "end", 12))
        body.append(f'<rect x="{name_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}"/>')
        body.append(_text(name_w + w + 6, y + 15, f"{value:g}", "start", 11))
    return _svg(width, height, label, body)

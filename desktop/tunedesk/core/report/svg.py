"""Tiny inline SVG charts for the offline report: no plotting library, no image files, nothing to fetch."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 420, 220, 40
COLOURS = ("#6b7280", "#2563eb", "#16a34a", "#dc2626", "#9333ea")


def bar_chart(title: str, bars: list[tuple[str, float | None]]) -> str:
    """Labelled bars (None: drawn as 'n/a'), value printed above each bar."""
    values = [v for _, v in bars if v is not None]
    top = max(values, default=1.0) or 1.0
    slot = (WIDTH - 2 * PAD) / max(1, len(bars))
    parts = [_frame(title)]
    for i, (label, value) in enumerate(bars):
        x = PAD + i * slot + slot * 0.15
        w = slot * 0.7
        if value is None:
            parts.append(_text(x + w / 2, HEIGHT - PAD - 6, "n/a"))
        else:
            h = (HEIGHT - 2 * PAD) * value / top
            y = HEIGHT - PAD - h
            colour = COLOURS[i % len(COLOURS)]
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')
            parts.append(_text(x + w / 2, y - 4, f"{value:.3f}"))
        parts.append(_text(x + w / 2, HEIGHT - PAD + 16, label))
    return _svg(parts)


def line_chart(title: str, series: dict[str, list[tuple[float, float]]]) -> str:
    """One polyline per series of (x, y) points, with the y range on the left axis."""
    points = [p for pts in series.values() for p in pts]
    if not points:
        return _svg([_frame(title), _text(WIDTH / 2, HEIGHT / 2, "no data")])
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def at(x: float, y: float) -> str:
        px = PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)
        py = HEIGHT - PAD - (y - y0) / (y1 - y0) * (HEIGHT - 2 * PAD)
        return f"{px:.1f},{py:.1f}"

    parts = [
        _frame(title),
        _text(PAD - 4, PAD, f"{y1:.3f}", "end"),
        _text(PAD - 4, HEIGHT - PAD, f"{y0:.3f}", "end"),
    ]
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[(i + 1) % len(COLOURS)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(at(*p) for p in pts)}"/>'
        )
        parts.append(_text(WIDTH - PAD, PAD + 14 * i, name, "end", colour))
    parts.append(_text(WIDTH / 2, HEIGHT - 8, f"step {x0:g} .. {x1:g}"))
    return _svg(parts)


def _frame(title: str) -> str:
    return (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        + _text(WIDTH / 2, 16, title)
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", fill: str = "#111") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'


def _svg(parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img">{body}</svg>'
    )

"""Small inline SVG charts (no scripts, no fonts to fetch): lines and bars over months, 0-100%."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 46


def _x(index: int, count: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner * (index + 0.5) / count if count else 0)


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, value)))


def _frame(labels: Sequence[str], title: str) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = _y(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{int(tick * 100)}%</text>')
    step = max(1, -(-len(labels) // 12))  # at most 12 labels, so they never overlap
    last = len(labels) - 1
    for index, label in enumerate(labels):
        if index % step == 0 or (index == last and last % step >= step / 2):
            x = _x(index, len(labels))
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">{escape(label)}</text>')
    return parts


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]]) -> str:
    """``series``: (name, colour, one value in 0..1 per label, None where there is no data)."""
    parts = _frame(labels, title)
    for number, (name, colour, values) in enumerate(series):
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{'M' if k == 0 else 'L'}{_x(i, len(labels)):.1f},{_y(v):.1f}" for k, (i, v) in enumerate(points))
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in points:
            parts.append(f'<circle cx="{_x(i, len(labels)):.1f}" cy="{_y(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)} {escape(labels[i])}: {v * 100:.1f}%</title></circle>')
        parts.append(_legend(number, name, colour))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], colour: str, name: str) -> str:
    parts = _frame(labels, title)
    inner = WIDTH - LEFT - RIGHT
    width = max(1.0, inner / max(1, len(labels)) * 0.7)
    for index, value in enumerate(values):
        if value is None:
            continue
        x = _x(index, len(labels)) - width / 2
        y = _y(value)
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{_y(0) - y:.1f}" fill="{colour}">'
                     f'<title>{escape(name)} {escape(labels[index])}: {value * 100:.1f}%</title></rect>')
    parts.append(_legend(0, name, colour))
    parts.append("</svg>")
    return "".join(parts)


def _legend(number: int, name: str, colour: str) -> str:
    x = LEFT + number * 150
    y = HEIGHT - 10
    return (f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y}" class="legend">{escape(name)}</text>')

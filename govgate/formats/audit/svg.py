"""Small inline SVG charts (no scripts, no fonts to fetch): lines and bars over months.

Readable by construction: every series of a line chart has its own colour, dash pattern and
marker shape, drawn solid first and dashed on top, so a series that coincides with another still
shows through its gaps; x-axis labels are thinned to the room they need (the last one always
shown, its neighbours dropped when too close); months too small to judge are shaded and given no
point; legends are laid out by the width of their text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 46
CHAR_WIDTH = 6.6  # px per character of the 11px text every chart sets for itself (generous for sans-serif digits)
LABEL_GAP = 10  # px between two x-axis labels at least
DASHES = ("", "6 4", "2 3", "8 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
SHADE = "#f1f5f9"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float | None]  # one value in 0..1 per label, None where there is none
    dash: str | None = None  # SVG stroke-dasharray; None: by the series' position
    marker: str | None = None  # circle | square | triangle | diamond; None: by position


@dataclass(frozen=True)
class Frame:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    top: int = TOP
    bottom: int = BOTTOM

    @property
    def inner_width(self) -> float:
        return self.width - self.left - self.right

    def x(self, index: int, count: int) -> float:
        return self.left + (self.inner_width * (index + 0.5) / count if count else 0)

    def y(self, value: float, top_value: float = 1.0) -> float:
        share = value / top_value if top_value else 0.0
        return self.top + (self.height - self.top - self.bottom) * (1 - max(0.0, min(1.0, share)))

    def slot(self, count: int) -> float:
        return self.inner_width / max(1, count)


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def label_indexes(labels: Sequence[str], slot: float) -> list[int]:
    """Which x-axis labels to draw so that none overlaps another: evenly spaced, the first and the last always."""
    if not labels:
        return []
    widest = max(text_width(label) for label in labels) + LABEL_GAP
    step = max(1, int(-(-widest // max(slot, 1e-6))))
    last = len(labels) - 1
    chosen = list(range(0, last + 1, step))
    while chosen and last - chosen[-1] < step and chosen[-1] != last:
        chosen.pop()  # too close to the last label, which is always shown
    if not chosen or chosen[-1] != last:
        chosen.append(last)
    if len(chosen) > 1 and (chosen[-1] - chosen[-2]) * slot < widest:
        chosen.pop(-2)  # a single label that still cannot fit beside the last
    return chosen


def _open(frame: Frame, title: str, css_class: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
            f'height="{frame.height}" role="img" aria-label="{escape(title)}" class="{css_class}" font-size="11" '
             f'font-family="system-ui, sans-serif"><title>{escape(title)}</title>']


def _axes(frame: Frame, labels: Sequence[str], ticks: Sequence[tuple[float, str]], top_value: float) -> list[str]:
    parts = []
    for value, text in ticks:
        y = frame.y(value, top_value)
        parts.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(text)}</text>')
    for index in label_indexes(labels, frame.slot(len(labels))):
        x = frame.x(index, len(labels))
        parts.append(f'<text x="{x:.1f}" y="{frame.height - frame.bottom + 20}" text-anchor="middle" class="tick xlabel">'
                     f"{escape(labels[index])}</text>")
    return parts


def _shade(frame: Frame, count: int, unjudged: Sequence[bool] | None) -> list[str]:
    """A light band behind each month too small to judge."""
    if not unjudged:
        return []
    slot = frame.slot(count)
    bottom = frame.height - frame.bottom
    return [f'<rect x="{frame.x(i, count) - slot / 2:.1f}" y="{frame.top}" width="{slot:.1f}" height="{bottom - frame.top}" '
            f'fill="{SHADE}" class="unjudged"/>' for i, small in enumerate(unjudged) if small]


PERCENT_TICKS = ((0.0, "0%"), (0.25, "25%"), (0.5, "50%"), (0.75, "75%"), (1.0, "100%"))


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
               unjudged: Sequence[bool] | None = None, frame: Frame | None = None, legend: bool = True) -> str:
    """Shares (0..1) per label, one line per series; points of unjudged labels are not drawn."""
    frame = frame or Frame()
    parts = _open(frame, title, "line-chart") + _shade(frame, len(labels), unjudged) + _axes(frame, labels, PERCENT_TICKS, 1.0)
    for number, item in enumerate(series):
        parts.append(_line(frame, labels, item, number, unjudged))
    if legend:
        parts.append(legend_row(frame, [(i.name, i.colour, _dash(i, n), _marker(i, n)) for n, i in enumerate(series)]))
    parts.append("</svg>")
    return "".join(parts)


def _dash(item: Series, number: int) -> str:
    return item.dash if item.dash is not None else DASHES[number % len(DASHES)]


def _marker(item: Series, number: int) -> str:
    return item.marker or MARKERS[number % len(MARKERS)]


def _line(frame: Frame, labels: Sequence[str], item: Series, number: int, unjudged: Sequence[bool] | None) -> str:
    count = len(labels)
    points = [(i, v) for i, v in enumerate(item.values) if v is not None and not (unjudged and unjudged[i])]
    dash = _dash(item, number)
    out = [f'<g class="series" data-series="{escape(item.name)}" data-colour="{item.colour}">']
    # A line only joins neighbouring months: a gap (no data, or too few changes) breaks it.
    segments: list[list[tuple[int, float]]] = []
    for i, v in points:
        if segments and segments[-1][-1][0] == i - 1:
            segments[-1].append((i, v))
        else:
            segments.append([(i, v)])
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{'M' if k == 0 else 'L'}{frame.x(i, count):.1f},{frame.y(v):.1f}" for k, (i, v) in enumerate(segment))
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<path d="{path}" fill="none" stroke="{item.colour}" stroke-width="2"{dash_attr}/>')
    for i, v in points:
        out.append(_point(_marker(item, number), frame.x(i, count), frame.y(v), item.colour,
                          f"{item.name} {labels[i]}: {v * 100:.1f}%"))
    out.append("</g>")
    return "".join(out)


def _point(shape: str, x: float, y: float, colour: str, tip: str) -> str:
    tip_tag = f"<title>{escape(tip)}</title>"
    if shape == "square":  # hollow, larger: a filled circle underneath stays visible inside it
        return (f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="none" stroke="{colour}" '
                f'stroke-width="2">{tip_tag}</rect>')
    if shape == "triangle":
        return (f'<path d="M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 4:.1f} L{x - 5:.1f},{y + 4:.1f} Z" fill="none" '
                f'stroke="{colour}" stroke-width="1.5">{tip_tag}</path>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} L{x - 5:.1f},{y:.1f} Z" '
                f'fill="none" stroke="{colour}" stroke-width="1.5">{tip_tag}</path>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">{tip_tag}</circle>'


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], colour: str, name: str, *,
              unjudged: Sequence[bool] | None = None, frame: Frame | None = None) -> str:
    """Shares (0..1) as bars; bars of unjudged labels are not drawn (their band is shaded)."""
    frame = frame or Frame()
    parts = _open(frame, title, "bar-chart") + _shade(frame, len(labels), unjudged) + _axes(frame, labels, PERCENT_TICKS, 1.0)
    parts.append(_bars(frame, labels, [None if unjudged and unjudged[i] else v for i, v in enumerate(values)], 1.0, colour,
                       name, lambda v: f"{v * 100:.1f}%"))
    parts.append(legend_row(frame, [(name, colour, None, "bar")]))
    parts.append("</svg>")
    return "".join(parts)


def count_chart(title: str, labels: Sequence[str], counts: Sequence[int], colour: str, name: str, *, threshold: int,
                threshold_label: str, frame: Frame | None = None) -> str:
    """Counts as bars, with a dashed line at the threshold under which a month is not judged."""
    frame = frame or Frame()
    top_value = float(max([*counts, threshold, 1]))
    ticks = [(value, f"{value:,.0f}") for value in _count_ticks(top_value)]
    parts = _open(frame, title, "count-chart") + _axes(frame, labels, ticks, top_value)
    parts.append(_bars(frame, labels, [float(c) for c in counts], top_value, colour, name, lambda v: f"{v:,.0f} changes",
                       below=(threshold, "#cbd5e1")))
    y = frame.y(threshold, top_value)
    parts.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" y2="{y:.1f}" stroke="#b91c1c" '
                 f'stroke-width="1.5" stroke-dasharray="5 4" class="threshold"/>')
    parts.append(legend_row(frame, [(name, colour, None, "bar"), (threshold_label, "#b91c1c", "5 4", "line")]))
    parts.append("</svg>")
    return "".join(parts)


def _count_ticks(top_value: float) -> list[float]:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top_value / step <= 5:
            return [float(step * k) for k in range(int(top_value // step) + 1)]
    return [0.0, top_value]


def _bars(frame: Frame, labels: Sequence[str], values: Sequence[float | None], top_value: float, colour: str, name: str,
          render: Callable[[float], str], below: tuple[int, str] | None = None) -> str:
    width = max(1.0, frame.slot(len(labels)) * 0.7)
    out = [f'<g class="series" data-series="{escape(name)}" data-colour="{colour}">']
    for index, value in enumerate(values):
        if value is None:
            continue
        x = frame.x(index, len(labels)) - width / 2
        y = frame.y(value, top_value)
        fill = below[1] if below and value < below[0] else colour
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{frame.y(0, top_value) - y:.1f}" fill="{fill}">'
                   f"<title>{escape(name)} {escape(labels[index])}: {escape(render(value))}</title></rect>")
    out.append("</g>")
    return "".join(out)


def legend_row(frame: Frame, entries: Sequence[tuple[str, str, str | None, str]]) -> str:
    """(name, colour, dash, marker or 'bar'/'line') side by side, each as wide as its text."""
    x = float(frame.left)
    y = frame.height - 10
    out = ['<g class="legend">']
    for name, colour, dash, marker in entries:
        if marker == "bar":
            out.append(f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
            offset = 14.0
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 24:.1f}" y2="{y - 4}" stroke="{colour}" stroke-width="2"'
                       f"{dash_attr}/>")
            if marker != "line":
                out.append(_point(marker, x + 12, y - 4, colour, name))
            offset = 30.0
        out.append(f'<text x="{x + offset:.1f}" y="{y}" class="legend">{escape(name)}</text>')
        x += offset + text_width(name) + 18
    out.append("</g>")
    return "".join(out)

"""Charts drawn on the server: SVG for the screen (a small writer of our own: bars, a line, a pie)
and reportlab graphics for PDFs. Each chart comes with its text alternative: its title and the table
of the figures it is drawn from (the page shows that table beside the chart)."""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Callable

from markupsafe import Markup, escape

PALETTE = ("#1f5f99", "#c0392b", "#2e7d32", "#8e44ad", "#b9770e", "#117a65", "#6d4c41", "#34495e",
           "#ad1457", "#4e6a00")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 70


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10 ** exponent
        if top >= value:
            return top
    return 10 ** (exponent + 1)


def _percent(share: float, decimals: int = 1) -> str:
    from coulisses.i18n import format_percent

    return format_percent(Decimal(str(round(share, 4))), decimals=decimals)


def _short(text: str, size: int = 18) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def svg(kind: str, title: str, series: list[tuple[str, Decimal]], fmt: Callable[[Any], str], chart_id: str) -> Markup:
    """An inline SVG (``role="img"``, titled) of ``series`` — ``[(label, value)]``."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="reports-chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="{title_id} {desc_id}">',
             f'<title id="{title_id}">{escape(title)}</title>',
             f'<desc id="{desc_id}">' + escape("; ".join(f"{label}: {fmt(value)}" for label, value in series)) + "</desc>"]
    if not series:
        parts.append("</svg>")
        return Markup("".join(parts))
    if kind == "pie":
        parts += _pie(series, fmt)
    else:
        parts += _axes_chart(kind, series, fmt)
    parts.append("</svg>")
    return Markup("".join(parts))


def _axes_chart(kind, series, fmt) -> list[str]:
    values = [float(v) for _l, v in series]
    low = min(0.0, min(values))
    top = _nice_max(max(values) if max(values) > 0 else 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = top - low or 1.0

    def y(v: float) -> float:
        return TOP + plot_h - (v - low) / span * plot_h

    out = ['<g class="axis" font-size="11" fill="#333">']
    for i in range(5):
        v = low + span * i / 4
        yy = y(v)
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="#ccc" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(fmt(Decimal(str(round(v, 2)))))}</text>')
    out.append("</g>")
    n = len(series)
    step = plot_w / n
    rotate = n > 8
    labels = []
    for i, (label, _v) in enumerate(series):
        x = LEFT + step * (i + 0.5)
        ty = TOP + plot_h + 14
        transform = f' transform="rotate(-40 {x:.1f} {ty:.1f})"' if rotate else ""
        anchor = "end" if rotate else "middle"
        labels.append(f'<text x="{x:.1f}" y="{ty:.1f}" text-anchor="{anchor}"{transform}>{escape(_short(str(label)))}</text>')
    out.append('<g class="labels" font-size="11" fill="#333">' + "".join(labels) + "</g>")
    if kind == "bar":
        bar_w = max(2.0, step * 0.7)
        for i, (label, v) in enumerate(series):
            x = LEFT + step * i + (step - bar_w) / 2
            y0, y1 = y(0), y(float(v))
            out.append(f'<rect x="{x:.1f}" y="{min(y0, y1):.1f}" width="{bar_w:.1f}" height="{abs(y0 - y1):.1f}" '
                       f'fill="{PALETTE[0]}"><title>{escape(str(label))}: {escape(fmt(v))}</title></rect>')
    else:
        points = " ".join(f"{LEFT + step * (i + 0.5):.1f},{y(float(v)):.1f}" for i, (_l, v) in enumerate(series))
        out.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>')
        for i, (label, v) in enumerate(series):
            out.append(f'<circle cx="{LEFT + step * (i + 0.5):.1f}" cy="{y(float(v)):.1f}" r="3.5" fill="{PALETTE[0]}">'
                       f'<title>{escape(str(label))}: {escape(fmt(v))}</title></circle>')
    out.append(f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}" stroke="#333" stroke-width="1"/>')
    return out


def _pie(series, fmt) -> list[str]:
    positive = [(label, v) for label, v in series if v > 0]
    total = float(sum((v for _l, v in positive), Decimal(0))) or 1.0
    cx, cy, r = 150, HEIGHT / 2, 120
    out, angle = [], -math.pi / 2
    for i, (label, v) in enumerate(positive):
        share = float(v) / total
        color = PALETTE[i % len(PALETTE)]
        if share >= 0.9999:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{color}"/>')
        else:
            end = angle + share * 2 * math.pi
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
            large = 1 if share > 0.5 else 0
            out.append(f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z" '
                       f'fill="{color}" stroke="#fff" stroke-width="1"><title>{escape(str(label))}: '
                       f'{escape(fmt(v))}</title></path>')
            angle = end
        ly = 30 + i * 22
        out.append(f'<rect x="310" y="{ly - 11}" width="14" height="14" fill="{color}"/>'
                   f'<text x="330" y="{ly}" font-size="12" fill="#222">{escape(_short(str(label), 30))} — '
                   f'{escape(fmt(v))} ({escape(_percent(share))})</text>')
    return out


def drawing(kind: str, title: str, series: list[tuple[str, Decimal]], width: float = 480, height: float = 220):
    """The same chart as a reportlab ``Drawing`` (for PDFs)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    d = Drawing(width, height)
    d.add(String(0, height - 12, title, fontName="Helvetica-Bold", fontSize=10))
    labels = [_short(str(label), 14) for label, _v in series]
    values = [float(v) for _l, v in series]
    if kind == "pie":
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 20, 10, height - 40, height - 40
        positive = [(lab, v) for lab, v in zip(labels, values) if v > 0] or [("", 1.0)]
        pie.data = [v for _l, v in positive]
        total = sum(pie.data) or 1.0
        pie.labels = [f"{lab} ({_percent(v / total, 0)})".replace("\u202f", "\u00a0") for lab, v in positive]
        for i in range(len(positive)):
            pie.slices[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        pie.sideLabels = True
        d.add(pie)
        return d
    chart = VerticalBarChart() if kind == "bar" else HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 50, 40, width - 70, height - 70
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 7
    if len(labels) > 8:
        chart.categoryAxis.labels.angle = 40
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = min(0.0, min(values or [0]))
    chart.valueAxis.labels.fontSize = 7
    if kind == "bar":
        chart.bars[0].fillColor = colors.HexColor(PALETTE[0])
    else:
        chart.lines[0].strokeColor = colors.HexColor(PALETTE[0])
        chart.lines[0].strokeWidth = 2
    d.add(chart)
    return d

"""docs/performance.md and its plots, from benchmarks/results/latest.json.

    python -m benchmarks.report [results.json]

Plots are drawn with Qt (QImage + QPainter, offscreen): no plotting library is needed. The
analysis below the tables (what was fixed, what is missed and why) is benchmarks/notes.md,
copied in as it is.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import BENCH, RESULTS, ROOT

DOCS = ROOT / "docs"
TITLES = {
    "startup": "1. Startup",
    "responsiveness": "2. Responsiveness",
    "batch": "2b. A big drop",
    "scale": "3. Scale",
    "gallery": "3b. Gallery scrolling",
    "throughput": "4. Throughput",
    "efficiency": "5. Efficiency",
    "idle": "5b. Idle CPU",
    "soak": "6. Soak and faults",
}
COLOURS = {"app": "#d9480f", "floor": "#1c7ed6", "target": "#2b8a3e", "grid": "#dee2e6",
           "text": "#212529", "muted": "#868e96", "ready": "#9c36b5"}


# -- plots ------------------------------------------------------------------------------------


class Chart:
    """A small offscreen chart: one plot area, linear axes, lines, dots, bars, labels."""

    def __init__(self, title: str, x_range: tuple[float, float], y_range: tuple[float, float],
                 *, width: int = 900, height: int = 380, x_label: str = "",
                 y_label: str = "") -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor, QFont, QImage, QPainter

        self.image = QImage(width, height, QImage.Format.Format_ARGB32)
        self.image.fill(QColor("white"))
        self.p = QPainter(self.image)
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont("DejaVu Sans")
        font.setPixelSize(13)
        self.p.setFont(font)
        self.left, self.top, self.right, self.bottom = 70, 40, width - 20, height - 50
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.p.setPen(QColor(COLOURS["text"]))
        title_font = QFont(font)
        title_font.setBold(True)
        title_font.setPixelSize(15)
        self.p.setFont(title_font)
        self.p.drawText(self.left, 24, title)
        self.p.setFont(font)
        self.p.setPen(QColor(COLOURS["muted"]))
        self.p.drawText(self.left, height - 12, x_label)
        self.p.save()
        self.p.translate(16, self.bottom)
        self.p.rotate(-90)
        self.p.drawText(0, 0, y_label)
        self.p.restore()
        self._qt = Qt

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        value = min(max(value, self.y0), self.y1)
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)

    def grid(self, y_ticks: Sequence[float], x_ticks: Sequence[float] = (),
             x_names: Sequence[str] | None = None, y_fmt: str = "{:g}") -> None:
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QColor, QPen

        self.p.setPen(QPen(QColor(COLOURS["grid"]), 1))
        for tick in y_ticks:
            self.p.drawLine(QPointF(self.left, self.y(tick)), QPointF(self.right, self.y(tick)))
        self.p.setPen(QColor(COLOURS["muted"]))
        for tick in y_ticks:
            self.p.drawText(QPointF(8, self.y(tick) + 4), y_fmt.format(tick).rjust(6))
        for i, tick in enumerate(x_ticks):
            label = x_names[i] if x_names else f"{tick:g}"
            self.p.drawText(QPointF(self.x(tick) - 4 * len(label), self.bottom + 18), label)

    def hline(self, value: float, colour: str, label: str) -> None:
        from PySide6.QtCore import QPointF, Qt
        from PySide6.QtGui import QColor, QPen

        pen = QPen(QColor(colour), 1.5, Qt.PenStyle.DashLine)
        self.p.setPen(pen)
        self.p.drawLine(QPointF(self.left, self.y(value)), QPointF(self.right, self.y(value)))
        self.p.drawText(QPointF(self.right - 8 * len(label), self.y(value) - 4), label)

    def line(self, xs: Sequence[float], ys: Sequence[float], colour: str, width: float = 1.5
             ) -> None:
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QColor, QPen, QPolygonF

        self.p.setPen(QPen(QColor(colour), width))
        self.p.drawPolyline(QPolygonF([QPointF(self.x(a), self.y(b)) for a, b in zip(xs, ys,
                                                                                      strict=True)]))

    def dots(self, x: float, ys: Sequence[float], colour: str, jitter: float = 0.0) -> None:
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QColor

        self.p.setPen(self._qt.PenStyle.NoPen)
        self.p.setBrush(QColor(colour))
        for i, value in enumerate(ys):
            offset = (i % 7 - 3) * jitter
            self.p.drawEllipse(QPointF(self.x(x) + offset, self.y(value)), 3.5, 3.5)

    def bar(self, x: float, width: float, value: float, colour: str, label: str = "") -> None:
        from PySide6.QtCore import QPointF, QRectF
        from PySide6.QtGui import QColor

        rect = QRectF(self.x(x - width / 2), self.y(value), self.x(x + width / 2)
                      - self.x(x - width / 2), self.y(self.y0) - self.y(value))
        self.p.fillRect(rect, QColor(colour))
        if label:
            self.p.setPen(QColor(COLOURS["text"]))
            self.p.drawText(QPointF(rect.left(), rect.top() - 5), label)

    def tick_mark(self, x: float, value: float, half: float, colour: str) -> None:
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QColor, QPen

        self.p.setPen(QPen(QColor(colour), 3))
        self.p.drawLine(QPointF(self.x(x - half), self.y(value)),
                        QPointF(self.x(x + half), self.y(value)))

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        from PySide6.QtCore import QPointF, QRectF
        from PySide6.QtGui import QColor

        x = self.right - 200
        for i, (name, colour) in enumerate(items):
            y = self.top + 6 + i * 18
            self.p.fillRect(QRectF(x, y - 9, 12, 12), QColor(colour))
            self.p.setPen(QColor(COLOURS["text"]))
            self.p.drawText(QPointF(x + 18, y + 2), name)

    def save(self, path: Path) -> None:
        self.p.end()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.image.save(str(path), "PNG")  # type: ignore[call-overload]  # PySide6's stub wants bytes; it takes str


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def plot_startup(section: dict[str, Any], path: Path) -> bool:
    groups = [(name, section[name]) for name in ("source", "frozen")
              if isinstance(section.get(name), dict) and "app_ms" in section[name]]
    if not groups:
        return False
    kinds = [("floor", "floor_ms", COLOURS["floor"]), ("first paint", "app_ms", COLOURS["app"]),
             ("ready", "ready_ms", COLOURS["ready"])]
    top = _nice_max(max(max(g.get(key) or [0]) for _, g in groups for _, key, _ in kinds) * 1.1)
    chart = Chart("Startup → first paint (the outline) and ready (the whole window); a dot a run",
                  (0, 3 * len(groups) + 0.5), (0, top), y_label="ms")
    ticks = [top * i / 5 for i in range(6)]
    names, positions = [], []
    for i, (name, group) in enumerate(groups):
        for j, (kind, key, colour) in enumerate(kinds):
            values = group.get(key)
            if not values:
                continue
            x = 3 * i + 0.75 + j * 0.9
            chart.dots(x, values, colour, jitter=2.5)
            values_sorted = sorted(values)
            chart.tick_mark(x, values_sorted[len(values) // 2], 0.3, COLOURS["text"])
            names.append(f"{name} {kind}")
            positions.append(x)
    chart.grid(ticks, positions, names, "{:.0f}")
    chart.legend([("bare PySide6 window (floor)", COLOURS["floor"]),
                  ("Runway Desktop, first paint", COLOURS["app"]),
                  ("Runway Desktop, ready", COLOURS["ready"])])
    chart.save(path)
    return True


def plot_lag(section: dict[str, Any], path: Path) -> bool:
    app = section.get("lag_timeline") or []
    floor = section.get("floor_timeline") or []
    if not app:
        return False
    seconds = section.get("workload", {}).get("seconds") or len(app)
    cap = 100.0
    chart = Chart("Event-loop lag under load: worst tick in each slice of the run",
                  (0, seconds), (0, cap), x_label="seconds into the workload (values over "
                  "100 ms drawn at 100)", y_label="ms late")
    chart.grid([0, 16, 25, 50, 75, 100], [seconds * i / 6 for i in range(7)],
               [f"{seconds * i / 6:.0f}" for i in range(7)])
    if floor:
        chart.line([seconds * i / len(floor) for i in range(len(floor))], floor,
                   COLOURS["floor"])
    chart.line([seconds * i / len(app) for i in range(len(app))], app, COLOURS["app"])
    chart.hline(16, COLOURS["target"], "p99 target 16 ms")
    chart.hline(50, COLOURS["target"], "worst target 50 ms")
    chart.legend([("bare window beside it (floor)", COLOURS["floor"]),
                  ("Runway Desktop", COLOURS["app"])])
    chart.save(path)
    return True


def plot_scale(section: dict[str, Any], path: Path) -> bool:
    runs = section.get("runs") or {}
    if len(runs) < 2:
        return False
    sizes = sorted(int(n) for n in runs)
    base = runs[str(sizes[0])]["rss_open_mb"]
    top = _nice_max(max(max(r["rss_open_mb"], r["rss_after_scroll_mb"])
                        for r in runs.values()) * 1.15)
    chart = Chart("Memory with history items: RSS at open and after scrolling end to end",
                  (0, len(sizes)), (0, top), y_label="MB")
    positions = [i + 0.5 for i in range(len(sizes))]
    chart.grid([top * i / 5 for i in range(6)], positions,
               [f"{n:,} items" for n in sizes], "{:.0f}")
    for i, n in enumerate(sizes):
        run = runs[str(n)]
        chart.bar(i + 0.35, 0.28, run["rss_open_mb"], COLOURS["app"],
                  f"{run['rss_open_mb']:.0f}")
        chart.bar(i + 0.65, 0.28, run["rss_after_scroll_mb"], COLOURS["floor"],
                  f"{run['rss_after_scroll_mb']:.0f}")
        allowed = base + 30 * n / 10_000
        if n:
            chart.tick_mark(i + 0.35, allowed, 0.16, COLOURS["target"])
    chart.legend([("at open", COLOURS["app"]), ("after the scroll", COLOURS["floor"]),
                  ("target: empty + 30 MB / 10k", COLOURS["target"])])
    chart.save(path)
    return True


# -- markdown ---------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(section: dict[str, Any]) -> list[str]:
    metrics = section.get("metrics") or {}
    if not metrics:
        return []
    lines = ["| figure | value | floor | ratio | target | met | notes |",
             "|---|---:|---:|---:|---|:-:|---|"]
    for name, m in metrics.items():
        mark = {True: "✅", False: "❌", None: ""}[m.get("met")]
        value = f"{_fmt(m.get('value'))} {m.get('unit', '')}".strip()
        ratio = f"{m['ratio']}×" if m.get("ratio") is not None else "—"
        lines.append(f"| {name.replace('_', ' ')} | {value} | {_fmt(m.get('floor'))} | {ratio} "
                     f"| {m.get('target') or ''} | {mark} | {m.get('note') or ''} |")
    return lines


def _details(name: str, section: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if name == "startup":
        imports = section.get("imports", {})
        if imports:
            out.append(f"Imported before the window paints: {imports.get('modules')}. "
                       "Largest (cumulative ms, `python -X importtime`): " + ", ".join(
                           f"`{n}` {ms}" for n, ms in imports.get("top_level_ms", [])[:8]) + ".")
        frozen = section.get("frozen", {})
        if "skipped" in frozen:
            out.append(f"Frozen: {frozen['skipped']}.")
    elif name == "responsiveness":
        work = section.get("workload", {})
        out.append("Workload: " + ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}"
                                           for k, v in work.items() if k != "stages") + ".")
        sites = section.get("stall_sites") or []
        if sites:
            out.append("Where the GUI thread was when the probe was over 20 ms late (samples "
                       "every 4 ms): " + "; ".join(f"`{s.split(' | ')[0]}` ×{n}"
                                                  for s, n in sites[:6]) + ".")
    elif name == "soak":
        keys = ("generations", "rounds", "processes", "requests", "faulted_requests", "faults",
                "server_jobs", "credits_charged", "credits_expected",
                "server_restarted_after_journaled", "disk_full", "work_files_left", "seconds")
        out.append("```\n" + "\n".join(f"{k}: {json.dumps(section.get(k), ensure_ascii=False)}"
                                         for k in keys) + "\n```")
    elif name == "efficiency":
        runs = section.get("runs") or {"": section}
        for label, run in runs.items():
            head = (f"`{label}` (polling policy {run.get('policy')}, simulator "
                    f"`{run.get('shape')}`): " if label else "")
            out.append(f"{head}requests by kind over {run.get('done')} finished jobs: "
                       + ", ".join(f"{k} {v}" for k, v in
                                   sorted((run.get("requests_by_route") or {}).items())) + ".")
    elif name == "throughput":
        out.append("Every round, MB/s: " + json.dumps(section.get("samples_mb_s")) + ".")
    if "error" in section:
        out.append(f"**This section failed:** `{section['error']}`")
    return out


def write(results: dict[str, Any]) -> Path:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(["report"])
    sections = results.get("sections", {})
    plots = {
        "startup": ("perf-startup.png", plot_startup),
        "responsiveness": ("perf-lag.png", plot_lag),
        "scale": ("perf-scale.png", plot_scale),
    }
    m = results.get("machine", {})
    lines = [
        "# Performance",
        "",
        "<!-- Generated by benchmarks/run from benchmarks/results/latest.json; the analysis "
        "after the tables is benchmarks/notes.md. Edit those, not this file. -->",
        "",
        f"Measured {results.get('started', '?')} on {m.get('cpus')} × {m.get('cpu_model')} "
        f"(load average at start {', '.join(f'{v:.2f}' for v in m.get('loadavg_at_start', []))})"
        f", Python {m.get('python')}, commit `{results.get('commit')}`"
        f"{' with uncommitted changes' if results.get('dirty') else ''}; "
        f"the whole run took {results.get('seconds', 0) / 60:.1f} min. These machines are "
        "shared and noisy: each figure sits beside a floor measured in the same run, and the "
        "ratio is what counts. `benchmarks/run` reproduces it (see benchmarks/README.md).",
        "",
        "## Summary",
        "",
        "| section | figure | value | floor | ratio | target | met |",
        "|---|---|---:|---:|---:|---|:-:|",
    ]
    for name, section in sections.items():
        for key, fig in (section.get("metrics") or {}).items():
            if not fig.get("target"):
                continue
            mark = {True: "✅", False: "❌", None: "…"}[fig.get("met")]
            ratio = f"{fig['ratio']}×" if fig.get("ratio") is not None else "—"
            lines.append(f"| {TITLES.get(name, name)} | {key.replace('_', ' ')} | "
                         f"{_fmt(fig.get('value'))} {fig.get('unit', '')} | "
                         f"{_fmt(fig.get('floor'))} | {ratio} | {fig['target']} | {mark} |")
    for name, section in sections.items():
        lines += ["", f"## {TITLES.get(name, name)}", ""]
        lines += _table(section)
        details = _details(name, section)
        if details:
            lines += ["", *[d for item in details for d in (item, "")][:-1]]
        if name in plots:
            filename, draw = plots[name]
            if draw(section, DOCS / filename):
                lines += ["", f"![{TITLES[name]}]({filename})"]
    notes = BENCH / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    path = DOCS / "performance.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    print(write(json.loads(source.read_text())))

"""Reports for people: HTML (Jinja2, inline SVG bar charts) and PDF (fpdf2: tables and
bar charts drawn as vectors). Both depend only on the report's JSON, so they regenerate
byte for byte: the PDF's creation date is the tree head's time, not the wall clock."""

from __future__ import annotations

import json
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, PackageLoader, select_autoescape

from paygod.kernel.clock import parse_instant

FORMATS = ("json", "html", "pdf")
_ENV = Environment(
    loader=PackageLoader("paygod.assurance", "templates"), autoescape=select_autoescape()
)
BAR_SPAN = 400


def to_json(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _scaled(chart: dict[str, Any], span: float) -> list[tuple[str, int, float]]:
    top = max((b["value"] for b in chart["bars"]), default=0) or 1
    return [(b["label"], b["value"], span * b["value"] / top) for b in chart["bars"]]


def to_html(report: dict[str, Any]) -> bytes:
    charts = []
    for chart in report["charts"]:
        bars = [
            {"label": label, "value": value, "width": round(width, 1), "y": 24 * i}
            for i, (label, value, width) in enumerate(_scaled(chart, BAR_SPAN))
        ]
        charts.append({"title": chart["title"], "bars": bars, "height": 24 * len(bars) + 4})
    return _ENV.get_template("report.html").render(r=report, charts=charts).encode()


def _text(value: Any) -> str:
    # The core PDF fonts are Latin-1: anything else is shown as '?' rather than failing.
    return ("" if value is None else str(value)).encode("latin-1", "replace").decode("latin-1")


def to_pdf(report: dict[str, Any]) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_creation_date(parse_instant(report["tree_head"]["timestamp"]))
    pdf.set_title(_text(report["title"]))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(report["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    head = report["tree_head"]
    basis = [
        ["tenant", report["tenant_id"]],
        ["period", f"{report['period']['from']} to {report['period']['to']}"],
        ["tree head size", head["tree_size"]],
        ["root hash", head["root_hash"]],
        ["signed at / key", f"{head['timestamp']} / {head['key_id']}"],
    ]
    _table(pdf, ["basis", "value"], basis + [[k, v] for k, v in report["summary"].items()])
    for chart in report["charts"]:
        _bar_chart(pdf, chart)
    for section in report["sections"]:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _text(section["title"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        if section["note"]:
            pdf.cell(0, 5, _text(section["note"]), new_x="LMARGIN", new_y="NEXT")
        _table(
            pdf,
            section["columns"],
            section["rows"] or [["none"] + [""] * (len(section["columns"]) - 1)],
        )
    return bytes(pdf.output())


def _table(pdf: FPDF, columns: list[str], rows: list[list[Any]]) -> None:
    with pdf.table(line_height=5, text_align="LEFT") as table:
        table.row([_text(c) for c in columns])
        for row in rows:
            table.row([_text(v) for v in row])
    pdf.ln(3)


def _bar_chart(pdf: FPDF, chart: dict[str, Any]) -> None:
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _text(chart["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.set_fill_color(59, 107, 181)
    for label, value, width in _scaled(chart, 160):
        y = pdf.get_y()
        pdf.cell(70, 6, _text(label))
        if width:
            pdf.rect(pdf.l_margin + 72, y + 1, width, 4, style="F")
        pdf.set_xy(pdf.l_margin + 74 + width, y)
        pdf.cell(20, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_fill_color(255, 255, 255)  # tables drawn after this fill their cells with it
    pdf.ln(3)


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "html":
        return to_html(report)
    if fmt == "pdf":
        return to_pdf(report)
    return to_json(report)

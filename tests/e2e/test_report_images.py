"""The SOX, PCI DSS and GDPR reports looked at as images, as a person sees them.

The HTML is rendered by Debian's Chromium (Playwright, the system browser) to a PNG; the
PDF's pages are rasterised by PDFium (pypdfium2). On the pixels: the page is not blank (a
share of it is ink), tables are drawn (long horizontal and vertical rules: a grid), the bar
charts are drawn (pixels of the charts' blue, inside each chart's own box for the HTML,
whose DOM also gives the number of tables and bars). The same checks are run on a blank
page, on a page of text alone and on the reports with their charts taken out, and must
fail there: they can fail.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image

from paygod.assurance.render import render
from tests.e2e.console.conftest import browser  # noqa: F401  (the fixture)
from tests.integration.assurance.conftest import Ledgered, ledgered  # noqa: F401

KINDS = ("sox", "pci", "gdpr")
CHART_BLUE = (59, 107, 181)  # #3b6bb5: the bars of both renderings
MIN_INK = 0.01  # share of the page that is not white
MIN_RULES = 4  # distinct horizontal rules: a table of three rows at least
MIN_CHART_PIXELS = 400


def pixels(image: Image.Image) -> np.ndarray[Any, Any]:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def ink(rgb: np.ndarray[Any, Any]) -> float:
    return float((rgb.min(axis=2) < 200).mean())


def _runs(mask: np.ndarray[Any, Any], length: int) -> np.ndarray[Any, Any]:
    """Per row of `mask`, whether it holds a run of at least `length` True values."""
    found = np.zeros(mask.shape[0], dtype=bool)
    run = np.zeros(mask.shape[0], dtype=np.int32)
    for column in range(mask.shape[1]):
        run = np.where(mask[:, column], run + 1, 0)
        found |= run >= length
    return found


def _distinct(rows: np.ndarray[Any, Any]) -> int:
    """Lines one or two pixels thick count once: the starts of runs of True rows."""
    flags = rows.astype(np.int8)
    return int(np.count_nonzero(np.diff(flags, prepend=0) == 1))


def rules(rgb: np.ndarray[Any, Any]) -> tuple[int, int]:
    """(horizontal, vertical) rules: lines of grey or black at least 120 px long without a
    break. Text never makes one (letters have gaps); a table's borders do."""
    grey = (rgb.max(axis=2) < 215) & (rgb.max(axis=2) - rgb.min(axis=2) < 24)
    return _distinct(_runs(grey, 120)), _distinct(_runs(grey.T, 40))


def chart_pixels(rgb: np.ndarray[Any, Any]) -> int:
    return int((np.abs(rgb - np.array(CHART_BLUE)).max(axis=2) < 30).sum())


def problems(image: Image.Image) -> list[str]:
    """What a rendered report page lacks; [] when it shows tables and charts."""
    rgb = pixels(image)
    found = []
    if ink(rgb) < MIN_INK:
        found.append("blank")
    horizontal, vertical = rules(rgb)
    if horizontal < MIN_RULES or vertical < 2:
        found.append(f"no table ({horizontal} horizontal, {vertical} vertical rules)")
    if chart_pixels(rgb) < MIN_CHART_PIXELS:
        found.append("no chart")
    return found


# -- the reports -------------------------------------------------------------------------


@pytest.fixture
def reports(ledgered: Ledgered) -> dict[str, dict[str, Any]]:  # noqa: F811
    """The three reports over real activity: the fixture's decisions and case, a personal
    record sealed in the vault and its subject erased (a GDPR erasure request)."""
    kernel = ledgered.kernel
    vault = kernel.privacy.vault
    vault.put("default", "urn:person:ada", "payee", {"name": "Ada Lovelace", "iban": "GB82"})
    vault.erase("default", "urn:person:ada", "dpo@example.com")
    head = kernel.ledger.flush_tree_head()
    service = kernel.assurance
    return {k: service.report(k, "default", ledgered.period, head.tree_size) for k in KINDS}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def html_image(page: Any, html: bytes) -> Image.Image:
    page.set_content(html.decode(), wait_until="load")
    return Image.open(io.BytesIO(page.screenshot(full_page=True)))


def pdf_images(body: bytes) -> list[Image.Image]:
    document = pdfium.PdfDocument(body)
    return [document[i].render(scale=1.5).to_pil() for i in range(len(document))]


@pytest.mark.parametrize("kind", KINDS)
def test_html_report_shows_tables_and_charts(
    page: Any, reports: dict[str, dict[str, Any]], kind: str
) -> None:
    report = reports[kind]
    image = html_image(page, render(report, "html"))
    if os.environ.get("PAYGOD_REPORT_SHOTS"):  # to look at them: a folder to write into
        image.save(Path(os.environ["PAYGOD_REPORT_SHOTS"]) / f"report-{kind}.png")
    assert problems(image) == []
    # The DOM says the same: every section's table and each chart's bars; and each chart's
    # box on the screenshot holds the bars' blue when it has a bar that is not zero.
    tables = page.locator("table").count()
    assert tables == 2 + len(report["sections"])
    charts = page.locator("svg.chart")
    assert charts.count() == len(report["charts"]) >= 1
    rgb = pixels(image)
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        bars = report["charts"][i]["bars"]
        assert charts.nth(i).locator("rect").count() == len(bars)
        top, left = int(box["y"]), int(box["x"])
        region = rgb[top : top + int(box["height"]), left : left + int(box["width"])]
        drawn = chart_pixels(region)
        if any(bar["value"] for bar in bars):
            assert drawn >= 100, f"chart {i} of the {kind} report has no bars"
        else:  # a chart of zeros or of nothing (no exceptions, no consents) draws no bar
            assert drawn == 0, f"chart {i} of the {kind} report draws bars of nothing"


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_report_pages_show_tables_and_charts(
    reports: dict[str, dict[str, Any]], kind: str
) -> None:
    images = pdf_images(render(reports[kind], "pdf"))
    assert problems(images[0]) == []  # the first page: basis, summary, charts
    for number, image in enumerate(images[1:], start=2):
        assert ink(pixels(image)) >= MIN_INK / 4, f"page {number} of the {kind} PDF is blank"
        assert rules(pixels(image))[0] >= 2, f"page {number} of the {kind} PDF has no table"


def test_the_html_checks_fail_on_a_blank_page_text_alone_and_a_report_without_charts(
    page: Any, reports: dict[str, dict[str, Any]]
) -> None:
    blank = html_image(page, b"<!doctype html><html><body></body></html>")
    assert problems(blank)[0] == "blank"
    words = "<p>" + " ".join(["Segregation of duties, maker and checker."] * 40) + "</p>"
    text = html_image(page, f"<!doctype html><body>{words * 6}</body>".encode())
    found = problems(text)
    assert "blank" not in found and found[0].startswith("no table") and "no chart" in found
    bare = {**reports["sox"], "charts": []}
    assert problems(html_image(page, render(bare, "html"))) == ["no chart"]


def test_the_pdf_checks_fail_on_a_blank_page_and_a_report_without_charts(
    reports: dict[str, dict[str, Any]],
) -> None:
    bare = {**reports["sox"], "charts": []}
    assert problems(pdf_images(render(bare, "pdf"))[0]) == ["no chart"]
    empty = FPDF()
    empty.add_page()
    assert problems(pdf_images(bytes(empty.output()))[0]) == [
        "blank",
        "no table (0 horizontal, 0 vertical rules)",
        "no chart",
    ]

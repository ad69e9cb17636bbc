"""A printed customer document other than an order's invoice (quote, goods issue, tax invoice,
goods receipt, credit note, reconciliation statement): the issuer, the TITLE and number, facts
(name, value), a table of lines, totals and a note, in one A4 PDF made with fpdf2 in Source Sans Pro
as `orders.printing.invoice` does. Pure: values in, bytes out."""

from __future__ import annotations

from dataclasses import dataclass

from fpdf.enums import XPos, YPos

from orders.printing.invoice import FONT, HEAD_FILL, INK, MARGIN, MUTED, RULE, _Document, _section


@dataclass(frozen=True)
class PrintedDocument:
    issuer_name: str
    issuer_address: tuple[str, ...]
    title: str  # QUOTE, GOODS ISSUE, TAX INVOICE, ...
    number: str
    facts: tuple[tuple[str, str], ...]
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    totals: tuple[tuple[str, str], ...] = ()
    note: str | None = None
    table_title: str | None = None


class _Page(_Document):
    def __init__(self, doc: PrintedDocument) -> None:
        super().__init__()
        self.doc = doc

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FONT, "", 8.5)
            self.set_text_color(*MUTED)
            self.cell(0, 4, f"{self.doc.issuer_name} · {self.doc.title.title()} {self.doc.number} (continued)")
            self.ln(8)

    def footer(self) -> None:
        self.set_y(-MARGIN - 2)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{self.doc.issuer_name} · {self.doc.title.title()} {self.doc.number}")
        self.set_x(MARGIN)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def render_document(doc: PrintedDocument) -> bytes:
    pdf = _Page(doc)
    pdf.set_title(f"{doc.title.title()} {doc.number}")
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(100, 8, doc.issuer_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*MUTED)
    for line in doc.issuer_address:
        pdf.cell(100, 4.6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left = pdf.get_y()
    pdf.set_xy(pdf.w - MARGIN - 100, top)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 22)
    pdf.cell(100, 11, doc.title, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.cell(100, 6, doc.number, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(left, pdf.get_y()) + 5)
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(5)
    for name, value in doc.facts:
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(45, 5.4, name)
        pdf.set_font(FONT, "B", 9.5)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5.4, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    if doc.columns:
        if doc.table_title:
            _section(pdf, doc.table_title)
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*INK)
        width = pdf.w - 2 * MARGIN
        first = width - 30 * (len(doc.columns) - 1) if len(doc.columns) > 1 else width
        with pdf.table(
            col_widths=(first, *([30] * (len(doc.columns) - 1))),
            width=width,
            text_align=("LEFT", *(["RIGHT"] * (len(doc.columns) - 1))),
            borders_layout="HORIZONTAL_LINES",
            line_height=5,
            padding=(1.3, 2),
            repeat_headings=1,
        ) as table:
            table.row(list(doc.columns))
            for row in doc.rows:
                table.row(list(row))
        pdf.set_draw_color(*HEAD_FILL)
        pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
        pdf.ln(5)
    if doc.totals:
        x = pdf.w - MARGIN - 90
        for name, value in doc.totals:
            pdf.set_x(x)
            pdf.set_font(FONT, "", 10)
            pdf.cell(50, 6.5, name)
            pdf.cell(40, 6.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(5)
    if doc.note:
        _section(pdf, "Note")
        pdf.set_font(FONT, "", 9.5)
        pdf.multi_cell(0, 5, doc.note)
    return bytes(pdf.output())

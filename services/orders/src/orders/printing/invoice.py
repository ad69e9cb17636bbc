"""The printed invoice: one or many invoices in one A4 PDF, each starting on a new page with its
own page numbering ("Page 1 of 2" counts that invoice's pages), made with fpdf2 in Source Sans
Pro (the `font_source_sans_pro` package's TrueType fonts, embedded: Turkish and Polish letters
print as they are).

A page: the issuer and its address, INVOICE with the number, the dates, the order, the customer
(its account and bill-to address) and its reference; the lines (description, quantity, unit
price, tax rate, net, tax; headings repeated on a following page); the totals (net, tax per rate,
total, paid so far when known, balance due); how to pay; the order's public note; a VOID stamp on
every page of a voided invoice. What is printed is only what `PrintedInvoice` holds: no private
note can reach it.

Pure: values in, bytes out (no database, no clock)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import font_source_sans_pro
from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

FONT = "SourceSansPro"
FONTS = Path(font_source_sans_pro.__file__).parent / "files"
MARGIN = 18  # mm
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEAD_FILL = (52, 58, 64)
STRIPE = (244, 246, 248)
METHODS = {"card": "Card", "bank_transfer": "Bank transfer", "paypal": "PayPal"}
DETAIL_NAMES = {"iban": "IBAN", "bic": "BIC", "how": "How"}


@dataclass(frozen=True)
class PrintedLine:
    description: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal  # a fraction: 0.19 is 19 %
    net: Decimal
    tax: Decimal
    sku: str | None = None


@dataclass(frozen=True)
class Instruction:
    method: str
    details: dict[str, str]


@dataclass(frozen=True)
class PrintedInvoice:
    issuer_name: str
    issuer_address: tuple[str, ...]
    number: str
    issued_on: date
    due_on: date
    order_number: str
    account_id: str
    currency: str
    lines: tuple[PrintedLine, ...]
    bill_to: tuple[str, ...] = ()  # name, company, address lines: as printed
    customer_reference: str | None = None
    paid: Decimal | None = None  # paid so far, when known
    credited: Decimal = Decimal("0.00")  # taken off by credit notes (returned goods)
    instructions: tuple[Instruction, ...] = ()
    public_note: str | None = None
    voided: bool = False

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0.00"))

    @property
    def taxes(self) -> list[tuple[Decimal, Decimal]]:
        """(rate, tax) per rate, lowest rate first."""
        by_rate: dict[Decimal, Decimal] = {}
        for line in self.lines:
            by_rate[line.tax_rate.normalize()] = by_rate.get(line.tax_rate.normalize(), Decimal("0.00")) + line.tax
        return sorted(by_rate.items()) or [(Decimal(0), Decimal("0.00"))]

    @property
    def total(self) -> Decimal:
        return self.net + sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def balance(self) -> Decimal | None:
        return None if self.paid is None else max(self.total - self.paid - self.credited, Decimal("0.00"))


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def percent(rate: Decimal) -> str:
    value = (rate * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f} %"


def day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.add_font(FONT, "", str(FONTS / "SourceSansPro-Regular.ttf"))
        self.add_font(FONT, "B", str(FONTS / "SourceSansPro-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 8)
        self.set_creator("Portal orders")
        self.invoice: PrintedInvoice | None = None
        self.first_page = 1  # the current invoice's first page
        self.index = -1  # the current invoice's position in the document
        self.starting = False  # an invoice's first page is being added (no continuation header)
        self.pages_of: dict[int, int] = {}  # an invoice's position → its page count (from a first pass)

    def header(self) -> None:
        """A following page of an invoice says whose it is above what continues."""
        invoice = self.invoice
        if invoice is None or self.starting:
            return
        self.set_font(FONT, "", 8.5)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{invoice.issuer_name} · Invoice {invoice.number} (continued)", align="R")
        self.ln(8)

    def footer(self) -> None:
        invoice = self.invoice
        if invoice is None:
            return
        if invoice.voided:
            self._void_stamp()
        self.set_y(-MARGIN - 2)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 2, self.w - MARGIN, self.get_y() - 2)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{invoice.issuer_name} · Invoice {invoice.number} · Order {invoice.order_number}")
        page = self.page_no() - self.first_page + 1
        total = self.pages_of.get(self.index)
        self.set_x(MARGIN)
        self.cell(0, 4, f"Page {page} of {total}" if total else f"Page {page}", align="R")

    def _void_stamp(self) -> None:
        with self.local_context(fill_opacity=0.25, stroke_opacity=0.5):
            self.set_text_color(200, 30, 30)
            self.set_draw_color(200, 30, 30)
            self.set_font(FONT, "B", 110)
            x, y = self.w / 2, self.h / 2
            with self.rotation(35, x, y):
                width = self.get_string_width("VOID")
                self.set_line_width(2)
                self.rect(x - width / 2 - 8, y - 21, width + 16, 42)
                self.text(x - width / 2, y + 14, "VOID")
        self.set_line_width(0.2)


def render(invoices: Sequence[PrintedInvoice]) -> bytes:
    """One PDF of these invoices in this order (each from a new page). At least one."""
    if not invoices:
        raise ValueError("nothing to print")
    counting = _Document()
    for invoice in invoices:
        _invoice(counting, invoice)
    _invoice(counting, None)
    pdf = _Document()
    pdf.pages_of = counting.pages_of
    pdf.set_title(invoices[0].number if len(invoices) == 1 else f"{len(invoices)} invoices")
    for invoice in invoices:
        _invoice(pdf, invoice)
    _invoice(pdf, None)
    return bytes(pdf.output())


def _invoice(pdf: _Document, invoice: PrintedInvoice | None) -> None:
    """Begin the next invoice on a new page (None: the end). The page break draws the previous
    invoice's last footer, so its page count is taken before."""
    if pdf.invoice is not None:
        pdf.pages_of.setdefault(pdf.index, pdf.page_no() - pdf.first_page + 1)
    if invoice is None:
        return
    pdf.starting = True
    pdf.add_page()
    pdf.invoice, pdf.first_page, pdf.index, pdf.starting = invoice, pdf.page_no(), pdf.index + 1, False
    _header(pdf, invoice)
    _parties(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    _payment(pdf, invoice)
    _note(pdf, invoice)


def _header(pdf: _Document, inv: PrintedInvoice) -> None:
    top = pdf.get_y()
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(100, 8, inv.issuer_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*MUTED)
    for line in inv.issuer_address:
        pdf.cell(100, 4.6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.w - MARGIN - 80, top)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 26)
    pdf.cell(80, 11, "INVOICE", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.cell(80, 6, inv.number, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 5)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(6)


def _parties(pdf: _Document, inv: PrintedInvoice) -> None:
    top = pdf.get_y()
    _label(pdf, "BILL TO", 90)
    pdf.set_font(FONT, "B", 10.5)
    pdf.set_text_color(*INK)
    who = inv.bill_to or (f"Account {inv.account_id}",)
    pdf.multi_cell(90, 5.2, who[0], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    for line in who[1:]:
        pdf.multi_cell(90, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if inv.bill_to:
        pdf.set_text_color(*MUTED)
        pdf.cell(90, 5, f"Account {inv.account_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    facts = [
        ("Invoice number", inv.number),
        ("Issue date", day(inv.issued_on)),
        ("Due date", day(inv.due_on)),
        ("Order", inv.order_number),
        ("Customer account", inv.account_id),
    ]
    if inv.customer_reference:
        facts.append(("Your reference", inv.customer_reference))
    x = pdf.w - MARGIN - 80
    pdf.set_xy(x, top)
    for name, value in facts:
        pdf.set_x(x)
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(34, 5.4, name)
        pdf.set_font(FONT, "B", 9.5)
        pdf.set_text_color(*INK)
        pdf.cell(46, 5.4, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)


def _label(pdf: _Document, text: str, width: float = 0) -> None:
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(width, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _lines(pdf: _Document, inv: PrintedInvoice) -> None:
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=HEAD_FILL)
    with pdf.table(
        col_widths=(74, 14, 24, 14, 24, 24),
        width=pdf.w - 2 * MARGIN,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=headings,
        borders_layout="HORIZONTAL_LINES",
        cell_fill_color=STRIPE,
        cell_fill_mode="ROWS",
        line_height=5,
        padding=(1.3, 2),
        repeat_headings=1,
    ) as table:
        table.row(["Description", "Qty", "Unit price", "Tax", "Net", "Tax amount"])
        for line in inv.lines:
            text = line.description if not line.sku else f"{line.description}\n{line.sku}"
            table.row(
                [
                    text,
                    str(line.quantity),
                    money(line.unit_price, inv.currency),
                    percent(line.tax_rate),
                    money(line.net, inv.currency),
                    money(line.tax, inv.currency),
                ]
            )
    pdf.set_draw_color(*HEAD_FILL)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.ln(5)


def _totals(pdf: _Document, inv: PrintedInvoice) -> None:
    rows: list[tuple[str, str, bool]] = [("Net", money(inv.net, inv.currency), False)]
    rows += [(f"Tax {percent(rate)}", money(tax, inv.currency), False) for rate, tax in inv.taxes]
    rows.append(("Total", money(inv.total, inv.currency), True))
    if inv.paid is not None:
        rows.append(("Paid so far", money(inv.paid, inv.currency), False))
        if inv.credited > 0:
            rows.append(("Credited", money(inv.credited, inv.currency), False))
        rows.append(("Balance due", money(inv.balance, inv.currency), True))
    if pdf.will_page_break(6.5 * len(rows) + 4):
        pdf.add_page()
    x, width = pdf.w - MARGIN - 80, 80
    for name, value, strong in rows:
        if strong:
            pdf.set_draw_color(*INK)
            pdf.set_line_width(0.3)
            pdf.line(x, pdf.get_y() + 0.5, x + width, pdf.get_y() + 0.5)
            pdf.ln(1)
        pdf.set_x(x)
        pdf.set_font(FONT, "B" if strong else "", 11 if strong else 10)
        pdf.set_text_color(*INK)
        pdf.cell(40, 6.5, name)
        pdf.cell(40, 6.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _payment(pdf: _Document, inv: PrintedInvoice) -> None:
    if not inv.instructions:
        return
    rows = [inv.instructions[i : i + 3] for i in range(0, len(inv.instructions), 3)]
    tallest = sum(5 + 4.4 * max(len(i.details) for i in row) + 2 for row in rows)
    if pdf.will_page_break(18 + tallest):
        pdf.add_page()
    _section(pdf, "How to pay")
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(*INK)
    due = inv.total if inv.balance is None else inv.balance
    if inv.voided:
        text = "This invoice is void: do not pay it."
    elif due <= 0:
        text = "This invoice is paid in full: thank you."
    else:
        amount = money(due, inv.currency)
        text = f"Please pay {amount} by {day(inv.due_on)}, quoting {inv.number}, in one of these ways:"
    pdf.multi_cell(0, 5, text)
    pdf.ln(1.5)
    width = (pdf.w - 2 * MARGIN) / max(1, min(3, len(inv.instructions)))
    top = pdf.get_y()
    bottom = top
    for i, instruction in enumerate(inv.instructions):
        x = MARGIN + (i % 3) * width
        if i and i % 3 == 0:
            top = bottom + 2
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(width - 4, 5, METHODS.get(instruction.method, instruction.method.replace("_", " ").capitalize()))
        pdf.set_xy(x, top + 5)
        pdf.set_font(FONT, "", 8.5)
        for name, value in instruction.details.items():
            label = DETAIL_NAMES.get(name, name.replace("_", " ").capitalize())
            pdf.set_x(x)
            pdf.multi_cell(width - 4, 4.4, f"{label}: {value}", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(MARGIN, bottom + 6)


def _note(pdf: _Document, inv: PrintedInvoice) -> None:
    if not inv.public_note:
        return
    if pdf.will_page_break(20):
        pdf.add_page()
    _section(pdf, "Note")
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 5, inv.public_note)


def _section(pdf: _Document, title: str) -> None:
    pdf.set_font(FONT, "B", 11)
    pdf.set_text_color(*INK)
    pdf.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(2)

"""The printed invoice, read back as a reader would: the text of each page (pypdfium2) and page 1
rendered to an image (A4 at the scale; dark print in the header and in the lines table; white
margins). Several invoices in one PDF each start on their own page with their own page count; a
long one repeats the table's headings on its next page; a voided one is stamped VOID; Turkish and
Polish letters print as they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from orders.printing.invoice import Instruction, PrintedInvoice, PrintedLine, render

SCALE = 2
A4_POINTS = (595.28, 841.89)
MM = 72 / 25.4 * SCALE  # pixels per millimetre at the scale


def invoice(number: str = "INV-2026-000042", **changes) -> PrintedInvoice:
    base = PrintedInvoice(
        issuer_name="Portal Commerce Ltd",
        issuer_address=("1 Market Street", "London EC1A 1AA", "United Kingdom"),
        number=number,
        issued_on=date(2026, 12, 1),
        due_on=date(2026, 12, 31),
        order_number="ORD-2026-000007",
        account_id="acme",
        currency="EUR",
        lines=(
            PrintedLine(
                "Paper A4, 500 sheets", 3, Decimal("4.50"), Decimal("0"), Decimal("13.50"), Decimal("0.00"), "PAPER-1"
            ),
            PrintedLine(
                "Toner — Łódź, Ğüşıöç İstanbul",
                2,
                Decimal("39.90"),
                Decimal("0.19"),
                Decimal("79.80"),
                Decimal("15.16"),
            ),
        ),
        bill_to=("Zofia Żółć", "Acme Sp. z o.o.", "ul. Piękna 5", "00-001 Warszawa", "PL"),
        customer_reference="PO-4711",
        paid=Decimal("50.00"),
        instructions=(
            Instruction("bank_transfer", {"beneficiary": "Portal Commerce Ltd", "iban": "DE89370400440532013000"}),
            Instruction("paypal", {"payee": "pay@portal.example", "reference": number}),
        ),
        public_note="Deliveries on weekdays only. Teşekkürler, dziękujemy!",
    )
    return replace(base, **changes)


def pages_text(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def words(text: str) -> str:
    return " ".join(text.split())


def box_of(page, text: str) -> tuple[float, float, float, float]:
    """Where `text` is printed on the page, in pixels at the scale: (left, top, right, bottom)."""
    textpage = page.get_textpage()
    found = textpage.search(text).get_next()
    assert found, f"{text!r} is not on the page"
    first, count = found
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    height = page.get_height()
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    top, bottom = max(b[3] for b in boxes), min(b[1] for b in boxes)
    return left * SCALE, (height - top) * SCALE, right * SCALE, (height - bottom) * SCALE


def dark_pixels(image, box) -> int:
    region = image.crop(tuple(int(v) for v in box))
    return sum(1 for value in region.tobytes() if value < 110)


def test_an_invoice_reads_back_with_its_parts_and_page_1_looks_like_an_invoice(tmp_path):
    data = render([invoice()])
    assert data.startswith(b"%PDF-")
    [text] = pages_text(data)
    flat = words(text)
    for part in [
        "Portal Commerce Ltd",
        "1 Market Street",
        "INVOICE",
        "INV-2026-000042",
        "Issue date 1 December 2026",
        "Due date 31 December 2026",
        "Order ORD-2026-000007",
        "Customer account acme",
        "Your reference PO-4711",
        "Zofia Żółć",
        "ul. Piękna 5",
        "Description Qty Unit price Tax Net Tax amount",
        "Paper A4, 500 sheets",
        "3 4.50 EUR 0 % 13.50 EUR 0.00 EUR",
        "Toner — Łódź, Ğüşıöç İstanbul",
        "2 39.90 EUR 19 % 79.80 EUR 15.16 EUR",
        "Net 93.30 EUR",
        "Tax 0 % 0.00 EUR",
        "Tax 19 % 15.16 EUR",
        "Total 108.46 EUR",
        "Paid so far 50.00 EUR",
        "Balance due 58.46 EUR",
        "Please pay 58.46 EUR by 31 December 2026, quoting INV-2026-000042",
        "Bank transfer",
        "IBAN: DE89370400440532013000",
        "PayPal",
        "Note Deliveries on weekdays only. Teşekkürler, dziękujemy!",
        "Page 1 of 1",
    ]:
        assert part in flat, part
    assert "VOID" not in flat

    doc = pdfium.PdfDocument(data)
    page = doc[0]
    assert (round(page.get_width(), 2), round(page.get_height(), 2)) == A4_POINTS
    image = page.render(scale=SCALE).to_pil().convert("L")
    path = tmp_path / "invoice-page-1.png"
    image.save(path)
    print(f"page 1 rendered to {path}")
    width, height = image.size
    assert abs(width - A4_POINTS[0] * SCALE) <= 1 and abs(height - A4_POINTS[1] * SCALE) <= 1
    # the header: the issuer's name and INVOICE are printed dark, where their text says
    for text in ("Portal Commerce Ltd", "INVOICE"):
        assert dark_pixels(image, box_of(page, text)) > 200, text
    # the lines table: the dark heading band, and the lines' text below it
    left, top, right, _ = box_of(page, "Description")
    *_, bottom = box_of(page, "Toner")
    assert dark_pixels(image, (left, top, image.size[0] - 12 * MM, top + 3 * MM)) > 3000  # the filled band
    assert dark_pixels(image, (left, top + 8 * MM, image.size[0] - 12 * MM, bottom)) > 1000
    # the margins are white (12 mm all round; the page's margin is 18)
    pixels = image.load()
    edge = int(12 * MM)
    for x0, y0, x1, y1 in [
        (0, 0, width, edge),
        (0, height - edge, width, height),
        (0, 0, edge, height),
        (width - edge, 0, width, height),
    ]:
        assert all(pixels[x, y] == 255 for x in range(x0, x1, 3) for y in range(y0, y1, 3)), (x0, y0, x1, y1)


def test_a_view_of_three_invoices_is_one_pdf_one_invoice_per_page_group_in_order(tmp_path):
    long_lines = tuple(
        PrintedLine(f"Part {i:02d}", 1, Decimal("1.00"), Decimal("0"), Decimal("1.00"), Decimal("0.00"))
        for i in range(1, 46)
    )
    three = [
        invoice("INV-2026-000001"),
        invoice("INV-2026-000002", lines=long_lines, paid=None, public_note=None),
        invoice("INV-2026-000003", voided=True, paid=Decimal("0.00")),
    ]
    pages = [words(t) for t in pages_text(render(three))]
    numbers = [[n for n in ("INV-2026-000001", "INV-2026-000002", "INV-2026-000003") if n in p] for p in pages]
    long = len(pages) - 2
    assert long >= 2, "45 lines take more than one page"
    assert numbers == [["INV-2026-000001"], *[["INV-2026-000002"]] * long, ["INV-2026-000003"]]
    assert [p[p.index("Page ") :] for p in pages] == [
        "Page 1 of 1",
        *[f"Page {i} of {long}" for i in range(1, long + 1)],
        "Page 1 of 1",
    ]
    # the long invoice: its table's headings again on its next page, then its totals and how to pay
    assert "Description Qty Unit price Tax Net Tax amount" in pages[2] and "Part 01" not in pages[2]
    its = " ".join(pages[1 : 1 + long])
    assert its.index("Part 45") < its.index("Total 45.00 EUR") < its.index("Please pay 45.00 EUR")
    assert "Paid so far" not in its
    # the voided one is stamped, and not to be paid
    assert "VOID" in pages[-1] and "do not pay" in pages[-1] and all("VOID" not in p for p in pages[:-1])
    doc = pdfium.PdfDocument(render(three))
    doc[len(doc) - 1].render(scale=1).to_pil().save(tmp_path / "voided.png")


def test_a_paid_invoice_says_so_and_nothing_prints_without_an_invoice():
    [text] = pages_text(render([invoice(paid=Decimal("108.46"))]))
    assert "Balance due 0.00 EUR" in words(text) and "paid in full" in text
    with pytest.raises(ValueError):
        render([])

"""Real, deterministic files for the demo library and the tests (no network, no LibreOffice).

`make_pdf` writes PDF syntax itself (standard Helvetica, WinAnsi text) and can
encrypt it with the PDF standard security handler (RC4, 40-bit, revision 2), so a
real password-protected PDF needs no extra package.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

PAGE_BREAK = "\f"  # in make_docx paragraphs: start a new page here

_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


# --- PDF ------------------------------------------------------------------------------

def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(title: str, lines: list[str]) -> bytes:
    parts = [b"BT /F1 22 Tf 56 780 Td (" + _pdf_string(title) + b") Tj ET"]
    y = 740
    for line in lines:
        if y < 60:
            break
        parts.append(b"BT /F1 12 Tf 56 %d Td (" % y + _pdf_string(line) + b") Tj ET")
        y -= 18
    return b"\n".join(parts)


def make_pdf(path: str, pages: list[dict], *, user_password: str | None = None,
             owner_password: str = "owner", title: str | None = None) -> str:
    """An A4 PDF, one page per {"title": str, "lines": [str]}; text extractable by PDFium."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    file_id = hashlib.md5(repr((pages, title)).encode()).digest()

    key = None
    encrypt_number = None
    if user_password is not None:
        permissions = -4
        owner_key = hashlib.md5((owner_password.encode("latin-1") + _PAD)[:32]).digest()[:5]
        owner_entry = _rc4(owner_key, (user_password.encode("latin-1") + _PAD)[:32])
        key = hashlib.md5((user_password.encode("latin-1") + _PAD)[:32] + owner_entry
                          + struct.pack("<i", permissions) + file_id).digest()[:5]
        user_entry = _rc4(key, _PAD)

    def crypt(number: int, data: bytes) -> bytes:
        if key is None:
            return data
        object_key = hashlib.md5(key + struct.pack("<I", number)[:3] + b"\x00\x00").digest()
        return _rc4(object_key[: len(key) + 5], data)

    page_count = len(pages)
    # 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(page_count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    info_title = title or (pages[0].get("title", "") if pages else "")
    objects.append(b"<< /Producer (Collateral samples) /Title <"
                   + crypt(4, info_title.encode("cp1252", "replace")).hex().encode() + b"> >>")
    for i, page in enumerate(pages):
        number = 5 + 2 * i
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {number + 1} 0 R >>"
                       .encode())
        stream = crypt(number + 1, _page_stream(page.get("title", ""), page.get("lines", [])))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if key is not None:
        objects.append(b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <"
                       + owner_entry.hex().encode() + b"> /U <" + user_entry.hex().encode()
                       + b"> >>")
        encrypt_number = len(objects)

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R /ID [<{file_id.hex()}> " \
              f"<{file_id.hex()}>]"
    if encrypt_number:
        trailer += f" /Encrypt {encrypt_number} 0 R"
    out.write(trailer.encode() + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    with open(path, "wb") as handle:
        handle.write(out.getvalue())
    return path


# --- images ---------------------------------------------------------------------------

def make_png(path: str, width: int = 640, height: int = 360, *,
             color: tuple[int, int, int] = (31, 78, 121), label: str | None = None) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([width // 10, height // 3, width * 9 // 10, height * 2 // 3],
                   fill=(242, 169, 0))
    if label:
        draw.text((width // 10, height // 10), label, fill=(255, 255, 255))
    image.save(path, "PNG")
    return path


def make_png_bomb(path: str, width: int = 40_000, height: int = 40_000) -> str:
    """A valid 1-bit PNG of width x height white pixels, a few hundred KB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * max(1, (1 << 20) // len(row))
    rows_per_block = len(block) // len(row)
    data = bytearray()
    written = 0
    while written < height:
        count = min(rows_per_block, height - written)
        data += compressor.compress(block if count == rows_per_block else row * count)
        written += count
    data += compressor.flush()
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)))
        handle.write(chunk(b"IDAT", bytes(data)))
        handle.write(chunk(b"IEND", b""))
    return path


def _png_bytes(width: int = 320, height: int = 180, label: str | None = None) -> io.BytesIO:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (31, 78, 121))
    ImageDraw.Draw(image).ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4],
                                  fill=(242, 169, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


# --- Office files ---------------------------------------------------------------------

def make_pptx(path: str, slides: list[dict], *, widescreen: bool = True) -> str:
    """A deck: each slide {"title", "bullets": [...], "notes": str, "table": [[...]] | None,
    "image": bool, "group": [str] (text boxes inside a group shape)}."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    presentation = Presentation()
    if widescreen:
        presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    layout = presentation.slide_layouts[1]  # Title and Content
    for spec in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = spec.get("title", "")
        body = slide.placeholders[1]
        bullets = spec.get("bullets") or []
        if bullets:
            frame = body.text_frame
            frame.text = bullets[0]
            for bullet in bullets[1:]:
                frame.add_paragraph().text = bullet
        else:
            body.element.getparent().remove(body.element)
        table = spec.get("table")
        if table:
            rows, cols = len(table), max(len(r) for r in table)
            shape = slide.shapes.add_table(rows, cols, Inches(7), Inches(2), Inches(5.5),
                                           Inches(0.4 * rows))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = str(value)
        if spec.get("image"):
            slide.shapes.add_picture(_png_bytes(label=spec.get("title")), Inches(9), Inches(5),
                                     width=Inches(3))
        group_texts = spec.get("group")
        if group_texts:
            group = slide.shapes.add_group_shape()
            for n, text in enumerate(group_texts):
                box = group.shapes.add_textbox(Inches(1 + 2.2 * n), Inches(6.2), Inches(2),
                                               Inches(0.6))
                box.text_frame.text = text
                box.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
            group.left = Emu(group.left)
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
    presentation.save(path)
    return path


def make_docx(path: str, title: str, paragraphs: list[str], table: list[list] | None = None,
              *, header: str | None = None, footer: str | None = None) -> str:
    """A Word document; a paragraph equal to PAGE_BREAK starts a new page."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_heading(title, level=0)
    for paragraph in paragraphs:
        if paragraph == PAGE_BREAK:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif paragraph.startswith("# "):
            document.add_heading(paragraph[2:], level=1)
        else:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        grid.style = "Table Grid"
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = str(value)
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    document.core_properties.title = title
    document.save(path)
    return path


def make_xlsx(path: str, sheets: dict[str, list[list]]) -> str:
    """A workbook: sheet name -> rows of values (first row is the header)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name[:31])
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1] if rows else []:
            cell.font = Font(bold=True)
    workbook.save(path)
    return path


def make_zip_bomb(path: str, *, member: str = "word/document.xml", size: int = 1100 * 2**20) -> str:
    """A ZIP whose one member inflates to `size` bytes of zeros (default 1.1 GB), in about 1 MB.

    Written with a streamed compressor, so making it costs seconds and no memory.
    """
    chunk = b"\x00" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        with archive.open(member, "w", force_zip64=True) as handle:
            for _ in range(size // len(chunk)):
                handle.write(chunk)
    return path


# --- the demo library -----------------------------------------------------------------

COMPANY = "Northwind Cloud"


@dataclass
class DemoItem:
    title: str
    description: str
    content_type: str  # deck, case_study, datasheet, battlecard, one_pager, price_sheet
    product: str
    stage: str
    region: str
    persona: str
    tags: list[str]
    filename: str
    write: Callable[[str], str] = field(repr=False)


def _pricing_deck(path: str) -> str:
    return make_pptx(path, [
        {"title": "Pricing overview - Healthcare", "bullets": [
            f"{COMPANY} Care Platform for hospitals and clinic networks",
            "Per-bed pricing with volume tiers", "HIPAA-ready security included in every tier"],
         "notes": "Open with the customer's bed count; anchor on the Enterprise tier."},
        {"title": "Pricing tiers", "bullets": ["Three tiers, annual billing"],
         "table": [["Tier", "Beds", "Price per bed / month"], ["Essentials", "up to 200", "$9"],
                   ["Professional", "200-1,000", "$7"], ["Enterprise", "1,000+", "Custom"]],
         "notes": "Discounts above 15% need deal desk approval."},
        {"title": "Onboarding and services", "bullets": [
            "Guided onboarding in 30 days", "Dedicated customer success manager",
            "EHR integration package (Epic, Cerner)"], "image": True},
        {"title": "Return on investment", "bullets": [
            "Average ROI of 240% over three years", "Payback in under 9 months",
            "Fewer readmissions through care coordination"],
         "group": ["240% ROI", "9-month payback", "30-day onboarding"],
         "notes": "Use the ROI calculator with the prospect's own numbers."},
    ])


def _platform_deck(path: str) -> str:
    return make_pptx(path, [
        {"title": f"{COMPANY} platform overview", "bullets": [
            "One data platform for care teams, finance and operations"],
         "notes": "Keep this to five minutes; ask about their current stack."},
        {"title": "Architecture", "bullets": ["Multi-tenant cloud in EU and US regions",
                                             "Open APIs and webhooks", "SSO with SAML and OIDC"],
         "image": True},
        {"title": "Security and compliance", "bullets": [
            "SOC 2 Type II and ISO 27001 certified", "Encryption at rest and in transit",
            "HIPAA and GDPR ready"]},
        {"title": "Customers", "bullets": ["Mercy Regional Health", "Alpine Logistics",
                                          "Harbor Financial"],
         "notes": "Reference calls available for healthcare and finance."},
        {"title": "Next steps", "bullets": ["Discovery workshop", "Security review",
                                           "Pilot in 30 days"]},
    ])


def _battlecard_deck(path: str) -> str:
    return make_pptx(path, [
        {"title": "Battlecard: Northwind vs. Stackwise", "bullets": [
            "Where we win: healthcare, security reviews, onboarding speed",
            "Where they win: low entry price for small teams"],
         "table": [["", "Northwind", "Stackwise"], ["HIPAA", "Yes", "Add-on"],
                   ["Onboarding", "30 days", "90 days"], ["SSO", "All tiers", "Enterprise only"]],
         "notes": "Never disparage; ask the prospect how they will pass the security review."},
        {"title": "Objection handling", "bullets": [
            '"Stackwise is cheaper": compare total cost incl. the HIPAA add-on',
            '"We already use Stackwise": offer a side-by-side pilot']},
    ])


def _case_study(path: str) -> str:
    return make_pdf(path, [
        {"title": "Case study: Mercy Regional Health", "lines": [
            "Mercy Regional Health runs 14 hospitals and 120 clinics.",
            "Challenge: onboarding new clinics onto shared care data took six months.",
            f"Solution: {COMPANY} Care Platform with the EHR integration package.",
            "Result: onboarding time cut by 60%, readmissions down 12%."]},
        {"title": "Results and ROI", "lines": [
            "ROI of 310% in the first two years.", "Security review passed in three weeks.",
            '"We finally see every patient journey in one place." - CIO, Mercy Regional Health']},
    ], title="Case study: Mercy Regional Health")


def _roi_one_pager(path: str) -> str:
    return make_pdf(path, [{"title": "The ROI of Northwind Cloud in one page", "lines": [
        "Average ROI: 240% over three years (independent study, 2024).",
        "Payback period: under 9 months.", "Onboarding: 30 days, guided.",
        "Security: SOC 2 Type II, ISO 27001, HIPAA ready.",
        "Pricing: per bed or per seat, with volume tiers."]}], title="ROI one-pager")


def _security_datasheet(path: str) -> str:
    return make_docx(path, "Security and compliance datasheet", [
        "# Certifications",
        "SOC 2 Type II, ISO 27001 and ISO 27701 certified; HIPAA and GDPR ready.",
        "# Data protection",
        "AES-256 encryption at rest, TLS 1.3 in transit, customer-managed keys on Enterprise.",
        PAGE_BREAK,
        "# Access control",
        "SSO with SAML 2.0 and OIDC, SCIM provisioning, role-based access.",
        "# Onboarding a security review",
        "Our trust portal has the pen-test summary and the standard questionnaire answers.",
    ], table=[["Control", "Status"], ["Penetration test", "Annual, external"],
              ["Backups", "Hourly, 35-day retention"], ["Uptime SLA", "99.95%"]],
        header=f"{COMPANY} - Confidential", footer="security@northwind.example")


def _price_sheet(path: str) -> str:
    return make_xlsx(path, {
        "Price list EMEA": [["SKU", "Product", "Unit", "List price (EUR)"],
                            ["NW-CARE-ESS", "Care Platform Essentials", "bed / month", 8.5],
                            ["NW-CARE-PRO", "Care Platform Professional", "bed / month", 6.5],
                            ["NW-SEC-PLUS", "Security Plus add-on", "seat / month", 4],
                            ["NW-ONB-30", "Guided onboarding (30 days)", "one-off", 12000]],
        "Discounts": [["Volume", "Discount"], ["> 500 beds", "5%"], ["> 2,000 beds", "12%"]],
    })


def _security_battlecard(path: str) -> str:
    return make_pdf(path, [{"title": "Battlecard: security objections", "lines": [
        '"Is our patient data safe?" - encryption, SOC 2 Type II, HIPAA BAA available.',
        '"Where is the data stored?" - EU or US region, chosen per tenant.',
        '"Can we run our own pen test?" - yes, with 10 days notice.']}],
        title="Battlecard: security objections")


def demo_library() -> list[DemoItem]:
    """About eight realistic items for a fictional B2B company; call item.write(path)."""
    return [
        DemoItem("Pricing overview - Healthcare", "Per-bed pricing, tiers, onboarding and ROI "
                 "for hospital networks.", "deck", "Care Platform", "proposal", "North America",
                 "CFO", ["pricing", "healthcare", "roi"], "pricing-overview-healthcare.pptx",
                 _pricing_deck),
        DemoItem("Platform overview", "The first-meeting deck: architecture, security, "
                 "customers, next steps.", "deck", "Northwind Platform", "discovery", "Global",
                 "CIO", ["platform", "security", "overview"], "platform-overview.pptx",
                 _platform_deck),
        DemoItem("Battlecard: Northwind vs. Stackwise", "Where we win and lose against "
                 "Stackwise, with objection handling.", "battlecard", "Care Platform",
                 "evaluation", "North America", "Sales rep", ["competitive", "healthcare"],
                 "battlecard-stackwise.pptx", _battlecard_deck),
        DemoItem("Case study: Mercy Regional Health", "How a 14-hospital network cut "
                 "onboarding time by 60%.", "case_study", "Care Platform", "evaluation",
                 "North America", "CIO", ["healthcare", "onboarding", "roi"],
                 "case-study-mercy-regional.pdf", _case_study),
        DemoItem("ROI one-pager", "The numbers behind the ROI claim on one page.", "one_pager",
                 "Northwind Platform", "proposal", "Global", "CFO", ["roi", "pricing"],
                 "roi-one-pager.pdf", _roi_one_pager),
        DemoItem("Security and compliance datasheet", "Certifications, data protection and "
                 "access control for security reviews.", "datasheet", "Northwind Platform",
                 "evaluation", "EMEA", "CISO", ["security", "compliance"],
                 "security-datasheet.docx", _security_datasheet),
        DemoItem("Price sheet EMEA", "List prices and volume discounts in EUR.", "price_sheet",
                 "Care Platform", "negotiation", "EMEA", "Procurement", ["pricing", "emea"],
                 "price-sheet-emea.xlsx", _price_sheet),
        DemoItem("Battlecard: security objections", "Short answers to the security questions "
                 "every healthcare buyer asks.", "battlecard", "Northwind Platform",
                 "evaluation", "Global", "CISO", ["security", "healthcare", "objections"],
                 "battlecard-security-objections.pdf", _security_battlecard),
    ]

"""The demo library: eight items of a fictional B2B company (Northwind Cloud), each
with its metadata and a real generated file; `flask seed-demo` (portal/demo.py) uploads
them so a fresh portal has something to search, view and measure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from assets.sample_files import PAGE_BREAK, make_docx, make_pdf, make_pptx, make_xlsx

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

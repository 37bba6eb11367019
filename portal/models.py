"""The portal's data: the database is the source of truth; the index,
thumbnails and rollups are derived from it."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.config import DEFAULT_API_TOKEN_DAYS
from portal.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.StrEnum):
    REP = "rep"
    MARKETER = "marketer"
    ENABLEMENT = "enablement"
    ADMIN = "admin"


ROLES = tuple(r.value for r in Role)
# Roles that curate the library: they see retired and expired items and old versions.
STAFF_ROLES = (Role.MARKETER.value, Role.ENABLEMENT.value, Role.ADMIN.value)
PUBLISHER_ROLES = (Role.MARKETER.value, Role.ADMIN.value)
# Roles that work the review queue of ratings and flags.
REVIEWER_ROLES = (Role.ENABLEMENT.value, Role.ADMIN.value)
ADMIN_ROLES = (Role.ADMIN.value,)
ANALYTICS_ROLES = STAFF_ROLES  # marketers, enablement leads, admins see the analytics


def _role_in(group: tuple[str, ...]) -> property:
    """A User property that is true when the user's role belongs to `group`."""
    return property(lambda user: user.role in group)


CONTENT_TYPES = (
    "deck", "case_study", "datasheet", "battlecard", "one_pager", "price_sheet", "video", "other",
)
CONTENT_TYPE_LABELS = {
    "deck": "Deck", "case_study": "Case study", "datasheet": "Datasheet", "battlecard": "Battlecard",
    "one_pager": "One-pager", "price_sheet": "Price sheet", "video": "Video", "other": "Other",
}


class AssetStatus(enum.StrEnum):
    """Where an item stands (portal/library/publishing.py moves it, one allowed step at a time)."""

    DRAFT = "draft"          # uploaded, not yet offered to reps
    IN_REVIEW = "in_review"  # waiting for a reviewer (approval required for its content type)
    SCHEDULED = "scheduled"  # approved or published for a future date (publish_on)
    PUBLISHED = "published"
    RETIRED = "retired"


ASSET_STATUSES = tuple(s.value for s in AssetStatus)


class PendingPublish(enum.StrEnum):
    """What waits for a newer version of an item (Asset.pending_version_id) before it becomes current."""

    HOLD = "hold"      # a draft version: its uploader publishes it when it looks right
    REVIEW = "review"  # waiting for a reviewer
    AUTO = "auto"      # current as soon as it is processed


class Processing(enum.StrEnum):
    """Where an uploaded version's processing (text, pages, thumbnails) stands."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class BuildStatus(enum.StrEnum):
    """Where the assembly of a deck's .pptx (one revision of the deck) stands."""

    PENDING = "pending"    # queued
    BUILDING = "building"  # a worker holds it (see portal/queue.py claim_job)
    READY = "ready"        # the file is in storage
    FAILED = "failed"      # with a reason


class ReviewStatus(enum.StrEnum):
    """A rating or flag in the enablement review queue."""

    OPEN = "open"
    RESOLVED = "resolved"


class Outcome(enum.StrEnum):
    """The outcome of the opportunity a reported use was for."""

    WON = "won"
    LOST = "lost"
    OPEN = "open"


OUTCOMES = tuple(o.value for o in Outcome)
REVIEW_STATUSES = tuple(s.value for s in ReviewStatus)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.REP.value)
    team: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What the session and the remember-me cookie carry instead of the id
    # (Flask-Login's "alternative token"): a new one signs the user out everywhere.
    # ('' is only the column's default for rows not made through this model: no cookie matches it.)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, index=True, default=new_session_token,
                                               server_default="")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.revoke_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def revoke_sessions(self) -> None:
        """Invalidate every session and remember-me cookie of this user (commit to apply)."""
        self.session_token = new_session_token()

    def get_id(self) -> str:  # Flask-Login stores this in the session and the remember cookie
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # What the user's role allows; templates ask these, never for role names.
    is_staff = _role_in(STAFF_ROLES)
    can_publish = _role_in(PUBLISHER_ROLES)
    is_reviewer = _role_in(REVIEWER_ROLES)
    is_admin = _role_in(ADMIN_ROLES)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only the SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)  # to within LAST_USED_PRECISION
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set from API_TOKEN_DAYS when issued (portal/access.py); the default is for rows made otherwise.
    expires_at: Mapped[datetime] = mapped_column(
        DateTime, default=lambda: utcnow() + timedelta(days=DEFAULT_API_TOKEN_DAYS))

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """A failed sign-in, kept for two throttling windows only (portal/auth/signin.py
    deletes older rows): what every web worker counts to refuse the next attempt.
    The lasting record of failures is the log (logger `portal.auth`)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_created_at", "email", "created_at"),
        Index("ix_login_attempts_address_created_at", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed, lower-cased: unknown accounts count too
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AssetTag(db.Model):
    __tablename__ = "asset_tags"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class Asset(db.Model):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(40), index=True)
    product: Mapped[str | None] = mapped_column(String(120), index=True)
    stage: Mapped[str | None] = mapped_column(String(60), index=True)
    region: Mapped[str | None] = mapped_column(String(120), index=True)
    persona: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default=AssetStatus.PUBLISHED.value, index=True)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset_versions.id", use_alter=True, ondelete="SET NULL")
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    # The expiry date its owner was last warned about (one warning per date).
    expiry_warned_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Governance (portal/library/publishing.py, portal/governance/).
    publish_on: Mapped[date | None] = mapped_column(Date, index=True)  # scheduled publishing
    published_at: Mapped[datetime | None] = mapped_column(DateTime)  # first published
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who asked for review
    review_comment: Mapped[str | None] = mapped_column(Text)  # the reviewer's when sent back
    # A newer version not yet current (reps keep the current one until it is processed and approved);
    # a plain id: assets and versions point at each other already.
    pending_version_id: Mapped[int | None] = mapped_column(Integer)
    pending_publish: Mapped[str | None] = mapped_column(String(20))  # PendingPublish
    review_by: Mapped[date | None] = mapped_column(Date, index=True)  # verify the content by then
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_reminded_for: Mapped[date | None] = mapped_column(Date)  # one reminder per review-by date
    # The upload form's one-time token: a double-submitted form makes one item.
    upload_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    pending_version: Mapped[AssetVersion | None] = relationship(
        primaryjoin="foreign(Asset.pending_version_id) == AssetVersion.id", viewonly=True)
    tag_rows: Mapped[list[AssetTag]] = relationship(
        cascade="all, delete-orphan", order_by=AssetTag.tag, lazy="selectin"
    )
    current_version: Mapped[AssetVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list[AssetVersion]] = relationship(
        back_populates="asset", foreign_keys="AssetVersion.asset_id",
        order_by="AssetVersion.number.desc()",
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def set_tags(self, tags: list[str]) -> None:
        self.tag_rows = [AssetTag(tag=t) for t in dict.fromkeys(tags)]

    def is_expired(self, today: date | None = None) -> bool:
        return self.expires_on is not None and self.expires_on < (today or date.today())

    def is_hidden_from_reps(self, today: date | None = None) -> bool:
        """Reps see only published, unexpired items whose current file is processed."""
        version = self.current_version
        return (self.status != AssetStatus.PUBLISHED or self.is_expired(today) or version is None
                or version.processing != Processing.READY)

    def needs_review(self, today: date | None = None) -> bool:
        """Its owner has not verified it by its review-by date."""
        return self.status == AssetStatus.PUBLISHED and self.review_by is not None \
            and self.review_by < (today or date.today())

    @property
    def last_verified_at(self) -> datetime | None:
        """When someone last vouched for it: verified, or else published."""
        return self.verified_at or self.published_at


class AssetVersion(db.Model):
    __tablename__ = "asset_versions"
    __table_args__ = (UniqueConstraint("asset_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(20))  # what the bytes really are: pdf, pptx, ...
    processing: Mapped[str] = mapped_column(String(20), default=Processing.PENDING.value)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[str | None] = mapped_column(Text)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int | None] = mapped_column(Integer)
    cover_key: Mapped[str | None] = mapped_column(String(512))
    # The PDF the viewer shows of a deck, document or spreadsheet (made by LibreOffice at
    # processing); None for PDFs (they show themselves) and until one is made.
    preview_key: Mapped[str | None] = mapped_column(String(512))
    preview_pages: Mapped[int | None] = mapped_column(Integer)  # pages of that PDF
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The lease of the worker processing it (portal/queue.py claim_job): a version still
    # pending after its deadline was cut off by a dead process and is processed again.
    processing_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    processing_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A deck's slide size in EMU, read at processing (migration 0015); None for other files.
    slide_width_emu: Mapped[int | None] = mapped_column(Integer)
    slide_height_emu: Mapped[int | None] = mapped_column(Integer)

    asset: Mapped[Asset] = relationship(back_populates="versions", foreign_keys=[asset_id])
    uploaded_by: Mapped[User | None] = relationship()
    pages: Mapped[list[Page]] = relationship(
        back_populates="version", order_by="Page.number", cascade="all, delete-orphan"
    )


class Page(db.Model):
    """A slide of a deck or a page of a document, of one version."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("asset_versions.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    # Slide lineage (portal/decks/lineage.py, migration 0015): a perceptual hash of the
    # thumbnail, a MinHash of the text, and the group of identical and near-identical slides.
    phash: Mapped[str | None] = mapped_column(String(16))
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)

    version: Mapped[AssetVersion] = relationship(back_populates="pages")
    asset: Mapped[Asset] = relationship()


class UsageKind(enum.StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    SEARCH_CLICK = "search_click"
    DECK_INCLUSION = "deck_inclusion"
    REPORTED = "reported"


class UsageEvent(db.Model):
    """Something a user did with an asset, recorded as it happened."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_asset_time", "asset_id", "occurred_at"),
        Index("ix_usage_events_time", "occurred_at"),
        Index("ix_usage_events_search_log", "search_log_id"),  # search click-throughs per search
        # Slides of an asset that went into decks, answered from the index alone (migration 0005).
        Index("ix_usage_events_deck_inclusions", "asset_id", "occurred_at", "version_id", "page_number",
              postgresql_where=text("kind = 'deck_inclusion'"), sqlite_where=text("kind = 'deck_inclusion'")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("asset_versions.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    page_number: Mapped[int | None] = mapped_column(Integer)
    deck_id: Mapped[int | None] = mapped_column(Integer)
    search_log_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReportedUse(db.Model):
    """A rep's report of where an asset was used, with the deal's outcome."""

    __tablename__ = "reported_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(200), default="")
    opportunity: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    # When it was recorded: the rollups' watermark goes by this, not by occurred_on (often days earlier).
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User] = relationship()


class Rating(db.Model):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("asset_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    review_status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.OPEN.value, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class Flag(db.Model):
    """A rep's warning that an asset is outdated, wrong or off-brand."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason_kind: Mapped[str] = mapped_column(String(20))  # outdated, wrong, off_brand
    reason: Mapped[str] = mapped_column(Text, default="")
    review_status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.OPEN.value, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SearchLog(db.Model):
    __tablename__ = "search_logs"
    __table_args__ = (Index("ix_search_logs_time", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(String(500))
    normalized_query: Mapped[str] = mapped_column(String(500), index=True)
    scope: Mapped[str] = mapped_column(String(10), default="assets")  # assets | pages
    filters: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    result_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Deck(db.Model):
    """A meeting deck a rep assembles from slides of existing decks."""

    __tablename__ = "decks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The slide size chosen for the deck (EMU); None: the first slide's (migration 0015).
    size_width_emu: Mapped[int | None] = mapped_column(Integer)
    size_height_emu: Mapped[int | None] = mapped_column(Integer)

    owner: Mapped[User] = relationship()
    slides: Mapped[list[DeckSlide]] = relationship(
        order_by="DeckSlide.position", cascade="all, delete-orphan"
    )
    builds: Mapped[list[DeckBuild]] = relationship(
        back_populates="deck", cascade="all, delete-orphan", passive_deletes=True
    )


class DeckBuild(db.Model):
    """The assembled .pptx of one revision of a deck (portal/decks/building.py).

    The revision is a digest of the deck's slides (which slide of which file, in
    which order): an unchanged deck is served from storage, a changed one is built
    again. Built by the queue in a bounded child process, never in a request."""

    __tablename__ = "deck_builds"
    __table_args__ = (UniqueConstraint("deck_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("decks.id", ondelete="CASCADE"), index=True)
    revision: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=BuildStatus.PENDING.value)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))  # too_large, unavailable, ...
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(512))
    size: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The PDF rendition of the assembled file, for the viewer (portal/decks/renditions.py), made
    # only once someone asks to view or share this revision: None (not asked), pending, ready
    # or failed (with the reason; the slide pictures are shown instead).
    pdf_status: Mapped[str | None] = mapped_column(String(20))
    pdf_key: Mapped[str | None] = mapped_column(String(512))
    pdf_pages: Mapped[int | None] = mapped_column(Integer)
    pdf_error: Mapped[str | None] = mapped_column(Text)
    pdf_requested_at: Mapped[datetime | None] = mapped_column(DateTime)

    deck: Mapped[Deck] = relationship(back_populates="builds")


class DeckSlide(db.Model):
    __tablename__ = "deck_slides"

    id: Mapped[int] = mapped_column(primary_key=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("decks.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # The page chosen (of a specific version); kept even when the asset gets a newer version.
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)

    page: Mapped[Page] = relationship()


class RetirementEvent(db.Model):
    """Audit trail of retirements and restorations (who, when, why)."""

    __tablename__ = "retirement_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # retired | restored
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the scheduled job
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User | None] = relationship()


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class DailyUsage(db.Model):
    """Rollup of usage per day, asset, kind, and the user's team and region
    (rebuilt from usage_events and reported_uses by `flask rollup`)."""

    __tablename__ = "daily_usage"
    __table_args__ = (Index("ix_daily_usage_asset_day", "asset_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    team: Mapped[str] = mapped_column(String(100), primary_key=True, default="")
    region: Mapped[str] = mapped_column(String(100), primary_key=True, default="")
    events: Mapped[int] = mapped_column(Integer, default=0)
    users: Mapped[int] = mapped_column(Integer, default=0)


class DailyActivity(db.Model):
    """One row per user and day they used anything (rollup): active users per
    day, and distinct active users over any range, without raw events."""

    __tablename__ = "daily_activity"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    events: Mapped[int] = mapped_column(Integer, default=0)


class DailyKindUsage(db.Model):
    """Usage per day and kind (rollup of daily_usage): the overview's totals and
    series read a handful of rows per day instead of thousands."""

    __tablename__ = "daily_kind_usage"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)


class WeeklyAssetUsage(db.Model):
    """Usage per week (starting Monday), asset and kind (rollup of daily_usage,
    without team and region): long ranges sum whole weeks from here and only the
    days of the partial weeks at either end from daily_usage."""

    __tablename__ = "weekly_asset_usage"
    __table_args__ = (Index("ix_weekly_asset_usage_asset_week", "asset_id", "week"),)

    week: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)


class WeeklyActivity(db.Model):
    """One row per user, role and week (starting Monday) they used anything
    (rollup of daily_activity): distinct active users over long ranges."""

    __tablename__ = "weekly_activity"

    week: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)


class RollupWatermark(db.Model):
    """Where the rollups end (one row): they hold every use recorded before
    `rolled_up_until` and none recorded since; readers add those from the raw
    rows (portal/analytics/rollups.py). No row: nothing is rolled up yet."""

    __tablename__ = "rollup_watermark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    rolled_up_until: Mapped[datetime] = mapped_column(DateTime)


class AssetUsageTotal(db.Model):
    """All-time usage per asset (rollup, recomputed from daily_usage for the
    assets a rollup touched): what leaderboards, scores and retirement read."""

    __tablename__ = "asset_usage_totals"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    search_clicks: Mapped[int] = mapped_column(Integer, default=0)
    deck_inclusions: Mapped[int] = mapped_column(Integer, default=0)
    reported_uses: Mapped[int] = mapped_column(Integer, default=0)
    first_used_on: Mapped[date | None] = mapped_column(Date)
    last_used_on: Mapped[date | None] = mapped_column(Date)


class IndexOutbox(db.Model):
    """Assets whose search documents are out of date: written in the same
    transaction as the change (portal/search/indexing.py), drained by the queue. A row
    per change, so a change committed while a drain runs keeps its own row."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(Integer)  # no foreign key: a deleted asset leaves the index too
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- sharing with buyers (portal/sharing) ------------------------------------------------

class ShareKind(enum.StrEnum):
    """What a share link shows a buyer."""

    ASSET = "asset"  # one item of the library, its current version
    DECK = "deck"    # one of the rep's saved decks, as assembled
    COLLECTION = "collection"  # a room: the items of a collection, as they were when shared


class ShareLink(db.Model):
    """A tracked link a rep sends a buyer (portal/sharing). The token in its URL is
    shown once; only its SHA-256 is kept, and links are found by that hash."""

    __tablename__ = "share_links"
    __table_args__ = (Index("ix_share_links_owner_created", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    deck_id: Mapped[int | None] = mapped_column(ForeignKey("decks.id", ondelete="CASCADE"), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")  # what was shared, as named then
    expires_on: Mapped[date] = mapped_column(Date)
    require_email: Mapped[bool] = mapped_column(Boolean, default=False)
    passcode_hash: Mapped[str | None] = mapped_column(String(255))
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    # The same fields as a reported use: outcomes of that opportunity join the link's evidence.
    account: Mapped[str] = mapped_column(String(200), default="")
    opportunity: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Kept with each visit, so the rep's list reads one row per link.
    visits_count: Mapped[int] = mapped_column(Integer, default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the rep was told that what the link shows was retired or expired (once).
    withdrawn_notice_at: Mapped[datetime | None] = mapped_column(DateTime)

    owner: Mapped[User] = relationship()
    asset: Mapped[Asset | None] = relationship()
    deck: Mapped[Deck | None] = relationship()
    collection: Mapped[Collection | None] = relationship()
    # A room's items, fixed when it was shared: what the collection gains later is not exposed.
    items: Mapped[list[ShareLinkItem]] = relationship(
        order_by="ShareLinkItem.position", cascade="all, delete-orphan", passive_deletes=True)


class ShareLinkItem(db.Model):
    """One item of a room (a shared collection), at its place in the room (1..)."""

    __tablename__ = "share_link_items"

    link_id: Mapped[int] = mapped_column(ForeignKey("share_links.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)

    # Joined: a room's state reads every item's asset (one query a room, not one an item).
    asset: Mapped[Asset] = relationship(lazy="joined")


class ShareVisit(db.Model):
    """A buyer's visit to a share link: from opening it until they leave."""

    __tablename__ = "share_visits"
    __table_args__ = (Index("ix_share_visits_link_started", "link_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("share_links.id", ondelete="CASCADE"))
    # The visit's own secret (a cookie scoped to the link's path); only its hash is kept.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    device: Mapped[str] = mapped_column(String(20), default="desktop")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    downloaded: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the beacons brought so far: bounded per visit.
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    beacons: Mapped[int] = mapped_column(Integer, default=0)

    link: Mapped[ShareLink] = relationship()


class SharePageView(db.Model):
    """Time a visit spent on one page of what was shared: one row per visit and
    page, added to by each beacon (never one row per beacon)."""

    __tablename__ = "share_page_views"
    __table_args__ = (Index("ix_share_page_views_asset_page", "asset_id", "page_number"),)

    visit_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("share_visits.id", ondelete="CASCADE"),
        primary_key=True)
    # The page of the shared document; in a room, item position * ROOM_PAGE_STRIDE + page (portal/sharing/content.py).
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The library page it shows (a deck's slide comes from some item's page), for analytics.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    page_number: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)  # page-view events counted in


class ShareGateFailure(db.Model):
    """A wrong passcode or refused email at a link's gate, kept for the throttling
    window (portal/sharing/gate.py): what every web worker counts."""

    __tablename__ = "share_gate_failures"
    __table_args__ = (
        Index("ix_share_gate_failures_link_created", "link_id", "created_at"),
        Index("ix_share_gate_failures_address_created", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("share_links.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PageAttention(db.Model):
    """Seconds one user spent on one page of one version on one day, summed from the
    viewer's beacons (portal/viewer/attention.py): one row per user, page and day."""

    __tablename__ = "page_attention"
    __table_args__ = (Index("ix_page_attention_asset_day", "asset_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("asset_versions.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

class AssetAudit(db.Model):
    """The audit trail of an item: who changed which field, published, approved,
    retired, restored or verified it, when, with the old and new values.
    Append-only: rows are never updated or deleted (portal/library/audit.py)."""

    __tablename__ = "asset_audit"
    __table_args__ = (Index("ix_asset_audit_asset_id_id", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: a job
    action: Mapped[str] = mapped_column(String(30))
    field: Mapped[str | None] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class ContentTypePolicy(db.Model):
    """Per content type (admin setting): approval before publishing, and how long
    a verification lasts. No row: no approval, DEFAULT_REVIEW_DAYS."""

    __tablename__ = "content_type_policies"

    content_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    review_days: Mapped[int] = mapped_column(Integer)


# --- Keeping things: favourites, collections and kits, recently viewed (portal/collections) ---

class Favorite(db.Model):
    """An asset a user starred to find again."""

    __tablename__ = "favorites"
    __table_args__ = (Index("ix_favorites_user_created", "user_id", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()


class Collection(db.Model):
    """A user's ordered list of assets. Shared with teams, regions or everyone
    (only staff may share), it is a kit, e.g. "Healthcare discovery kit"."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    shared_with_everyone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User] = relationship()
    items: Mapped[list[CollectionItem]] = relationship(
        order_by="CollectionItem.position", cascade="all, delete-orphan", passive_deletes=True
    )
    shares: Mapped[list[CollectionShare]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class CollectionItem(db.Model):
    __tablename__ = "collection_items"

    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()


class CollectionShare(db.Model):
    """A team or a region a kit is shared with (scope 'team' or 'region')."""

    __tablename__ = "collection_shares"
    __table_args__ = (Index("ix_collection_shares_scope_value", "scope", "value"),)

    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)


class RecentView(db.Model):
    """The last time a user opened an asset (its page or the viewer); a few per user are kept."""

    __tablename__ = "recent_views"
    __table_args__ = (Index("ix_recent_views_user_viewed", "user_id", "viewed_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True)
    viewed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PopularAsset(db.Model):
    """How many reps of a team or a region used an asset in the last 30 days (derived,
    rebuilt by portal/collections/recommendations.py): "used by 12 reps in your team"."""

    __tablename__ = "popular_assets"
    __table_args__ = (Index("ix_popular_assets_scope_value_users", "scope", "value", "users"),)

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # team | region
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


class AssetCoUsage(db.Model):
    """How many reps who used one asset in the last 30 days also used another (derived,
    the strongest few per asset): "reps who used X also used Y"."""

    __tablename__ = "asset_co_usage"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    other_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


class SlideChangeNotice(db.Model):
    """That a holder's owner was told a version changed or removed one of its slides
    (portal/decks/lineage.py): processing the same version again tells no one twice.
    `holder` is "asset:<id>" (another deck of the library) or "deck:<id>" (a saved deck)."""

    __tablename__ = "slide_change_notices"

    version_id: Mapped[int] = mapped_column(ForeignKey("asset_versions.id", ondelete="CASCADE"), primary_key=True)
    slide_number: Mapped[int] = mapped_column(Integer, primary_key=True)  # of the version before it
    holder: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    notified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SlideBucket(db.Model):
    """Slide lineage's index (portal/decks/lineage.py): one row per band of a slide's
    MinHash and per part of its perceptual hash. Slides sharing a bucket are the only
    candidates compared when a slide is grouped, never all pairs."""

    __tablename__ = "slide_buckets"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True, index=True)

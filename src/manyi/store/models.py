"""The tables of the store (docs/store.md): units, customers, instrument versions,
campaigns, invitations and responses with their scores computed at write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class OrgUnit(Base):
    """A node of the organisation tree: company → region → branch → team."""

    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True)


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    tier: Mapped[str | None] = mapped_column(String(50), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # personal data
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # lost customer


class InstrumentVersion(Base):
    """An instrument as it was: its YAML text, kept for every version answered."""

    __tablename__ = "instrument_version"
    __table_args__ = (UniqueConstraint("instrument", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(Text)  # the YAML text
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Campaign(Base):
    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"))
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    target_n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    sampling: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | open | closed
    public_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Invitation(Base):
    __tablename__ = "invitation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), nullable=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Response(Base):
    """One response: its clean answers (codes and numbers, as the reader leaves them), and the
    per-dimension and overall scores computed when it was written, with the instrument
    version it answered."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("campaign_id", "response_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_version.id"))
    response_id: Mapped[str] = mapped_column(String(200))
    customer_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # 0-100 points
    csi: Mapped[float | None] = mapped_column(Float, nullable=True)
    satisfied: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="import")  # web | api | import
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """An API key for integrations, scoped to one campaign (``scope`` "campaign") or to the
    complaint desk's case API (``scope`` "cases", no campaign); only its SHA-256 is stored."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True, nullable=True)
    scope: Mapped[str] = mapped_column(String(20), default="campaign", server_default="campaign")
    prefix: Mapped[str] = mapped_column(String(12))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Idempotency(Base):
    """The first answer to a request with an ``Idempotency-Key``: a retry gets it again."""

    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))  # the campaign or token it was used for
    key: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A staff account: an Argon2 hash of the password, one role, scoped to one organisation
    unit and the units below it (no unit: the whole organisation)."""

    __tablename__ = "staff_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # admin | analyst | agent | viewer
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True)
    lang: Mapped[str] = mapped_column(String(5), default="zh")
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    manager: Mapped[int] = mapped_column(Integer, default=0)  # receives escalations for the unit
    active: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """One line of the append-only audit log: who did what to what, when, from where."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str | None] = mapped_column(String(100), nullable=True)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Setting(Base):
    """A setting of the installation (e.g. the key that signs session cookies)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ScoreRollup(Base):
    """Sums of the stored scores per campaign, unit, month and channel: what the dashboard's
    scorecard adds up instead of reading every response (kept by ``manyi.services.rollup``)."""

    __tablename__ = "score_rollup"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # YYYY-MM, Asia/Shanghai
    source: Mapped[str] = mapped_column(String(20))
    responses: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)  # responses with an index
    s1: Mapped[float] = mapped_column(Float)  # Σ index
    s2: Mapped[float] = mapped_column(Float)  # Σ index²
    sat: Mapped[int] = mapped_column(Integer)
    rated: Mapped[int] = mapped_column(Integer)
    dims: Mapped[dict[str, Any]] = mapped_column(JSON)  # {dimension: [n, Σ, Σ²]}
    nps: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # {id, n, pro, det}


class RollupState(Base):
    """How far the rollup of a campaign has read: the last response id and the count folded."""

    __tablename__ = "rollup_state"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    folded: Mapped[int] = mapped_column(Integer)


class Case(Base):
    """A customer contact (complaint, enquiry, suggestion, praise) and where it stands; its
    history is the append-only ``case_event`` timeline. ``version`` guards against lost
    updates: a save from a stale copy is refused."""

    __tablename__ = "case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    public_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)  # status link
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(50), nullable=True)
    cause: Mapped[str | None] = mapped_column(String(50), nullable=True)
    severity: Mapped[str] = mapped_column(String(20), default="medium")
    customer_code: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # personal data
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True, index=True)
    remedy_asked: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    escalated_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True)
    remedy: Mapped[str | None] = mapped_column(Text, nullable=True)
    root_cause: Mapped[str | None] = mapped_column(String(50), nullable=True)
    satisfied: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    called_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paused: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # {"spans": [[a, b]]}
    policy: Mapped[str | None] = mapped_column(String(100), nullable=True)
    due: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # target → ISO instant
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """One line of a case's timeline: who did what, when, from which status to which."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Breach(Base):
    """A service-level target a case missed: recorded once (the unique key), whatever number
    of worker passes see it."""

    __tablename__ = "sla_breach"
    __table_args__ = (UniqueConstraint("case_id", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    target: Mapped[str] = mapped_column(String(20))
    due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """An outgoing notice (e-mail or webhook) about a case, written in the transaction of what
    it reports (an outbox): the worker delivers it, retries a failure with growing pauses, and
    keeps every attempt's outcome, so none is lost."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(30))  # breach | escalation | ...
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    target: Mapped[str] = mapped_column(String(500))  # an address or a URL
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImprovementAction(Base):
    """A corrective or preventive action (CAPA): what is done, by whom and by when, which cases
    and survey dimension it answers, and the metric that shows whether it worked (its value
    before, and after, with the effectiveness check)."""

    __tablename__ = "improvement_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # corrective | preventive
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), nullable=True)
    due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done | effective | ineffective
    cases: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # {"numbers": [...]}
    metric: Mapped[dict[str, Any]] = mapped_column(JSON)  # what to watch (see services/actions.py)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Attachment(Base):
    """A file attached to a case (a photo, a scan, a letter): kept in the store with its
    checked type, size and SHA-256, so a backup of the store holds it too."""

    __tablename__ = "case_attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

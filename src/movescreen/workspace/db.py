"""Database: SQLAlchemy 2 models, engine creation (SQLite WAL or PostgreSQL), Alembic migrations."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sessions: Mapped[list[Session]] = relationship(back_populates="client",
                                                   cascade="all, delete-orphan")


class Session(Base):
    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    date_source: Mapped[str] = mapped_column(String(40), default="entered")
    movement: Mapped[str] = mapped_column(String(40), default="unknown")
    view: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(40), default="ok")
    source_name: Mapped[str] = mapped_column(String(400), default="")
    output_dir: Mapped[str] = mapped_column(String(200))  # relative to the data folder
    video_sha256: Mapped[str] = mapped_column(String(64), default="")
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    report_json: Mapped[str] = mapped_column(Text)
    peak_hip_flexion_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    hip_height_bottom_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    lumbar_bend_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    knee_valgus_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    signed_off_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    client: Mapped[Client] = relationship(back_populates="sessions")
    findings: Mapped[list[Finding]] = relationship(back_populates="session",
                                                   cascade="all, delete-orphan",
                                                   order_by="Finding.id")


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200))  # the report's stable finding id
    origin: Mapped[str] = mapped_column(String(20), default="tool")  # tool | clinician (missed)
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20), default="")
    rep: Mapped[int | None] = mapped_column(Integer, nullable=True)
    side: Mapped[str] = mapped_column(String(20), default="none")
    frame_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    frame_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worst_frame: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    session: Mapped[Session] = relationship(back_populates="findings")
    verdicts: Mapped[list[Verdict]] = relationship(back_populates="finding",
                                                   cascade="all, delete-orphan",
                                                   order_by="Verdict.id")

    @property
    def current(self) -> Verdict | None:
        return self.verdicts[-1] if self.verdicts else None


class Verdict(Base):
    """Every verdict ever given (history); the latest per finding is the current one."""
    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finding: Mapped[Finding] = relationship(back_populates="verdicts")


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    video_sha256: Mapped[str] = mapped_column(String(64))
    video_name: Mapped[str] = mapped_column(String(400), default="")
    movement: Mapped[str] = mapped_column(String(20), default="auto")
    entered_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def normalise_url(db: str | None, data_dir: Path) -> str:
    if not db:
        data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(data_dir / 'workspace.sqlite3').resolve()}"
    if db.startswith("postgresql://"):
        return "postgresql+psycopg://" + db[len("postgresql://"):]
    if db.startswith("postgres://"):
        return "postgresql+psycopg://" + db[len("postgres://"):]
    return db


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (the migrations ship in the package)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SerialWrites:
    """A sessionmaker whose ``begin()`` (a write transaction) holds a process-wide lock.

    SQLite allows one writer at a time; a second writer waits in SQLite's busy handler, which
    sleeps in growing steps (up to 100 ms), so under many concurrent verdicts the waits, not the
    writes, made the latency. Waiting on a lock in the process wakes the next writer as soon as
    the previous one commits. Reads (``maker()``) are not serialised (WAL lets them run).
    """

    def __init__(self, maker: sessionmaker[Any]) -> None:
        self._maker = maker
        self._lock = threading.RLock()

    def __call__(self, **kw: Any) -> Any:
        return self._maker(**kw)

    @contextmanager
    def begin(self) -> Iterator[Any]:
        with self._lock, self._maker.begin() as s:
            yield s


def open_db(db: str | None, data_dir: Path) -> tuple[Engine, Any]:
    engine = make_engine(normalise_url(db, data_dir))
    migrate(engine)
    maker = sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name == "sqlite":
        return engine, SerialWrites(maker)
    return engine, maker


def user_count(maker: Any) -> int:
    with maker() as s:
        return len(s.scalars(select(User.id)).all())

"""What every use case is handed: database, parsed diagrams, runtime, clock, settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from config import Settings
from engine.clock import Clock, SystemClock
from engine.db import Database, make_engine
from engine.models import Base
from engine.runtime import Runtime
from engine.services.directory import Directory
from engine.specs import DiagramRegistry


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    diagrams: DiagramRegistry = field(default_factory=DiagramRegistry)
    runtime: Runtime = field(default_factory=Runtime)
    deployment_shas: dict[int, str] = field(default_factory=dict)
    names: Directory = field(default_factory=Directory)


def build_context(settings: Settings, clock: Clock | None = None) -> Context:
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    return Context(db=Database(engine), settings=settings, clock=clock or SystemClock())


def create_schema(ctx: Context) -> None:
    """Create every table that does not exist yet."""
    Base.metadata.create_all(ctx.db.engine)

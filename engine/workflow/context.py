"""What every use case is handed: database, parsed diagrams, runtime, clock, settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from config import Settings
from config.documents import DocumentRules
from config.steps import StepRules, load_step_rules
from config.tolerance import ToleranceRules, load_tolerance_rules
from engine.db import Database
from engine.services.blobs import DiskBlobs, S3Blobs
from engine.services.directory import Directory
from engine.workflow.clock import Clock, SystemClock
from engine.workflow.live import LiveWorkflows
from engine.workflow.runtime import Runtime
from engine.workflow.specs import DiagramRegistry
from engine.workflow.workdays import WorkingCalendar


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    diagrams: DiagramRegistry = field(default_factory=DiagramRegistry)
    runtime: Runtime = field(default_factory=Runtime)
    deployment_shas: dict[int, str] = field(default_factory=dict)
    # Workflows kept between commands in this process (none unless the settings ask).
    live: LiveWorkflows = field(default_factory=LiveWorkflows)
    names: Directory = field(default_factory=Directory)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    # The county's fault-tolerance circumstances and exclusions (a local list).
    tolerance: ToleranceRules = field(
        default_factory=lambda: load_tolerance_rules(Settings().tolerance_rules_file)
    )
    # The county's time limit of each step and whom a late one is told to.
    steps: StepRules = field(default_factory=lambda: load_step_rules(Settings().step_rules_file))
    # The documents issued on instances (config/documents.toml), and where files are kept.
    documents: DocumentRules = field(default_factory=DocumentRules)
    blobs: DiskBlobs | S3Blobs = field(default_factory=lambda: DiskBlobs(Settings().blob_dir))

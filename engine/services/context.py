"""The composition root: wire a context (database, runtime, clock, calendar) and fill the core's
tables with what each domain registers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from config import Settings
from config.documents import DocumentRules, DocumentRulesError, load_document_rules
from config.steps import StepRulesError, load_step_rules
from config.tolerance import load_tolerance_rules
from engine import schema  # noqa: F401 (every domain's tables on the metadata)
from engine.authz import ROLES
from engine.db import Database, make_engine
from engine.models import CalendarOverride
from engine.services.blobs import make_blobs
from engine.workflow.clock import Clock, SystemClock
from engine.workflow.context import Context
from engine.workflow.forms import ship_from
from engine.workflow.live import LiveWorkflows
from engine.workflow.runtime import Runtime
from engine.workflow.specs import warm_up
from engine.workflow.time_functions import TimerRules
from engine.workflow.workdays import WorkingCalendar


def build_context(settings: Settings, clock: Clock | None = None) -> Context:
    """Wire a context: the database, and a runtime whose timers read this clock and calendar.

    Builds what the process shares before it serves (the diagram validator, the process
    table), in this thread.
    """
    warm_up()
    register_processes()
    ship_from(settings.bpmn_dir)
    db = Database(make_engine(settings.database_url, echo=settings.sql_echo))
    clock = clock or SystemClock()
    calendar = WorkingCalendar(settings.timezone, overrides=lambda: _overrides(db))
    steps = load_step_rules(settings.step_rules_file)
    unknown = sorted(steps.roles() - set(ROLES))
    if unknown:
        raise StepRulesError(f"{settings.step_rules_file}: unknown roles {', '.join(unknown)}")
    rules = TimerRules(
        clock=clock,
        calendar=calendar,
        limits=steps.working_days(),
        reevaluation_months=settings.reevaluation_months,
        calendar_limits=steps.calendar_days(),
    )
    documents = load_document_rules(settings.document_rules_file)
    _check_documents(settings, documents)
    return Context(
        db=db,
        settings=settings,
        clock=clock,
        runtime=Runtime(rules.functions()),
        calendar=calendar,
        tolerance=load_tolerance_rules(settings.tolerance_rules_file),
        steps=steps,
        documents=documents,
        blobs=make_blobs(settings),
        live=LiveWorkflows(settings.workflow_cache),
    )


def _check_documents(settings: Settings, documents: DocumentRules) -> None:
    """Refuse, at start, documents that name an unknown role, layout or malformed condition."""
    from engine.services.documents import check_templates
    from engine.workflow.expressions import UnsafeExpression, check_expression

    where = settings.document_rules_file
    unknown = sorted(documents.roles() - set(ROLES))
    if unknown:
        raise DocumentRulesError(f"{where}: unknown roles {', '.join(unknown)}")
    problems = check_templates(documents)
    if problems:
        raise DocumentRulesError(f"{where}: {'; '.join(problems)}")
    for kind in documents.kinds.values():
        try:
            check_expression(kind.when)
        except (UnsafeExpression, SyntaxError, ValueError) as exc:
            raise DocumentRulesError(f"{where}: [kinds.{kind.key}] when: {exc}") from exc


def register_processes() -> None:
    """Fill the process table with what each domain adds to its processes, and the operations
    each offers to diagrams' service tasks (once is enough; again changes nothing)."""
    from engine.accountability.services import case_effects, procedures
    from engine.admission.services import admission, admission_operations
    from engine.burden.services import inspections, meetings, needs, ratings, report_forms
    from engine.duty_lists.services import listings
    from engine.services import attachments
    from engine.workflow.jobs import register_job

    admission.register_processes()
    admission_operations.register_operations()
    procedures.register_processes()
    case_effects.register_operations()
    register_job("attachments.discard_unsubmitted", attachments.discard_unsubmitted)
    meetings.register_processes()
    inspections.register_processes()
    needs.register_processes()
    ratings.register_processes()
    report_forms.register_processes()
    listings.register_processes()


def _overrides(db: Database) -> dict[date, bool]:
    try:
        with db.read() as session:
            return {row.day: row.working for row in session.scalars(select(CalendarOverride))}
    except (
        OperationalError,
        ProgrammingError,
    ):  # the table does not exist before the schema is created
        return {}


def create_schema(ctx: Context) -> None:
    """Bring the schema up to date through the migrations — never `create_all`, so what the
    tests run on is what production upgrades to."""
    from engine import migrate

    migrate.upgrade(ctx.db.engine)

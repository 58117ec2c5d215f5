"""Auditors' use cases on the whole trail: verify it and seal it with signed checkpoints."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from engine.authz import Actor, require_role
from engine.errors import Forbidden, NotFound
from engine.trail import checkpoints, trail_log
from engine.trail.models_trail import APPEND_ONLY_TABLES, trigger_names
from engine.workflow import audit
from engine.workflow.context import Context

MAX_REPORTED = 200  # problems named one by one; the count covers the rest


def require_auditor(actor: Actor) -> None:
    require_role(actor, "auditor", "审计核验与查询")


@dataclass(frozen=True)
class Problem:
    """One thing verification found wrong, naming the event (or events) it concerns."""

    kind: str  # chain | head | checkpoint
    message: str
    instance_id: int | None = None
    seq: int | None = None
    event_id: int | None = None
    checkpoint_id: int | None = None
    first_event_id: int | None = None
    last_event_id: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    events: int
    chains: int
    checkpoints: int
    latest_checkpoint_size: int | None
    events_since_checkpoint: int
    held_checkpoints: int
    problem_count: int
    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def verify(ctx: Context, actor: Actor, held: Iterable[str] = ()) -> VerifyReport:
    """Verify everything (auditors only); `held` are signed checkpoints an auditor kept."""
    require_auditor(actor)
    return verify_log(ctx, list(held))


def verify_log(
    ctx: Context,
    held: list[str],
    extra_keys: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Every chain, every stored checkpoint, each held checkpoint, against today's log.

    One read transaction (a snapshot on both databases) and one pass over the events in the
    order they were written, which feeds both the chains and the Merkle tree;
    `progress(done, total)` hears how far it got.
    """
    began = time.perf_counter()
    keys = checkpoints.verifiers(ctx.settings, extra_keys)
    with ctx.db.read() as session:
        _snapshot(session, ctx.db.is_sqlite)
        total = trail_log.count(session)
        stored = checkpoints.stored(session)
        sizes = checkpoints.sizes(stored, held)
        rows, log = trail_log.log_rows(session, _ticker(progress, total), sizes)
        with contextlib.closing(rows):  # however the pass ends, before the session does
            chain_problems, broken = _first(audit.verify(rows, log.heads))
        findings = checkpoints.check(stored, held, log.frontier, keys, ctx.settings.audit_origin)
        others = _head_problems(session, log.heads)
        others += _checkpoint_problems(session, findings, log.frontier.size)
        if stored and not keys:
            others.append(Problem("checkpoint", "无法核验检查点签名：未配置签名密钥或验证公钥"))
        problems = _named(session, chain_problems) + others[:MAX_REPORTED]
        warnings = _warnings(session, ctx.db.is_sqlite, stored)
        covered = _last_good_size(stored, findings)
    count = broken + len(others)
    return VerifyReport(
        ok=count == 0,
        events=total,
        chains=len(log.heads),
        checkpoints=len(stored),
        latest_checkpoint_size=covered,
        events_since_checkpoint=total - (covered or 0),
        held_checkpoints=len(held),
        problem_count=count,
        problems=problems[:MAX_REPORTED],
        warnings=warnings,
        seconds=round(time.perf_counter() - began, 3),
    )


def _snapshot(session: Session, is_sqlite: bool) -> None:
    """All passes read one snapshot; SQLite's read transaction is one already (WAL)."""
    if not is_sqlite:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _ticker(progress: Callable[[int, int], None] | None, total: int) -> Callable[[int], None]:
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(min(done, total), total)

    return tick


def _first(found: Iterable[audit.ChainProblem]) -> tuple[list[audit.ChainProblem], int]:
    """The first MAX_REPORTED problems, and how many there were in all."""
    kept, count = [], 0
    for problem in found:
        if count < MAX_REPORTED:
            kept.append(problem)
        count += 1
    return kept, count


def _chain_name(instance_id: int | None) -> str:
    return "管理链" if instance_id is None else f"事项 {instance_id}"


def _named(session: Session, found: list[audit.ChainProblem]) -> list[Problem]:
    return [
        Problem(
            "chain",
            f"{_chain_name(p.instance_id)} 第 {p.seq} 号事件：{p.problem}",
            instance_id=p.instance_id,
            seq=p.seq,
            event_id=trail_log.event_id_of(session, p.instance_id, p.seq),
        )
        for p in found
    ]


def _head_problems(session: Session, heads: dict[int | None, tuple[int, str]]) -> list[Problem]:
    """Each instance row records its chain's head; the events must end exactly there."""
    problems = []
    for instance_id, recorded_seq, recorded_hash in trail_log.instance_heads(session):
        seq, digest = heads.get(instance_id, (0, audit.GENESIS))
        if (seq, digest) == (recorded_seq, recorded_hash):
            continue
        message, at = _head_mismatch(seq, recorded_seq)
        named = len(problems) < MAX_REPORTED
        problems.append(
            Problem(
                "head",
                f"事项 {instance_id} {message}",
                instance_id=instance_id,
                seq=at,
                event_id=trail_log.event_id_of(session, instance_id, at) if named else None,
            )
        )
    return problems


def _head_mismatch(seq: int, recorded_seq: int) -> tuple[str, int]:
    """What a chain ending at `seq` means when its instance row says `recorded_seq`."""
    if seq < recorded_seq:
        return f"链尾缺少第 {seq + 1}–{recorded_seq} 号事件（链尾被截断）", seq + 1
    if seq > recorded_seq:
        return f"第 {recorded_seq + 1}–{seq} 号事件在事项记录的链头之后：事后追加", recorded_seq + 1
    return f"第 {seq} 号事件的哈希与事项记录的链头不符：链尾被改写", seq


def _checkpoint_problems(
    session: Session, findings: list[checkpoints.Finding], log_size: int
) -> list[Problem]:
    ends = [p for f in findings if f.span for p in (f.span[0], min(f.span[1], log_size) - 1)]
    ids = trail_log.event_ids_at(session, [p for p in ends if p >= 0])
    problems = []
    for finding in findings:
        first = last = None
        message = f"{finding.subject}：{finding.message}"
        if finding.span is not None:
            start, end = finding.span
            first, last = ids.get(start), ids.get(min(end, log_size) - 1)
            message += f"（涉及第 {start + 1}–{end} 个事件"
            if first is not None:
                message += f"，事件编号 {first}–{last if end <= log_size else '…'}"
            message += "）"
        problems.append(
            Problem(
                "checkpoint",
                message,
                checkpoint_id=finding.checkpoint_id,
                event_id=first,
                first_event_id=first,
                last_event_id=last,
            )
        )
    return problems


def _last_good_size(
    stored: list[checkpoints.Checkpoint], findings: list[checkpoints.Finding]
) -> int | None:
    bad = {f.checkpoint_id for f in findings}
    good = [row.size for row in stored if row.id not in bad]
    return max(good) if good else None


def _warnings(session: Session, is_sqlite: bool, stored: list[Any]) -> list[str]:
    warnings = []
    if not stored:
        warnings.append(
            "尚无检查点：链尾截断与整体改写无从发现，请定期运行 zhunru audit checkpoint"
        )
    if is_sqlite:
        warnings.append("SQLite 无法阻止修改或删除审计记录，只能事后发现")
    else:
        installed = set(session.scalars(text("SELECT tgname FROM pg_trigger")))
        for table in APPEND_ONLY_TABLES:
            if not trigger_names(table) <= installed:
                warnings.append(f"表 {table} 未安装只追加触发器")
    return warnings


# --- checkpoints ---------------------------------------------------------------------------


def create_checkpoint(ctx: Context, actor: Actor) -> checkpoints.CheckpointInfo:
    """Sign a checkpoint over every event now (auditors and platform admins)."""
    if not (actor.has("auditor") or actor.has("admin")):
        raise Forbidden("签发检查点需要“审计监督”或“平台管理员”角色")
    return checkpoints.create(ctx.db, ctx.settings, ctx.clock.now())


def latest_checkpoint(ctx: Context, actor: Actor) -> checkpoints.CheckpointInfo:
    require_auditor(actor)
    with ctx.db.read() as session:
        row = checkpoints.latest(session)
        if row is None:
            raise NotFound("尚无检查点")
        return checkpoints.info(row)

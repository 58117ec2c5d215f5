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

    One read transaction (a snapshot on both databases) and two passes over the events, each
    holding the same little memory however long the log: the chains, read chain by chain
    alongside the instance rows that record their heads (both in instance order); then the
    stored hashes in the order written, for the Merkle tree's right edge and the checkpoints.
    `progress(done, total)` hears how many rows of the two passes were read.
    """
    began = time.perf_counter()
    keys = checkpoints.verifiers(ctx.settings, extra_keys)
    with ctx.db.read() as session:
        _snapshot(session, ctx.db.is_sqlite)
        total = trail_log.count(session)
        tick = _ticker(progress, 2 * total)
        stored = checkpoints.stored(session)
        heads = _HeadCheck(session)
        rows = trail_log.chain_rows(session, tick)
        with contextlib.closing(rows), contextlib.closing(heads):  # before the session ends
            chain_problems, broken = _first(audit.verify(rows, ended=heads.ended))
            heads.finish()
        frontier = trail_log.log_roots(session, None, checkpoints.sizes(stored, held), tick)
        findings = checkpoints.check(stored, held, frontier, keys, ctx.settings.audit_origin)
        sealed = _checkpoint_problems(session, findings, frontier.size)
        if stored and not keys:
            sealed.append(Problem("checkpoint", "无法核验检查点签名：未配置签名密钥或验证公钥"))
        problems = _named(session, chain_problems) + heads.problems + sealed[:MAX_REPORTED]
        warnings = _warnings(session, ctx.db.is_sqlite, stored)
        covered = _last_good_size(stored, findings)
    count = broken + heads.count + len(sealed)
    return VerifyReport(
        ok=count == 0,
        events=total,
        chains=heads.chains,
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


class _HeadCheck:
    """Each instance row records its chain's head; its events must end exactly there, and an
    instance with no events records none. The chains end in instance order, and the instance
    rows are read beside them in the same order, so nothing is kept per chain: only the first
    MAX_REPORTED problems, and how many there were."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.instances = trail_log.instance_heads(session)
        self.waiting = next(self.instances, None)
        self.chains = 0
        self.count = 0
        self.problems: list[Problem] = []

    def ended(self, instance_id: int | None, seq: int, digest: str) -> None:
        self.chains += 1
        if instance_id is None:  # the administrative chain: no instance row records its head
            return
        while self.waiting is not None and self.waiting[0] < instance_id:
            self._against(self.waiting, 0, audit.GENESIS)  # an instance whose chain is empty
        if self.waiting is not None and self.waiting[0] == instance_id:
            self._against(self.waiting, seq, digest)

    def finish(self) -> None:
        while self.waiting is not None:
            self._against(self.waiting, 0, audit.GENESIS)

    def close(self) -> None:
        self.instances.close()

    def _against(self, recorded: tuple[int, int, str], seq: int, digest: str) -> None:
        self.waiting = next(self.instances, None)
        instance_id, recorded_seq, recorded_hash = recorded
        if (seq, digest) == (recorded_seq, recorded_hash):
            return
        self.count += 1
        if len(self.problems) >= MAX_REPORTED:
            return
        message, at = _head_mismatch(seq, recorded_seq)
        self.problems.append(
            Problem(
                "head",
                f"事项 {instance_id} {message}",
                instance_id=instance_id,
                seq=at,
                event_id=trail_log.event_id_of(self.session, instance_id, at),
            )
        )


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

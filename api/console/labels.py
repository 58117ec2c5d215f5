"""What the console calls things, in Chinese: fields, choices, statuses, trail actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.authz import ROLE_LABELS
from engine.forms import (
    DECISIONS,
    LEGAL_OPINIONS,
    OBJECTION_DECISIONS,
    REEVALUATION_DECISIONS,
    REJECTION_REASONS,
    REVISE_ACTIONS,
    TERM_TYPES,
)
from engine.services.register import EXIT_LABELS

FIELD_LABELS: dict[str, str] = {
    "name": "事项名称",
    "content": "事项内容",
    "basis": "设立依据",
    "reason": "理由",
    "term_type": "期限类型",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "townships": "涉及乡镇（街道）",
    "resources": "随事下放的资源（费随事转）",
    "funding_yuan": "经费（元）",
    "staff": "人员（名）",
    "powers": "下放的权限",
    "assessment": "考核方式",
    "opinion": "合法性意见",
    "comment": "意见或说明",
    "decision": "结论",
    "reasons": "不予准入理由",
    "action": "处理方式",
    "application": "修改后的申请",
    "confirmed": "确认事项已进入本乡镇",
    "resources_received": "经费、人员、权限已到位",
    "resources_justification": "未随事下放资源的说明",
}

# Hints by field name, or by "Schema.field" where one form means something else by it.
FIELD_HINTS: dict[str, str] = {
    "townships": "可选择多个乡镇（街道）。",
    "end_date": "短期事项必填，须晚于开始日期。",
    "reasons": "仅在“不予准入”时选择，可多选。",
    "DecisionSchema.comment": "退回修改或不予准入时必填。",
    "LegalReviewSchema.comment": "认为需修改或不合法时必填。",
    "ConfirmEntrySchema.comment": "资源未到位时必填，写明情况。",
    "application": "仅在选择“修改后重新提交”时随表提交。",
    "funding_yuan": "整数，单位：元。",
    "resources_received": "选择“否”时须在“意见或说明”中写明情况。",
}


def field_hint(schema_name: str, name: str) -> str:
    return FIELD_HINTS.get(f"{schema_name}.{name}") or FIELD_HINTS.get(name, "")


# Choice labels come from the engine's own tables, matched by their set of values.
CHOICE_SETS: tuple[Mapping[str, str], ...] = (
    DECISIONS,
    LEGAL_OPINIONS,
    OBJECTION_DECISIONS,
    REEVALUATION_DECISIONS,
    REJECTION_REASONS,
    REVISE_ACTIONS,
    TERM_TYPES,
)

STATUS_LABELS: dict[str, str] = {
    "": "办理中",
    "pending": "办理中",
    "in_force": "已准入（在册）",
    "exited": "已退出",
    "rejected": "不予准入",
    "withdrawn": "已撤回",
    "completed": "已结束",
}

ACTION_LABELS: dict[str, str] = {
    "instance_started": "提交申请",
    "task_opened": "环节开始",
    "task_claimed": "认领任务",
    "task_completed": "办理完成",
    "task_cancelled": "任务取消",
    "task_escalated": "超期督办",
    "timer_fired": "定时触发",
    "status_changed": "状态变更",
    "matter_entered": "事项进入乡镇",
    "matter_exited": "事项退出",
    "withdrawal_requested": "申请单位撤回",
    "objection_raised": "乡镇提出异议",
    "user_created": "创建用户",
    "diagram_deployed": "部署流程图",
}

REGISTER_STATUS_LABELS = {"in_force": "在册", "exited": "已退出"}
BOOL_LABELS = {True: "是", False: "否"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def choice_labels(values: Iterable[str]) -> dict[str, str]:
    """Labels for the values of a choice field; a value no table knows is shown as it is."""
    wanted = list(values)
    for table in CHOICE_SETS:
        if set(wanted) <= set(table) and len(wanted) == len(table):
            return {value: table[value] for value in wanted}
    return {value: value for value in wanted}


def value_label(name: str, value: Any) -> str:
    """One stored form value as a person reads it."""
    if isinstance(value, bool):
        return BOOL_LABELS[value]
    if isinstance(value, list):
        return "、".join(value_label(name, item) for item in value) or "无"
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        for table in CHOICE_SETS:
            if value in table and name in _CHOICE_FIELDS:
                return table[value]
    return str(value)


_CHOICE_FIELDS = {"decision", "opinion", "action", "term_type", "reasons"}


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", role or "系统")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def exit_label(reason: str | None) -> str:
    return EXIT_LABELS.get(reason or "", reason or "—")

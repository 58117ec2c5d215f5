"""What the console calls things, in Chinese: fields, choices, statuses, trail actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.accountability import cases as case_facts
from engine.accountability import forms_accountability as fa
from engine.admission.services.register import EXIT_LABELS
from engine.authz import ROLE_LABELS
from engine.services.people_forms import ORG_LEVEL_LABELS  # noqa: F401 (for the pages)

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
    # accountability cases (问责案件)
    "subject_kind": "问责对象",
    "subject_username": "当事人账号",
    "subject_name": "当事人姓名",
    "subject_org": "所在单位（被问责单位）",
    "subject_position": "职务",
    "matter_reported": "反映的问题",
    "source": "问题来源",
    "responsibility_level": "责任类型",
    "leadership_kind": "领导责任类别",
    "finding": "核查结论",
    "harm": "对本人工作、生活或名誉造成不良影响",
    "note": "核查情况说明",
    "clearance_triggers": "应当澄清的情形（反映失实的）",
    "CaseDecisionSchema.outcome": "问责决定结果",
    "CaseDecisionSchema.document_no": "决定文号",
    "CaseDecisionSchema.decided_on": "决定日期",
    "CaseDecisionSchema.note": "说明",
    # The appeal's body (a REST body; the procedures' forms title their own fields).
    "AppealSchema.reason": "申诉理由",
}

# Hints by field name, or by "Schema.field" where one form means something else by it (the
# procedures' hints are their package forms' descriptions).
FIELD_HINTS: dict[str, str] = {
    # accountability cases
    "CaseSchema.subject_username": "当事人有本平台账号时填写（如 zhangming），所在单位随账号带出。",
    "CaseSchema.subject_name": "无账号的当事人必填；有账号时可不填，默认为账号姓名。",
    "CaseSchema.subject_org": "被问责单位，或无账号当事人的所在单位。",
    "CaseSchema.leadership_kind": "仅领导责任时选择。",
    "CaseFindingSchema.finding": "“查无实据但不能排除”的，不符合澄清正名条件。",
    "CaseFindingSchema.harm": "是否对当事人的工作、生活或名誉造成不良影响（澄清正名的条件之一）。",
}


def field_label(name: str, schema_name: str = "") -> str:
    """A field's label; `schema_name` picks a form's own wording where it has one."""
    return FIELD_LABELS.get(f"{schema_name}.{name}") or FIELD_LABELS.get(name, name)


def field_hint(schema_name: str, name: str) -> str:
    return FIELD_HINTS.get(f"{schema_name}.{name}") or FIELD_HINTS.get(name, "")


# A register entry's term (the register's column; the application form titles its choices).
TERM_LABELS = {"short": "短期（临时性）", "long": "长期"}
# Choice labels of the marshmallow bodies (the case record's) come from the engine's own tables,
# matched by their set of values; a package form's choices are titled in its schema.
CHOICE_SETS: tuple[Mapping[str, str], ...] = (
    TERM_LABELS,
    # accountability cases and procedures
    case_facts.SUBJECT_KINDS,
    case_facts.SOURCES,
    case_facts.RESPONSIBILITY_LEVELS,
    case_facts.LEADERSHIP_KINDS,
    case_facts.FINDINGS,
    case_facts.DECISION_OUTCOMES,
    case_facts.CLEARANCE_TRIGGERS,
)

STATUS_LABELS: dict[str, str] = {
    "": "办理中",
    "pending": "办理中",
    "in_force": "已准入（在册）",
    "exited": "已退出",
    "rejected": "不予准入",
    "withdrawn": "已撤回",
    "completed": "已结束",
    "scheduled": "已同意召开",
    "planned": "已列入年度检查计划",
    "merged": "已并入",
    "resolved": "已解决办结",
    "returned": "乡镇自行办理",
    "referred": "已报请市级协调",
    "closed": "督办后办结",
    "recorded": "已记入部门考核",
    "catalogued": "已列入报表目录",
    "listed": "已列入清单",
    # accountability procedures
    "refused": "不予办理",
    "concluded": "已办结",
    "cleared": "已澄清",
    "terminated": "已终止",
}
CASE_STATUS_LABELS: dict[str, str] = dict(case_facts.CASE_STATUSES)
# Incidents on the administrator's 运行维护 page: what failed, and during which action.
INCIDENT_KIND_LABELS: dict[str, str] = {"command": "办理时出错", "timer": "定时任务出错"}
INCIDENT_ACTION_LABELS: dict[str, str] = {
    "start": "提交申请",
    "complete": "办理环节",
    "release": "恢复滞留流程",
    "fire_timers": "到期处理",
    "matter_withdrawal": "撤回",
    "matter_objection": "提出异议",
    "ft_appeal": "提出申诉",
}
PROCESS_LABELS: dict[str, str] = {
    "matter_admission": "事项准入",
    "meeting_admission": "会议报备",
    "inspection_admission": "督查检查考核报备",
    "township_need": "基层吹哨、部门报到",
    "department_rating": "乡镇评价县直部门",
    "report_form": "报表准入",
    "listing_admission": "挂牌、机制和证明事项准入",
    "fault_tolerance": "容错纠错",
    "clearance": "澄清正名",
}
# Step names by diagram id, for trail entries that carry no name of their own.
STEP_LABELS: dict[str, str] = {
    "start_apply": "申请",
    "catch_appeal": "申诉",
    "catch_withdrawal": "撤回",
    "catch_objection": "异议",
    "ft_accept": "受理",
    "ft_verify": "核实",
    "ft_decide": "认定",
    "ft_appeal_decide": "申诉复核",
    "ft_rectify": "限期整改",
    "ft_supervise": "督促整改",
    "ft_file": "备案",
    "cl_eligibility": "核查澄清条件",
    "cl_approve": "审批澄清",
    "cl_carry_out": "实施澄清",
    "cl_refer": "移送查处诬告",
}
# What the caller may do on a case (CaseDetail.actions): button text, what it means.
CASE_ACTION_LABELS: dict[str, tuple[str, str]] = {
    "finding": ("记录核查结论", "核查终结后记录结论；案件随之转为相应状态。"),
    "decision": (
        "记录问责决定",
        "问题经核查属实的，记录问责决定的结果、文号和日期；有办理中的容错申请的，须先作出容错认定。",
    ),
    "fault_tolerance": (
        "申请容错纠错",
        "问责启动后、作出问责决定前，可书面申请容错，由县纪委监委受理、核实，案件审理部门认定。",
    ),
    "clearance": (
        "申请澄清正名",
        "反映问题经核查失实、问题已了结并造成不良影响的，可书面申请澄清正名。",
    ),
    "clearance_proposal": (
        "提议澄清正名",
        "承办部门在征求本人意见后，可提议为受到不实反映的干部澄清正名。",
    ),
}

ACTION_LABELS: dict[str, str] = {
    "instance_started": "提交申请",
    "task_opened": "环节开始",
    "task_claimed": "认领任务",
    "task_completed": "办理完成",
    "task_cancelled": "任务取消",
    "task_escalated": "超期督办",
    "task_reminded": "到期提醒",
    "timer_fired": "定时触发",
    "status_changed": "状态变更",
    "matter_entered": "事项进入乡镇",
    "matter_exited": "事项退出",
    "withdrawal_requested": "申请单位撤回",
    "objection_raised": "乡镇提出异议",
    "user_created": "创建用户",
    "user_email_set": "设置电子邮箱",
    "user_changed": "修改人员信息",
    "password_reset": "重置密码",
    "password_changed": "本人修改密码",
    "organization_created": "新增单位",
    "people_imported": "批量导入单位和人员",
    "document_issued": "出具文书",
    "attachment_added": "补充附件",
    "meeting_scheduled": "列入乡镇会议日历",
    "meeting_video_requested": "乡镇申请视频参会",
    "meeting_video_answered": "答复视频参会申请",
    "inspection_planned": "列入乡镇年度检查计划",
    "inspection_visit_announced": "通知乡镇检查日期",
    "need_routed": "派单至牵头和配合部门",
    "need_answered": "部门反馈办理结果",
    "need_rated": "乡镇评价办理结果",
    "need_reopened": "责成重新办理",
    "department_rated": "记入部门年度考核",
    "matter_rated": "乡镇评价准入事项",
    "report_form_registered": "列入报表目录",
    "report_form_merged": "并入已有报表",
    "organization_changed": "修改单位",
    "task_released": "任务退回单位待办",
    "diagram_deployed": "部署流程图",
    "diagram_activated": "启用流程图版本",
    "appeal_lodged": "提出申诉",
    "case_updated": "记入案件",
    "case_opened": "登记问责案件",
    "case_finding_recorded": "记录核查结论",
    "case_decision_recorded": "记录问责决定",
    "clearance_proposal_overdue": "应当澄清逾期未提议督办",
    "duty_item_created": "新增清单事项",
    "duty_item_updated": "修改清单事项",
    "duty_item_retired": "废止清单事项",
    "duty_item_removed": "从乡镇清单移除事项",
    "instance_released": "恢复滞留流程",
    "incident_opened": "登记运行故障",
    "incident_resolved": "故障处理完毕",
    "instance_suspended": "管理员暂停办理",
    "instance_resumed": "管理员恢复办理",
    "instance_terminated": "管理员终止办理",
    "instance_migrated": "迁移流程版本",
    "operation_ran": "系统自动办理",
    "township_notified": "通知乡镇",
    "applicant_notified": "通知申请单位",
    "township_dropped": "乡镇不再承担",
    "resources_sent": "登记拨付资源",
    "resources_delivered": "登记资源到位",
    "shortfall_closed": "随事资源全部到位",
    "shortfall_escalated": "资源逾期未补齐督办",
}

REGISTER_STATUS_LABELS = {"in_force": "在册", "exited": "已退出"}
BOOL_LABELS = {True: "是", False: "否"}


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
    """A role as people read it; the system itself (a timer, the worker) is 系统."""
    if role in (None, "", "system"):
        return "系统"
    return ROLE_LABELS.get(role, role)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def case_status_label(status: str) -> str:
    return CASE_STATUS_LABELS.get(status, status)


# Applications are filed by an applicant (申请单位); every other procedure is raised (发起).
APPLICATIONS = frozenset({"matter_admission", "secondment_admission"})


def filer_label(process_id: str) -> str:
    """What the organisation that started an instance is called on its pages."""
    return "申请单位" if process_id in APPLICATIONS else "发起单位"


def process_label(process_id: str) -> str:
    return PROCESS_LABELS.get(process_id, process_id)


def step_label(step: str | None) -> str:
    """A shipped step's name, or nothing: a diagram's element id is never shown."""
    return STEP_LABELS.get(step or "", "")


def case_value(table: str, code: str | None) -> str:
    """A case record's code as a person reads it (table: a name in engine.accountability.cases)."""
    tables = {
        "subject_kind": case_facts.SUBJECT_KINDS,
        "source": case_facts.SOURCES,
        "responsibility_level": case_facts.RESPONSIBILITY_LEVELS,
        "leadership_kind": case_facts.LEADERSHIP_KINDS,
        "finding": case_facts.FINDINGS,
        "outcome": fa.OUTCOMES,
        "method": fa.CLEARANCE_METHODS,
        "decision": case_facts.DECISION_OUTCOMES,
        "trigger": case_facts.CLEARANCE_TRIGGERS,
    }
    return case_facts.label(tables[table], code) if code else "—"


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, "其他记录")


def exit_label(reason: str | None) -> str:
    return EXIT_LABELS.get(reason or "", reason or "—")


# 流程管理: a version's state, and what a changed step's attributes (SpiffWorkflow's spec
# attributes, as engine.workflow.versions reports them) mean to an administrator.
VERSION_STATE_LABELS = {"draft": "草稿", "active": "使用中", "retired": "已停用"}
STEP_ATTRIBUTE_LABELS = {
    "bpmn_name": "名称",
    "inputs": "流向",
    "outputs": "流向",
    "lane": "泳道",
    "documentation": "说明",
    "cond_task_specs": "条件",
    "default_task_spec": "条件",
    "choice": "条件",
    "event_definition": "事件（定时或消息）",
    "loop_cardinality": "循环设置",
    "completion_condition": "循环设置",
    "condition": "循环设置",
    "cardinality": "多实例设置",
    "data_input": "多实例设置",
    "data_output": "多实例设置",
    "input_item": "多实例设置",
    "output_item": "多实例设置",
    "script": "脚本",
    "prescript": "脚本",
    "postscript": "脚本",
    "extensions": "扩展属性（表单等）",
    "data_input_associations": "数据",
    "data_output_associations": "数据",
    "io_specification": "数据",
}
STEP_KIND_LABELS = {
    "UserTask": "办理步骤",
    "ExclusiveGateway": "分支",
    "ParallelGateway": "并行分支",
    "InclusiveGateway": "分支",
    "EventBasedGateway": "等待分支",
    "StartEvent": "开始",
    "EndEvent": "结束",
    "BoundaryEvent": "期限或消息",
    "IntermediateCatchEvent": "等待",
    "IntermediateThrowEvent": "通知",
    "ScriptTask": "自动步骤",
    "ServiceTask": "自动步骤",
}


def attribute_labels(attributes: Iterable[str]) -> list[str]:
    """What changed about a step, in words; attributes without a word are "属性已修改"."""
    words = [STEP_ATTRIBUTE_LABELS.get(name, "属性已修改") for name in attributes]
    return list(dict.fromkeys(words))


def step_name(name: str, kind: str) -> str:
    """A step as an administrator reads it: its name, else what kind of step it is."""
    return name or f"未命名的{STEP_KIND_LABELS.get(kind, '步骤')}"

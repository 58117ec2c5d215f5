"""Input schemas for accountability case records (opening a case, recording its finding)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from engine.accountability.cases import (
    CLEARANCE_TRIGGERS,
    DECISION_OUTCOMES,
    FINDINGS,
    LEADERSHIP_KINDS,
    RESPONSIBILITY_LEVELS,
    SOURCES,
    SUBJECT_KINDS,
    UNTRUE_FINDINGS,
)
from engine.workflow import fields as f


class CaseSchema(f.Schema):
    """立案: the handling organ records an accountability case against a person or a unit."""

    subject_kind = f.String(required=True, validate=f.one_of(list(SUBJECT_KINDS), SUBJECT_KINDS))
    # A person with an account is named by username; their organisation follows from it.
    subject_username = f.String(load_default=None, allow_none=True, validate=f.length(64, 1))
    subject_name = f.text(200)
    # The unit concerned, or a person's organisation when they have no account (code).
    subject_org = f.String(load_default=None, allow_none=True, validate=f.length(64, 1))
    subject_position = f.text(200)
    matter_reported = f.text(5000, required=True)
    source = f.String(load_default="report", validate=f.one_of(list(SOURCES), SOURCES))
    responsibility_level = f.String(
        required=True, validate=f.one_of(list(RESPONSIBILITY_LEVELS), RESPONSIBILITY_LEVELS)
    )
    leadership_kind = f.String(
        load_default=None,
        allow_none=True,
        validate=f.one_of(list(LEADERSHIP_KINDS), LEADERSHIP_KINDS),
    )

    @validates_schema
    def _subject(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("subject_kind")
        if kind == "unit":
            if data.get("subject_username"):
                raise ValidationError("被问责单位不填写个人账号", "subject_username")
            if not data.get("subject_org"):
                raise ValidationError("须填写被问责单位", "subject_org")
        if kind == "person" and not data.get("subject_username"):
            if not data.get("subject_org"):
                raise ValidationError("无账号的当事人须填写所在单位", "subject_org")
            if not data.get("subject_name", "").strip():
                raise ValidationError("无账号的当事人须填写姓名", "subject_name")
        if data.get("responsibility_level") == "leadership":
            if not data.get("leadership_kind"):
                raise ValidationError("领导责任须区分全面、主要或重要领导责任", "leadership_kind")
        elif data.get("leadership_kind"):
            raise ValidationError("仅领导责任区分全面、主要或重要领导责任", "leadership_kind")


class CaseFindingSchema(f.Schema):
    """核查结论: the handling organ concludes the verification of what was reported."""

    finding = f.String(required=True, validate=f.one_of(list(FINDINGS), FINDINGS))
    # Whether the report harmed the person's work, life or reputation (clearance needs it).
    harm = f.Boolean(required=True)
    note = f.text(5000, required=True)
    # 应当澄清: what the untrue report affected; any of them makes a proposal due.
    clearance_triggers = f.List(
        f.String(validate=f.one_of(list(CLEARANCE_TRIGGERS), CLEARANCE_TRIGGERS)),
        load_default=list,
        validate=f.length(len(CLEARANCE_TRIGGERS)),
    )

    @validates_schema
    def _triggers(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("clearance_triggers") and data.get("finding") not in UNTRUE_FINDINGS:
            raise ValidationError("只有反映失实的，才记录应当澄清的情形", "clearance_triggers")


class CaseDecisionSchema(f.Schema):
    """问责决定: the outcome, the decision's document number and date, once the report is proven."""

    outcome = f.String(required=True, validate=f.one_of(list(DECISION_OUTCOMES), DECISION_OUTCOMES))
    document_no = f.String(required=True, validate=[f.length(100), f.not_blank])
    decided_on = f.Date(required=True)
    note = f.text(2000)

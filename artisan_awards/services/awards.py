"""The award that comes with a title: coefficient x the base salary in force on the decision date.

Decree 98/2023/NĐ-CP, Art. 56(3) (under the Law on Emulation and Commendation 2022): the "People's"
titles carry 12.5 times the base salary, the "Meritorious" ones 9.0 times.  The coefficients are
configuration (``AWARD_COEFFICIENTS``); the base salary (lương cơ sở) is a dated table that an
administrator extends when the government changes it (``/admin/base-salaries``).  The figures used are
stored on the dossier when the President's decision is recorded, so a later row never rewrites it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app

from workflows.states import N_

from ..errors import ValidationFailed
from ..extensions import db
from ..models import AuditKind, BaseSalary, Title, User
from ..text import nfc
from ..timeutil import local_date, today
from . import admin_events

# A base salary outside this range is a typing error (the 2024 figure is 2 340 000 đồng).
MIN_AMOUNT, MAX_AMOUNT = 100_000, 1_000_000_000


@dataclass(frozen=True)
class Award:
    title: str
    coefficient: Decimal
    base_salary_vnd: int
    bonus_vnd: int
    base_salary_from: date


def coefficient(title: str) -> Decimal:
    """The configured multiple of the base salary for ``title``."""
    return Decimal(str(current_app.config["AWARD_COEFFICIENTS"][str(title)]))


def base_salary_on(day: date) -> BaseSalary | None:
    """The base salary in force on ``day`` (the latest row effective on or before it)."""
    return db.session.scalar(
        sa.select(BaseSalary).where(BaseSalary.effective_from <= day)
        .order_by(BaseSalary.effective_from.desc()).limit(1)
    )


def compute(title: str, day: date) -> Award | None:
    """The award for ``title`` decided on ``day``, or None when no base salary was in force then."""
    salary = base_salary_on(day)
    if salary is None:
        return None
    coef = coefficient(title)
    bonus = (coef * salary.amount_vnd).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Award(str(title), coef, salary.amount_vnd, int(bonus), salary.effective_from)


def history() -> list[BaseSalary]:
    return list(db.session.scalars(sa.select(BaseSalary).order_by(BaseSalary.effective_from.desc())))


def add_base_salary(actor: User, effective_from: date | None, amount_vnd: int | None, legal_basis: str | None,
                    verified: bool = False) -> BaseSalary:
    """Add the base salary in force from a date (one per date); logged in the audit chain."""
    fields = {}
    if effective_from is None:
        fields["effective_from"] = N_("Cần ngày áp dụng.")
    elif db.session.scalar(sa.select(BaseSalary.id).where(BaseSalary.effective_from == effective_from)):
        fields["effective_from"] = N_("Đã có mức lương cơ sở áp dụng từ ngày này.")
    if amount_vnd is None:
        fields["amount_vnd"] = N_("Cần mức lương cơ sở (đồng).")
    elif not MIN_AMOUNT <= amount_vnd <= MAX_AMOUNT:
        fields["amount_vnd"] = N_("Mức lương cơ sở phải từ 100 000 đến 1 000 000 000 đồng.")
    basis = nfc(legal_basis or "").strip()
    if not basis:
        fields["legal_basis"] = N_("Cần căn cứ pháp lý (số nghị định, nghị quyết).")
    elif len(basis) > 200:
        fields["legal_basis"] = N_("Căn cứ pháp lý dài tối đa 200 ký tự.")
    if fields:
        raise ValidationFailed(N_("Chưa lưu được mức lương cơ sở."), fields=fields)
    row = BaseSalary(effective_from=effective_from, amount_vnd=amount_vnd, legal_basis=basis,
                     verified=bool(verified), created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    admin_events.record(AuditKind.BASE_SALARY_ADDED, actor, target_type="base_salary", target=row,
                        target_label=f"{amount_vnd} VND {effective_from.isoformat()}",
                        effective_from=effective_from.isoformat(), amount_vnd=amount_vnd,
                        legal_basis=basis, verified=bool(verified))
    db.session.commit()
    return row


def check_decision(nomination, decision_no: str | None, decision_date: date | None,
                   title: str | None) -> tuple[str, Award]:
    """The President's decision as given, checked: (its number, the award); else ValidationFailed."""
    fields = {}
    number = nfc(decision_no or "").strip()
    if not number:
        fields["decision_no"] = N_("Cần số quyết định của Chủ tịch nước.")
    elif len(number) > 60:
        fields["decision_no"] = N_("Số quyết định dài tối đa 60 ký tự.")
    elif not any(ch.isdigit() for ch in number):
        fields["decision_no"] = N_("Số quyết định cần có chữ số, ví dụ 1234/QĐ-CTN.")
    title = title or nomination.title
    if title not in {t.value for t in Title}:
        fields["title"] = N_("Chọn danh hiệu được phong tặng.")
    elif title != nomination.title:
        fields["title"] = N_("Danh hiệu trong quyết định phải là danh hiệu đã đề nghị.")
    award = None
    if not decision_date:
        fields["decision_date"] = N_("Cần ngày quyết định.")
    elif decision_date > today():
        fields["decision_date"] = N_("Ngày quyết định không được sau ngày hôm nay.")
    elif nomination.submitted_at is not None and decision_date < local_date(nomination.submitted_at):
        fields["decision_date"] = N_("Ngày quyết định không được trước ngày nộp hồ sơ.")
    elif "title" not in fields:
        award = compute(title, decision_date)
        if award is None:
            fields["decision_date"] = N_("Chưa có mức lương cơ sở áp dụng cho ngày này: "
                                         "quản trị viên cần nhập ở trang Lương cơ sở.")
    if fields:
        raise ValidationFailed(N_("Quyết định của Chủ tịch nước chưa hợp lệ."), fields=fields)
    return number, award

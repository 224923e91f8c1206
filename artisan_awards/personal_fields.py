"""Every column of the database and its sensitivity class: which personal data it holds.

``SENSITIVITY[table][column]`` is one of ``CLASSES``.  ``tests/test_personal_fields.py`` fails when a
model column has no class here (add it when you add the column), and when a class is not one of
``CLASSES``.  Who sees which class where (page, API, export, PDF) is the policy in
``permissions.FIELD_ACCESS``; the masking itself is ``mask`` below (the ``masked`` filter in templates).
Which classes are encrypted at rest is ``field_crypto.ENCRYPTED_COLUMNS``.
"""

from __future__ import annotations

from datetime import date

from workflows.states import N_

from .field_crypto import normalise_phone

PUBLIC = "public"  # published by the procedure itself (consultation, results): the nominee's name, craft
ORDINARY = "ordinary"  # workflow data, not about a person beyond the dossier's existence
BIRTH_DATE = "birth_date"  # the nominee's birth date (masked to the year)
ADDRESS = "address"  # the nominee's residence
PHONE = "phone"  # the nominee's phone and e-mail
FAMILY = "family"  # the family's representative and contacts (posthumous proposals)
COMMENTER_CONTACT = "commenter_contact"  # name, phone, address of a commenter in the consultation
CONFLICT_DECLARATION = "conflict_declaration"  # a council member's declared ties to a nominee
EVIDENCE = "evidence"  # uploaded files and notices: seen with the dossier, read access logged
ACCOUNT = "account"  # staff and applicants' accounts, their connections and mail
SECRET = "secret"  # hashes, keys, sealed ballots: shown to nobody

CLASSES = {
    PUBLIC: N_("Công khai"),
    ORDINARY: N_("Thông thường"),
    BIRTH_DATE: N_("Ngày sinh"),
    ADDRESS: N_("Địa chỉ nơi cư trú"),
    PHONE: N_("Điện thoại, thư điện tử"),
    FAMILY: N_("Thông tin gia đình"),
    COMMENTER_CONTACT: N_("Liên hệ của người góp ý"),
    CONFLICT_DECLARATION: N_("Kê khai xung đột lợi ích"),
    EVIDENCE: N_("Tài liệu, minh chứng"),
    ACCOUNT: N_("Tài khoản, kết nối"),
    SECRET: N_("Bí mật kỹ thuật"),
}
# The classes whose value is masked for a role without the need (permissions.FIELD_ACCESS).
MASKABLE = (BIRTH_DATE, ADDRESS, PHONE, FAMILY, COMMENTER_CONTACT, CONFLICT_DECLARATION)

SENSITIVITY: dict[str, dict[str, str]] = {
    "agenda_items": {
        "id": ORDINARY, "session_id": ORDINARY, "nomination_id": ORDINARY, "yes": ORDINARY, "no": ORDINARY,
        "invalid": ORDINARY, "excluded": ORDINARY, "passed": ORDINARY,
    },
    "api_tokens": {
        "id": ORDINARY, "user_id": ORDINARY, "token_hash": SECRET, "created_at": ORDINARY,
        "expires_at": ORDINARY, "last_seen_at": ORDINARY, "user_agent": ACCOUNT, "client_address": ACCOUNT,
    },
    "attachments": {
        "id": ORDINARY, "nomination_id": ORDINARY, "kind": ORDINARY, "original_name": EVIDENCE,
        "stored_name": ORDINARY, "content_type": ORDINARY, "size": ORDINARY, "sha256": ORDINARY,
        "uploaded_by_id": ORDINARY, "uploaded_at": ORDINARY,
    },
    "attendance": {
        "id": ORDINARY, "session_id": ORDINARY, "member_id": ORDINARY,
    },
    "audit_chain_head": {
        "id": ORDINARY, "seq": ORDINARY, "hash": SECRET, "at": ORDINARY,
    },
    "audit_events": {
        "id": ORDINARY, "at": ORDINARY, "kind": ORDINARY, "actor_id": ORDINARY, "actor_name": ACCOUNT,
        "target_type": ORDINARY, "target_id": ORDINARY, "target_label": ORDINARY, "province_code": ORDINARY,
        "ip": ACCOUNT, "details": ORDINARY, "seq": ORDINARY, "prev_hash": SECRET, "hash": SECRET,
    },
    "ballot_participation": {
        "session_id": ORDINARY, "member_id": ORDINARY,
    },
    "base_salaries": {
        "id": ORDINARY, "effective_from": ORDINARY, "amount_vnd": ORDINARY, "legal_basis": ORDINARY,
        "verified": ORDINARY, "created_by_id": ORDINARY, "created_at": ORDINARY,
    },
    "certificates": {  # the typical products' certificates (issue 18): published in the public register
        "id": ORDINARY, "number": PUBLIC, "programme_id": ORDINARY, "nomination_id": ORDINARY, "level": PUBLIC,
        "holder_name": PUBLIC, "product_name": PUBLIC, "product_group": PUBLIC, "province_code": PUBLIC,
        "issued_on": PUBLIC, "valid_until": PUBLIC, "revoked_on": PUBLIC, "revoked_reason": ORDINARY,
        "created_at": ORDINARY,
    },
    "code_counters": {
        "province_code": ORDINARY, "year": ORDINARY, "last": ORDINARY,
    },
    "conflict_declarations": {
        "id": ORDINARY, "session_id": ORDINARY, "member_id": ORDINARY, "nomination_id": ORDINARY,
        "reason": CONFLICT_DECLARATION, "declared_at": ORDINARY,
    },
    "consent_records": {  # the person's decisions on each purpose (issue 17 item 1)
        "id": ORDINARY, "user_id": ORDINARY, "comment_id": ORDINARY, "purpose": ACCOUNT, "granted": ACCOUNT,
        "notice_version": ORDINARY, "context": ORDINARY, "recorded_at": ACCOUNT,
    },
    "council_members": {
        "id": ORDINARY, "council_id": ORDINARY, "user_id": ORDINARY, "position": ORDINARY,
        "authorised_to_preside": ORDINARY,
    },
    "council_sessions": {
        "id": ORDINARY, "council_id": ORDINARY, "held_on": ORDINARY, "place": ORDINARY, "status": ORDINARY,
        "members_total": ORDINARY, "present_count": ORDINARY, "quorum_met": ORDINARY, "opened_at": ORDINARY,
        "closed_at": ORDINARY, "received_count": ORDINARY, "passed_count": ORDINARY,
        "rejected_count": ORDINARY, "created_at": ORDINARY, "version": ORDINARY,
    },
    "councils": {
        "id": ORDINARY, "level": ORDINARY, "round_id": ORDINARY, "province_code": ORDINARY, "name": ORDINARY,
        "decision_no": ORDINARY, "decision_date": ORDINARY, "quorum_percent": ORDINARY,
        "pass_percent": ORDINARY, "exclude_conflicted_votes": ORDINARY, "created_at": ORDINARY,
    },
    "craft_periods": {
        "id": ORDINARY, "nomination_id": ORDINARY, "from_date": ORDINARY, "to_date": ORDINARY,
        "workplace": ORDINARY, "role": ORDINARY,
    },
    "criterion_reviews": {
        "id": ORDINARY, "nomination_id": ORDINARY, "ruleset_id": ORDINARY, "criterion_id": ORDINARY,
        "result": ORDINARY, "reason": ORDINARY, "actor_id": ORDINARY, "actor_name": ACCOUNT, "at": ORDINARY,
    },
    "data_requests": {  # the person's requests and the data officer's answers (issue 17 item 2)
        "id": ORDINARY, "user_id": ORDINARY, "kind": ORDINARY, "purpose": ORDINARY, "details": ACCOUNT,
        "status": ORDINARY, "opened_at": ORDINARY, "due_on": ORDINARY, "outcome": ORDINARY, "answer": ACCOUNT,
        "done": ORDINARY, "answered_at": ORDINARY, "answered_by_id": ORDINARY,
    },
    "document_tasks": {
        "id": ORDINARY, "kind": ORDINARY, "round_id": ORDINARY, "requested_by_id": ORDINARY,
        "status": ORDINARY, "done": ORDINARY, "total": ORDINARY, "message": ORDINARY, "result_name": ORDINARY,
        "queue_job_id": ORDINARY, "created_at": ORDINARY, "started_at": ORDINARY, "finished_at": ORDINARY,
    },
    "exclusion_overrides": {
        "id": ORDINARY, "nomination_id": ORDINARY, "reason": ORDINARY, "by_id": ORDINARY, "at": ORDINARY,
    },
    "inbox_notifications": {  # the in-app copy of a notification: as the e-mail's body
        "id": ORDINARY, "user_id": ORDINARY, "nomination_id": ORDINARY, "subject": ORDINARY, "body": ACCOUNT,
        "link": ORDINARY, "language": ORDINARY, "created_at": ORDINARY, "read_at": ORDINARY,
    },
    "login_sessions": {
        "id": ORDINARY, "user_id": ORDINARY, "key_hash": SECRET, "created_at": ORDINARY,
        "last_seen_at": ORDINARY, "user_agent": ACCOUNT, "client_address": ACCOUNT, "ended_at": ORDINARY,
        "ended_reason": ORDINARY,
    },
    "login_throttles": {
        "scope_hash": SECRET, "failures": ORDINARY, "last_failed_at": ORDINARY,
    },
    "partners": {  # partner systems (integration/partners.py): an organisation, not a person
        "id": ORDINARY, "code": ORDINARY, "name": ORDINARY, "channel_label": ORDINARY, "active": ORDINARY,
        "key": SECRET, "key_created_at": ORDINARY, "field_mapping": ORDINARY, "province_code": ORDINARY,
        "created_at": ORDINARY, "updated_at": ORDINARY,
    },
    "partner_request_nonces": {"partner_id": ORDINARY, "nonce": ORDINARY, "seen_at": ORDINARY},
    # Events for other systems (integration/outbox.py): dossier codes, states, units, decision numbers;
    # no name, contact or evidence of a person (the payload models, integration/payloads.py, forbid extras).
    "integration_subscribers": {
        "id": ORDINARY, "name": ORDINARY, "url": ORDINARY, "secret": SECRET, "kind": ORDINARY, "events": ORDINARY,
        "status_map": ORDINARY, "partner_code": ORDINARY, "active": ORDINARY, "created_at": ORDINARY,
        "updated_at": ORDINARY,
    },
    "integration_events": {"id": ORDINARY, "type": ORDINARY, "nomination_id": ORDINARY, "data": ORDINARY,
                           "created_at": ORDINARY},
    "integration_deliveries": {
        "id": ORDINARY, "event_id": ORDINARY, "subscriber_id": ORDINARY, "nomination_id": ORDINARY,
        "sequence": ORDINARY, "message_id": ORDINARY, "body": ORDINARY, "status": ORDINARY, "attempts": ORDINARY,
        "next_attempt_at": ORDINARY, "claimed_by": ORDINARY, "claimed_until": ORDINARY,
        "last_status_code": ORDINARY, "last_error": ORDINARY, "created_at": ORDINARY, "delivered_at": ORDINARY,
        "dead_at": ORDINARY,
    },
    "integration_delivery_attempts": {
        "id": ORDINARY, "delivery_id": ORDINARY, "number": ORDINARY, "at": ORDINARY, "status_code": ORDINARY,
        "error": ORDINARY, "duration_ms": ORDINARY, "worker": ORDINARY,
    },
    "nomination_counts": {
        "round_id": ORDINARY, "province_code": ORDINARY, "state": ORDINARY, "n": ORDINARY,
    },
    "nominations": {
        "id": ORDINARY, "code": ORDINARY, "access_key_hash": SECRET, "round_id": ORDINARY,
        "province_code": PUBLIC, "filed_province_code": ORDINARY, "owner_id": ORDINARY, "title": PUBLIC,
        "posthumous": ORDINARY, "governing_decree": ORDINARY, "full_name": PUBLIC, "name_key": PUBLIC,
        "pen_name": PUBLIC, "birth_date": BIRTH_DATE, "death_date": ORDINARY, "gender": ORDINARY,
        "ethnicity": ORDINARY, "hometown": ORDINARY, "address": ADDRESS, "phone": PHONE,
        "phone_index": SECRET, "personal_data_erased_at": ORDINARY, "email": PHONE, "craft": PUBLIC,
        "special_craft": ORDINARY,
        "special_craft_rationale": ORDINARY, "workshop": ORDINARY, "career_summary": ORDINARY,
        "skills_summary": ORDINARY, "honours_summary": ORDINARY, "meritorious_decision_no": ORDINARY,
        "meritorious_decision_date": ORDINARY, "meritorious_field": ORDINARY, "learners_trained": ORDINARY,
        "intangible_heritage_track": ORDINARY, "filed_by_name": FAMILY, "filed_by_relationship": FAMILY,
        "state": ORDINARY, "held_from": ORDINARY, "stage_reached": ORDINARY, "state_changed_at": ORDINARY,
        "submitted_at": ORDINARY, "received_at": ORDINARY, "returned_at": ORDINARY, "arrived_on": ORDINARY,
        "receipt_book_no": ORDINARY, "family_contact_phone": FAMILY, "family_contact_email": FAMILY,
        # another programme's own form fields (docs/programmes.md; not used by the artisan titles)
        "programme_id": ORDINARY, "programme_version": ORDINARY, "programme_data": ORDINARY,
        "consultation_ends": ORDINARY, "decision_no": PUBLIC, "decision_date": PUBLIC, "award_title": PUBLIC,
        "award_coefficient": ORDINARY, "award_base_salary_vnd": ORDINARY, "award_bonus_vnd": ORDINARY,
        "created_at": ORDINARY, "updated_at": ORDINARY, "version": ORDINARY,
        "channel": ORDINARY, "partner_id": ORDINARY, "external_code": ORDINARY, "intake_digest": ORDINARY,
    },
    "nominee_deaths": {
        "id": ORDINARY, "nomination_id": ORDINARY, "death_date": ORDINARY, "evidence_id": ORDINARY,
        "state_at_record": ORDINARY, "note": EVIDENCE, "recorded_by_id": ORDINARY, "recorded_at": ORDINARY,
    },
    "one_stop_notices": {
        "id": ORDINARY, "nomination_id": ORDINARY, "kind": ORDINARY, "issued_at": ORDINARY,
        "due_on": ORDINARY, "deadline_key": ORDINARY, "data": EVIDENCE, "filename": ORDINARY, "pdf": EVIDENCE,
        "sha256": ORDINARY, "signed": ORDINARY,
    },
    "outbox_attachments": {
        "id": ORDINARY, "message_id": ORDINARY, "filename": ORDINARY, "content_type": ORDINARY,
        "notice_id": ORDINARY, "data": ACCOUNT,
    },
    "outbox_messages": {
        "id": ORDINARY, "to": ACCOUNT, "subject": ORDINARY, "body": ACCOUNT, "language": ORDINARY,
        "attempts": ORDINARY, "created_at": ORDINARY, "next_attempt_at": ORDINARY, "sent_at": ORDINARY,
        "last_error": ORDINARY,
    },
    "personal_data_breaches": {
        "id": ORDINARY, "description": ORDINARY, "discovered_at": ORDINARY, "occurred_at": ORDINARY,
        "affected_count": ORDINARY, "classes": ORDINARY, "measures": ORDINARY, "authority_notified_at": ORDINARY,
        "recorded_by_id": ORDINARY, "recorded_at": ORDINARY,
    },
    "personal_data_reads": {  # who read whose dossier, when and why (issue 17 item 6)
        "id": ORDINARY, "at": ORDINARY, "reader_id": ORDINARY, "reader_role": ORDINARY, "subject_id": ORDINARY,
        "nomination_id": ORDINARY, "action": ORDINARY, "purpose": ORDINARY, "target": ORDINARY,
    },
    "privacy_notices": {  # the published notice texts
        "version": ORDINARY, "body_vi": ORDINARY, "body_en": ORDINARY, "published_at": ORDINARY,
        "published_by_id": ORDINARY,
    },
    "products": {
        "id": ORDINARY, "nomination_id": ORDINARY, "name": ORDINARY, "made_on": ORDINARY,
        "materials": ORDINARY, "self_designed": ORDINARY, "award_rank": ORDINARY, "award_level": ORDINARY,
        "award_state_delegated": ORDINARY, "award_organiser": ORDINARY, "awarded_on": ORDINARY,
    },
    "province_intakes": {
        "round_id": ORDINARY, "province_code": ORDINARY, "intake_closes": ORDINARY, "note": ORDINARY,
        "set_by_id": ORDINARY, "set_at": ORDINARY,
    },
    "provinces": {
        "code": PUBLIC, "gso_code": ORDINARY, "name": PUBLIC, "full_name": PUBLIC, "active": ORDINARY,
        "successor_code": ORDINARY, "merged_on": ORDINARY,
    },
    "public_comments": {
        "id": ORDINARY, "nomination_id": ORDINARY, "kind": ORDINARY, "full_name": COMMENTER_CONTACT,
        "phone": COMMENTER_CONTACT, "address": COMMENTER_CONTACT, "content": ORDINARY,
        "informational": ORDINARY, "window": ORDINARY, "status": ORDINARY, "resolution": ORDINARY,
        "resolved_by_id": ORDINARY, "created_at": ORDINARY, "personal_data_erased_at": ORDINARY,
    },
    "public_holidays": {
        "day": ORDINARY, "kind": ORDINARY, "name": ORDINARY, "source": ORDINARY, "confidence": ORDINARY,
        "updated_by": ORDINARY, "updated_at": ORDINARY, "statutory": ORDINARY,
    },
    "reminders_sent": {
        "id": ORDINARY, "key": ORDINARY, "threshold": ORDINARY, "to": ACCOUNT, "deadline": ORDINARY,
        "sent_on": ORDINARY, "created_at": ORDINARY,
    },
    "rounds": {
        "id": ORDINARY, "number": ORDINARY, "name": ORDINARY, "governing_decree": ORDINARY,
        "intake_opens": ORDINARY, "intake_closes": ORDINARY, "reply_days": ORDINARY,
        "completion_days": ORDINARY, "consultation_days": ORDINARY, "consultation_windows": ORDINARY,
        "deadlines": ORDINARY, "created_at": ORDINARY, "reply_day_kind": ORDINARY,
        "programme_id": ORDINARY, "programme_version": ORDINARY,
        "completion_day_kind": ORDINARY, "consultation_day_kind": ORDINARY,
    },
    "rule_parameter_changes": {
        "id": ORDINARY, "ruleset_id": ORDINARY, "criterion_id": ORDINARY, "parameter": ORDINARY,
        "old_value": ORDINARY, "new_value": ORDINARY, "old_verified": ORDINARY, "new_verified": ORDINARY,
        "reason": ORDINARY, "actor_id": ORDINARY, "actor_name": ACCOUNT, "at": ORDINARY,
    },
    "rule_parameter_overrides": {
        "id": ORDINARY, "ruleset_id": ORDINARY, "criterion_id": ORDINARY, "parameter": ORDINARY,
        "value": ORDINARY, "verified": ORDINARY, "updated_by_id": ORDINARY, "updated_at": ORDINARY,
    },
    "score_sheets": {  # a scorer's points for a product (issue 18): workflow data, no one's personal data
        "id": ORDINARY, "nomination_id": ORDINARY, "level": ORDINARY, "scorer_id": ORDINARY, "scores": ORDINARY,
        "total": ORDINARY, "comment": ORDINARY, "created_at": ORDINARY, "updated_at": ORDINARY, "version": ORDINARY,
    },
    "scoring_panel_members": {
        "id": ORDINARY, "round_id": ORDINARY, "level": ORDINARY, "region": ORDINARY, "user_id": ORDINARY,
        "created_at": ORDINARY,
    },
    "sealed_ballots": {
        "id": ORDINARY, "session_id": ORDINARY, "box": SECRET,
    },
    # National khuyến công schemes (migration 0031): organisations' plans and money, no personal data
    # beyond the recording accounts (ids).
    "scheme_budget_lines": {
        "id": ORDINARY, "nomination_id": ORDINARY, "position": ORDINARY, "item": ORDINARY,
        "state_amount": ORDINARY, "cofinancing": ORDINARY,
    },
    "scheme_records": {
        "id": ORDINARY, "nomination_id": ORDINARY, "kind": ORDINARY, "on_date": ORDINARY, "period": ORDINARY,
        "progress_percent": ORDINARY, "team": ORDINARY, "reference": ORDINARY, "text": ORDINARY,
        "amount": ORDINARY, "created_by_id": ORDINARY, "created_at": ORDINARY,
    },
    "scheme_years": {
        "round_id": ORDINARY, "plan_year": ORDINARY, "guidance_number": PUBLIC, "guidance_date": PUBLIC,
        "guidance_text": PUBLIC, "content_areas": PUBLIC, "plan_decision_number": PUBLIC,
        "plan_decision_date": PUBLIC, "plan_approved_at": ORDINARY, "plan_approved_by_id": ORDINARY,
        "created_by_id": ORDINARY, "created_at": ORDINARY,
    },
    "session_non_voters": {
        "id": ORDINARY, "session_id": ORDINARY, "member_id": ORDINARY, "reason": ORDINARY,
    },
    "special_craft_decisions": {
        "id": ORDINARY, "nomination_id": ORDINARY, "session_id": ORDINARY, "is_special": ORDINARY,
        "reasons": ORDINARY, "decided_by_id": ORDINARY, "at": ORDINARY,
    },
    "stored_files": {
        "key": ORDINARY, "size": ORDINARY, "data": EVIDENCE, "created_at": ORDINARY,
    },
    "transition_log": {
        "id": ORDINARY, "nomination_id": ORDINARY, "action": ORDINARY, "from_state": ORDINARY,
        "to_state": ORDINARY, "actor_id": ORDINARY, "actor_name": ACCOUNT, "comment": ORDINARY,
        "at": ORDINARY, "meta": ORDINARY, "seq": ORDINARY, "prev_hash": SECRET, "hash": SECRET,
    },
    "user_roles": {
        "id": ORDINARY, "user_id": ORDINARY, "role": ORDINARY,
    },
    "users": {
        "id": ORDINARY, "email": ACCOUNT, "full_name": ACCOUNT, "password_hash": SECRET,
        "province_code": ORDINARY, "locale": ORDINARY, "active": ORDINARY, "email_confirmed": ORDINARY,
        "created_at": ORDINARY,
    },
}


def class_of(table: str, column: str) -> str:
    return SENSITIVITY[table][column]


def personal_columns() -> dict[str, list[str]]:
    """class → ["table.column", ...] for the maskable classes (the register of processing reads it)."""
    found: dict[str, list[str]] = {}
    for table, columns in SENSITIVITY.items():
        for column, cls in columns.items():
            if cls in MASKABLE:
                found.setdefault(cls, []).append(f"{table}.{column}")
    return found


BULLETS = "•••"


def mask(cls: str, value) -> str:
    """What a role without the need sees: "0912 *** 678" for a phone, the year for a birth date, "•••"."""
    if value is None or value == "":
        return ""
    if cls == BIRTH_DATE and isinstance(value, date):
        return f"••/••/{value.year}"
    text = str(value)
    digits = normalise_phone(text)
    if "@" in text:
        name, _, domain = text.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(digits) >= 9 and len(digits) >= len(text.replace(" ", "").replace(".", "").replace("-", "")) - 1:
        return f"{digits[:4]} *** {digits[-3:]}"
    return BULLETS

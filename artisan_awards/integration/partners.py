"""Partner systems: add, change, deactivate, rotate the key (the administrator's pages and
``flask partners``), and the mapping of a partner's dossier message onto ours.

Each write is one transaction with its audit event.  The key is made here (``http_signatures.new_key``),
sealed at rest (``partners.key``, field_crypto) and handed back once to be given to the partner;
nothing shows it again: a lost key is rotated.

The mapping (``Partner.field_mapping``) is ``{their field: our field}``, dotted paths on both sides
(``"hoSo.maHoSo": "external_code"``, ``"nguoiNop.email": "filer.email"``,
``"ngheNhan.hoTen": "nominee.full_name"``).  Fields it does not name keep their place: the empty
mapping reads the message as ours (``NominationIn`` plus ``external_code``, ``filer``, ``files``).
"""

from __future__ import annotations

import json
import re

import click
import sqlalchemy as sa

from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Partner, Province, User
from ..schemas import NominationIn
from ..services import admin_events
from ..services.transaction import one_transaction
from ..text import nfc
from ..timeutil import now_utc
from .http_signatures import new_key

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,5}$")
# What a message may carry besides NominationIn's own keys.
EXTRA_TARGETS = ("external_code", "filer", "filer.email", "filer.full_name",
                 "files")
MAX_MAPPING = 200


def _targets() -> set[str]:
    """Every dotted path of NominationIn (nested models included) and the message's extra keys."""
    found: set[str] = set(EXTRA_TARGETS)

    def walk(model, prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = info.alias or name
            path = f"{prefix}{key}"
            found.add(path)
            annotation = info.annotation
            for candidate in (annotation, *getattr(annotation, "__args__", ())):
                if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
                    walk(candidate, path + ".")

    walk(NominationIn, "")
    return found


def parse_mapping(value) -> dict[str, str]:
    """The mapping from the form's JSON text (or a dict): refused with the reason when it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationFailed(fields={"field_mapping": N_("Bảng ánh xạ phải là một đối tượng JSON.")}) from None
    if not isinstance(value, dict) or len(value) > MAX_MAPPING:
        raise ValidationFailed(fields={"field_mapping": N_("Bảng ánh xạ phải là một đối tượng JSON.")})
    targets = _targets()
    mapping: dict[str, str] = {}
    for source, target in value.items():
        if not isinstance(source, str) or not isinstance(target, str) or not PATH.match(source):
            raise ValidationFailed(fields={"field_mapping": N_("Tên trường không hợp lệ: %(name)s.")},
                                   params={"name": str(source)[:60]})
        if target not in targets:
            raise ValidationFailed(fields={"field_mapping": N_("Không có trường %(name)s trong hồ sơ.")},
                                   params={"name": target[:60]})
        mapping[source] = target
    if len(set(mapping.values())) != len(mapping):
        raise ValidationFailed(fields={"field_mapping": N_("Hai trường được ánh xạ vào cùng một trường.")})
    return mapping


def _pop(data: dict, path: str):
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return False, None
    if isinstance(node, dict) and parts[-1] in node:
        return True, node.pop(parts[-1])
    return False, None


def _put(data: dict, path: str, value) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def apply_mapping(mapping: dict[str, str], message: dict) -> dict:
    """The partner's message in our shape (a copy: the message itself is left as it came)."""
    data = json.loads(json.dumps(message))
    moved = []
    for source, target in (mapping or {}).items():
        found, value = _pop(data, source)
        if found:
            moved.append((target, value))
    for target, value in moved:
        _put(data, target, value)
    return data


# -- administration ------------------------------------------------------------------------------


def _check(actor: User | None) -> None:
    """``None``: the operator at the server's shell (``flask partners``), who needs no role."""
    if actor is not None and not permissions.can_manage_partners(actor):
        raise Forbidden()


def list_partners() -> list[Partner]:
    return list(db.session.scalars(sa.select(Partner).order_by(Partner.active.desc(), Partner.code)))


def get_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound()
    return partner


def by_code(code: str) -> Partner | None:
    return db.session.scalar(sa.select(Partner).where(Partner.code == code))


def _fields(name: str, channel_label: str, province_code: str | None, mapping) -> tuple:
    errors = {}
    name, channel_label = nfc(name or "").strip(), nfc(channel_label or "").strip()
    if not name or len(name) > 200:
        errors["name"] = N_("Cần tên hệ thống đối tác (tối đa 200 ký tự).")
    if not channel_label or len(channel_label) > 200:
        errors["channel_label"] = N_("Cần tên kênh tiếp nhận (tối đa 200 ký tự).")
    province_code = (province_code or "").strip().upper() or None
    if province_code:
        province = db.session.get(Province, province_code)
        if province is None or not province.active:
            errors["province_code"] = N_("Tỉnh, thành phố không hợp lệ.")
    if errors:
        raise ValidationFailed(fields=errors)
    return name, channel_label, province_code, parse_mapping(mapping)


def create_partner(actor: User | None, code: str, name: str, channel_label: str, province_code: str | None = None,
                   mapping=None) -> tuple[Partner, str]:
    """A new partner and its key (the plain key is returned once, to be handed over)."""
    _check(actor)
    code = (code or "").strip()
    if not CODE.match(code):
        raise ValidationFailed(fields={"code": N_("Mã đối tác: 2–40 chữ cái không dấu, chữ số, dấu chấm, gạch.")})
    name, channel_label, province_code, mapping = _fields(name, channel_label, province_code, mapping)
    if by_code(code) is not None:
        raise ValidationFailed(fields={"code": N_("Mã đối tác này đã có.")})
    key = new_key()
    partner = Partner(code=code, name=name, channel_label=channel_label, province_code=province_code,
                      field_mapping=mapping, key=key, active=True)
    duplicate = ValidationFailed(fields={"code": N_("Mã đối tác này đã có.")})
    with one_transaction(duplicate=duplicate):
        db.session.add(partner)
        db.session.flush()
        admin_events.record(AuditKind.PARTNER_CREATED, actor, target=partner, target_type="partner",
                            target_label=partner.code, province_code=province_code, name=name)
    return partner, key


def update_partner(actor: User | None, partner: Partner, name: str, channel_label: str, province_code: str | None,
                   mapping) -> bool:
    _check(actor)
    name, channel_label, province_code, mapping = _fields(name, channel_label, province_code, mapping)
    before = {"name": partner.name, "channel_label": partner.channel_label,
              "province_code": partner.province_code, "field_mapping": partner.field_mapping}
    after = {"name": name, "channel_label": channel_label, "province_code": province_code, "field_mapping": mapping}
    changed = {k: after[k] for k in after if after[k] != before[k]}
    if not changed:
        return False
    with one_transaction():
        for key, value in changed.items():
            setattr(partner, key, value)
        admin_events.record(AuditKind.PARTNER_CHANGED, actor, target=partner, target_type="partner",
                            target_label=partner.code, province_code=partner.province_code, changed=sorted(changed))
    return True


def set_active(actor: User | None, partner: Partner, active: bool) -> None:
    """Deactivate (its requests are refused from now on: 403 partner_inactive) or reactivate."""
    _check(actor)
    if partner.active == active:
        return
    with one_transaction():
        partner.active = active
        admin_events.record(AuditKind.PARTNER_REACTIVATED if active else AuditKind.PARTNER_DEACTIVATED, actor,
                            target=partner, target_type="partner", target_label=partner.code,
                            province_code=partner.province_code)


def rotate_key(actor: User | None, partner: Partner) -> str:
    """A new key replaces the old one at once (requests signed with the old one are refused)."""
    _check(actor)
    key = new_key()
    with one_transaction():
        partner.key = key
        partner.key_created_at = now_utc()
        admin_events.record(AuditKind.PARTNER_KEY_ROTATED, actor, target=partner, target_type="partner",
                            target_label=partner.code, province_code=partner.province_code)
    return key


# -- flask partners ------------------------------------------------------------------------------


@click.group("partners")
def partners_cli():
    """Partner systems that file dossiers (docs/integration.md)."""


def _cli(call):
    try:
        return call()
    except ValidationFailed as exc:
        for field, message in (exc.fields or {"_": exc.message}).items():
            click.echo(f"{field}: {message % exc.params if exc.params else message}", err=True)
        raise SystemExit(1) from None


def _named(code: str) -> Partner:
    partner = by_code(code)
    if partner is None:
        click.echo(f"no partner {code}", err=True)
        raise SystemExit(1)
    return partner


@partners_cli.command("list")
def list_command():
    """Every partner: code, state, province, channel label."""
    for p in list_partners():
        click.echo(f"{p.code}\t{'active' if p.active else 'inactive'}\t{p.province_code or '*'}\t{p.channel_label}")


@partners_cli.command("add")
@click.option("--code", required=True, help="the keyid of its signatures, e.g. DVCQG")
@click.option("--name", required=True)
@click.option("--channel-label", required=True, help="shown on receipts, e-mails and pages")
@click.option("--province", "province_code", default=None, help="only for this province (a province's system)")
@click.option("--mapping", default=None, help="JSON {their field: our field}, or @file.json")
def add_command(code, name, channel_label, province_code, mapping):
    """Add a partner and print its key ONCE (hand it over by a secure channel)."""
    if mapping and mapping.startswith("@"):
        with open(mapping[1:], encoding="utf-8") as f:
            mapping = f.read()
    partner, key = _cli(lambda: create_partner(None, code, name, channel_label, province_code, mapping))
    click.echo(f"Partner {partner.code} added. Its key (shown once): {key}")


@partners_cli.command("mapping")
@click.argument("code")
@click.argument("mapping")
def mapping_command(code, mapping):
    """Set a partner's field mapping (JSON, or @file.json; {} for none)."""
    partner = _named(code)
    if mapping.startswith("@"):
        with open(mapping[1:], encoding="utf-8") as f:
            mapping = f.read()
    changed = _cli(lambda: update_partner(None, partner, partner.name, partner.channel_label, partner.province_code,
                                          mapping))
    click.echo("mapping saved" if changed else "nothing changed")


@partners_cli.command("deactivate")
@click.argument("code")
def deactivate_command(code):
    """Refuse the partner's requests from now on (403 partner_inactive)."""
    set_active(None, _named(code), False)
    click.echo(f"{code} deactivated")


@partners_cli.command("activate")
@click.argument("code")
def activate_command(code):
    set_active(None, _named(code), True)
    click.echo(f"{code} active")


@partners_cli.command("rotate-key")
@click.argument("code")
def rotate_command(code):
    """Replace the partner's key at once and print the new one ONCE."""
    key = rotate_key(None, _named(code))
    click.echo(f"New key for {code} (shown once; the old one no longer works): {key}")

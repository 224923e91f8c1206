"""Command-line tools: ``flask --app wsgi users create``, ``provinces sync``, ``seed-demo``."""

from __future__ import annotations

import click
from flask import Flask

from workflows.machine import ROLES

from .errors import ValidationFailed


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(provinces)
    app.cli.add_command(holidays_cli)
    app.cli.add_command(seed_demo)
    from .audit_chain import audit_cli
    from .audit_chain import init_app as audit_init_app

    audit_init_app(app)
    app.cli.add_command(audit_cli)
    from .backup import backup_cli
    from .storage import storage_cli

    app.cli.add_command(backup_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(attachments_cli)
    from .services.reminders import reminders_cli  # reminders depend on mail, never the other way round

    app.cli.add_command(reminders_cli)
    from .services.hard_cases import completion_cli  # the applicant's completion period (issue 14)

    app.cli.add_command(completion_cli)
    from .services.data_rights import notice_cli  # the personal data notice's versions (issue 17)

    app.cli.add_command(notice_cli)
    from .services.retention import privacy_cli  # personal data: retention, field keys (issue 17)

    app.cli.add_command(privacy_cli)
    from .integration.partners import partners_cli  # partner systems that file dossiers (issue 19)

    app.cli.add_command(partners_cli)


@click.group()
def users():
    """Manage accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--province", "province_code", default=None, help="Province code, e.g. HNI")
@click.option("--name", "full_name", default=None)
def create_user(email, password, roles, province_code, full_name):
    """Create an account with one or more roles."""
    from .services.accounts import create_user as create

    try:
        user = create(email, password, full_name or email.split("@")[0], roles, province_code)
    except ValidationFailed as exc:
        for field, message in exc.fields.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))})")


@click.group()
def provinces():
    """Reference data for provinces."""


@provinces.command("sync")
def sync():
    """Load the 34 current provinces (and the 63 earlier ones, inactive) from the data package."""
    from .services.provinces import sync_provinces

    click.echo(f"{sync_provinces()} provinces")


@provinces.command("transfer")
@click.option("--from", "former", required=True, help="Short code of the merged (former) province, e.g. HDG.")
@click.option("--reason", default="Nghị quyết 202/2025/QH15 (hợp nhất tỉnh)", show_default=True,
              help="The basis recorded in each dossier's log.")
@click.option("--dry-run", is_flag=True, help="Only list what would move.")
def transfer_province(former: str, reason: str, dry_run: bool):
    """Transfer every dossier of a merged province to its successor (logged as the system)."""
    from .errors import ServiceError
    from .services import law

    try:
        result = law.transfer_province(former.strip().upper(), reason, dry_run=dry_run)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    verb = "would move" if dry_run else "moved"
    for n in result.moved:
        click.echo(f"{verb} {n.code or n.id}: {n.full_name}")
    for n, why in result.skipped:
        click.echo(f"skipped {n.code or n.id}: {why}")
    click.echo(f"{len(result.moved)} {verb}, {len(result.skipped)} skipped")


@click.group("holidays")
def holidays_cli():
    """The holiday calendar of working-day deadlines."""


@holidays_cli.command("sync")
def sync_holidays():
    """Add the days of artisan_awards/data/holidays.csv missing from the table (edits are kept)."""
    from .services import law

    click.echo(f"{law.sync_holidays()} days added")


@click.command("seed-demo")
def seed_demo():
    """Fill the database with round 6, every province, one account per role and a dozen dossiers."""
    from .demo import seed

    for line in seed():
        click.echo(line)


@click.group("attachments")
def attachments_cli():
    """Uploaded evidence."""


@attachments_cli.command("clean")
@click.option("--dry-run", is_flag=True, help="Only report what would be rewritten.")
def clean_attachments(dry_run: bool):
    """Rewrite earlier PDF and image uploads clean, as new uploads are; exit 1 if one is refused."""
    from .services.attachments import clean_stored

    report = clean_stored(dry_run=dry_run)
    for attachment_id, removed in report["rewritten"]:
        click.echo(f"{'WOULD REWRITE' if dry_run else 'REWRITTEN'} {attachment_id}: removed "
                   f"{', '.join(removed) or 'metadata only'}")
    for attachment_id, reason in report["refused"]:
        click.echo(f"REFUSED {attachment_id}: {reason}")
    click.echo(f"{len(report['rewritten'])} rewritten, {len(report['unchanged'])} unchanged, "
               f"{len(report['refused'])} refused")
    if report["refused"]:
        raise SystemExit(1)

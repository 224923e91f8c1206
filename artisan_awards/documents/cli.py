"""``flask --app wsgi documents ...``: verify or sign a PDF, make a throwaway CA, render a round."""

from __future__ import annotations

from pathlib import Path

import click

from . import bp, signing


@bp.cli.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A trusted root certificate (PEM/DER); default DOCUMENTS_TRUST_ROOTS.")
def verify_command(pdf: Path, trust: tuple[str, ...]):
    """Tell whether a signed PDF is intact and who signed it (exit 0 only when intact and trusted)."""
    result = signing.verify(pdf.read_bytes(), list(trust) or None)
    click.echo(f"{pdf}: {result.verdict}")
    if result.error:
        click.echo(f"  {result.error}")
    for s in result.signatures:
        click.echo(f"  signer: {s.signer}")
        click.echo(f"  signed at: {s.signed_at.isoformat() if s.signed_at else '-'}; reason: {s.reason or '-'}")
        click.echo(f"  intact: {s.intact}, valid: {s.valid}, trusted: {s.trusted}, "
                   f"whole file: {s.covers_whole_file} ({s.summary})")
    raise SystemExit(0 if result.ok else 1)


@bp.cli.command("sign")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", default="Văn bản điện tử", show_default=True)
@click.option("--location", default="", help="Place of signing, e.g. Hà Nội")
def sign_command(pdf: Path, out: Path, reason: str, location: str):
    """Sign a PDF with the configured certificate (DOCUMENTS_SIGNING_KEY / _CERT)."""
    if not signing.configured():
        raise click.ClickException("set DOCUMENTS_SIGNING_KEY and DOCUMENTS_SIGNING_CERT first")
    out.write_bytes(signing.sign(pdf.read_bytes(), reason, location))
    click.echo(f"signed: {out}")


@bp.cli.command("test-ca")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def test_ca_command(directory: Path):
    """Make a THROWAWAY certificate authority and signing certificate (rehearsals and tests only)."""
    paths = signing.make_test_ca(directory)
    click.echo("For a rehearsal, set:")
    click.echo(f"  DOCUMENTS_SIGNING_KEY={paths['key']}")
    click.echo(f"  DOCUMENTS_SIGNING_CERT={paths['cert']}")
    click.echo(f"  DOCUMENTS_SIGNING_CHAIN={paths['ca']}")


@bp.cli.command("prune-cache")
@click.option("--days", type=click.IntRange(min=0), default=30, show_default=True,
              help="Remove PDFs not used for this many days.")
@click.option("--max-mb", type=click.IntRange(min=0), default=None,
              help="Then remove the least recently used until the cache holds at most this much.")
def prune_cache_command(days: int, max_mb: int | None):
    """Keep the PDF cache small: safe at any time (a removed PDF is rendered again on demand)."""
    from . import engine

    directory = engine.cache_dir()
    if directory is None:
        raise click.ClickException("the PDF cache is off (DOCUMENTS_CACHE = False)")
    result = engine.prune_cache(directory, older_than=days * 86400,
                                max_bytes=max_mb * 1024 * 1024 if max_mb is not None else None)
    click.echo(f"removed {result.removed} PDF(s), {result.freed / 1048576:.1f} MB; "
               f"kept {result.kept}, {result.kept_bytes / 1048576:.1f} MB in {directory}")


@bp.cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool):
    """Run the RQ worker for the document jobs (needs REDIS_URL)."""
    import os

    from flask import current_app
    from redis import Redis
    from rq import Queue, SimpleWorker

    url = current_app.config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    if not url:
        raise click.ClickException("set REDIS_URL; without it, jobs run in a thread of the web process")
    connection = Redis.from_url(url)
    # SimpleWorker runs each job in this process, inside the app context the command runs in.
    SimpleWorker([Queue("documents", connection=connection)], connection=connection).work(burst=burst)


@bp.cli.command("export-round")
@click.argument("round_number", type=int)
@click.option("--as", "email", required=True, help="The ministry officer or admin who asks for it.")
@click.option("--scope", type=click.Choice(["decided", "all"]), default="decided", show_default=True,
              help="decided: only dossiers that reached a decision; all: every submitted dossier.")
def export_round_command(round_number: int, email: str, scope: str):
    """Make every document of a round now, in this process, and print where the ZIP is."""
    import sqlalchemy as sa

    from ..extensions import db
    from ..models import DocumentTask, Round
    from ..services.accounts import find_user
    from . import jobs

    round_ = db.session.scalar(sa.select(Round).where(Round.number == round_number))
    user = find_user(email)
    if round_ is None or user is None or not jobs.can_export(user):
        raise click.ClickException("unknown round, or the account may not export documents")
    task = DocumentTask(round_id=round_.id, requested_by_id=user.id, kind=jobs.KIND_PREFIX + scope)
    db.session.add(task)
    db.session.commit()
    jobs.run_task(task.id)
    db.session.refresh(task)
    click.echo(f"{task.status}: {task.done}/{task.total} documents"
               + (f" -> {task.download_name} (storage key {task.result_name})" if task.result_name
                  else f" ({task.message})"))

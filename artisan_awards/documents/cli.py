"""``flask --app wsgi documents ...``: verify or sign a PDF, make a throwaway PKI, render a round."""

from __future__ import annotations

from pathlib import Path

import click

from . import bp, signing


@bp.cli.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A trusted root certificate (PEM/DER); default DOCUMENTS_TRUST_ROOTS.")
@click.option("--body", "body_key", default=None,
              help="The body that should have signed (bo-cong-thuong, so-cong-thuong-hni, ...).")
def verify_command(pdf: Path, trust: tuple[str, ...], body_key: str | None):
    """Check a signed PDF offline: intact, issuing body, signer, time-stamp, revocation (exit 0 only if all hold)."""
    expected = _body(body_key).name if body_key else None
    result = signing.verify(pdf.read_bytes(), list(trust) or None, expected_body=expected)
    click.echo(f"{pdf}: {result.verdict}")
    if result.error:
        click.echo(f"  {result.error}")
    for s in result.signatures:
        mismatch = f" (NOT the certificate's body{'; expected ' + expected if expected else ''})"
        click.echo(f"  body: {s.body or '-'}" + ("" if s.body_matches else mismatch))
        click.echo(f"  signer: {s.signer}")
        click.echo(f"  time-stamp: {s.timestamp_at.isoformat() if s.timestamp_at else '-'}"
                   f" ({'trusted' if s.timestamp_trusted else 'not trusted' if s.timestamp_at else 'none'})")
        click.echo(f"  revocation: {s.revocation}" + ("; certificate expired" if s.expired else ""))
        click.echo(f"  reason: {s.reason or '-'}")
        details = s.summary + ("; " + ", ".join(s.problems) if s.problems else "")
        click.echo(f"  intact: {s.intact}, valid: {s.valid}, trusted: {s.trusted}, "
                   f"whole file: {s.covers_whole_file} ({details})")
    raise SystemExit(0 if result.ok else 1)


def _body(key: str) -> signing.Body:
    body = signing.body_by_key(key)
    if body is None:
        raise click.BadParameter(f"unknown body {key!r}: bo-cong-thuong or so-cong-thuong-<province code>",
                                 param_hint="--body")
    return body


@bp.cli.command("sign")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--body", "body_key", required=True,
              help="The issuing body whose certificate signs: bo-cong-thuong or so-cong-thuong-<province code>.")
@click.option("--reason", default="Văn bản điện tử", show_default=True)
@click.option("--location", default="", help="Place of signing, e.g. Hà Nội")
def sign_command(pdf: Path, out: Path, body_key: str, reason: str, location: str):
    """Sign a PDF (PAdES B-LT) with an issuing body's certificate from DOCUMENTS_SIGNING_DIR."""
    body = _body(body_key)
    if not signing.configured(body):
        raise click.ClickException(f"no certificate for {body.key} in DOCUMENTS_SIGNING_DIR "
                                   f"({body.key}/signer.p12 or {body.key}/key.pem + cert.pem)")
    try:
        out.write_bytes(signing.sign(pdf.read_bytes(), reason, location, body=body))
    except signing.SigningUnavailable as exc:
        raise click.ClickException(f"{exc.code}: see the log") from exc
    click.echo(f"signed by {body.name}: {out}")


@bp.cli.command("test-pki")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--province", "provinces", multiple=True, default=("HNI",), show_default=True,
              help="Province codes to make a department certificate for.")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the time-stamp authority and OCSP on 127.0.0.1 until Ctrl-C.")
def test_pki_command(directory: Path, provinces: tuple[str, ...], serve: bool):
    """Make a THROWAWAY PKI (root, intermediate, TSA, OCSP, one certificate per body): rehearsals only."""
    import time

    from . import testpki

    bodies = [signing.MINISTRY] + [_body(f"so-cong-thuong-{code.lower()}") for code in provinces]
    pki = testpki.make_pki(directory, bodies)
    root = pki.write_root()
    for body in bodies:
        pki.write_body(directory / "signing", body.key, body.key)
    click.echo("For a rehearsal, set:")
    click.echo(f"  DOCUMENTS_SIGNING_DIR={directory / 'signing'}")
    click.echo(f"  DOCUMENTS_TRUST_ROOTS={root}")
    click.echo(f"  DOCUMENTS_TSA_URL={pki.tsa_url}")
    if serve:
        pki.start()
        click.echo(f"TSA and OCSP on 127.0.0.1:{pki.port}; Ctrl-C stops them.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pki.stop()


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


@bp.cli.command("overdue-notices")
@click.option("--dry-run", is_flag=True, help="List the overdue dossiers; issue and send nothing.")
@click.option("--queue-only", is_flag=True, help="Issue and queue the apologies; `flask mail send` delivers.")
def overdue_notices_command(dry_run: bool, queue_only: bool):
    """Daily: the apology and new appointment for each dossier whose reply deadline was missed (once each)."""
    from ..services import mail
    from . import notices

    if dry_run:
        found = notices.overdue()
        for item in found:
            click.echo(f"{item.code}: reply due {item.missed:%d/%m/%Y}, new appointment {item.new_due:%d/%m/%Y}")
        click.echo(f"{len(found)} overdue (dry run: nothing issued)")
        return
    issued = notices.send_apologies()
    for notice in issued:
        click.echo(f"{notice.data['code']}: {notice.data['number']}, new appointment {notice.due_on:%d/%m/%Y}")
    click.echo(f"issued {len(issued)} apologies")
    if not queue_only:
        sent, failed = mail.send_pending()
        click.echo(f"mail: sent {sent}, failed {failed}")

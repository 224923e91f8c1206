"""The PDF of a typical product's certificate (issue 18; services/certificates.py): the existing document
machinery (documents/engine.py: plain data, the safe fetcher, the cache, PDF/A), ``templates/pdf/certificate.html``.

It is made from the stored certificate each time it is asked for (cached by its data), so a revoked one
prints its revocation.  What it shows is what the public register shows: nothing else of the dossier.
"""

from __future__ import annotations

import hashlib

from .. import regions
from ..models import Certificate
from .data import MINISTRY, MINISTRY_LIST_SIGNER, province_issuer
from .service import Download, engine, qr_svg, variant

LEVEL_LABELS = {"province": "cấp tỉnh", "region": "cấp khu vực", "nation": "cấp quốc gia"}
REGION_LABELS = {"north": "khu vực miền Bắc", "central": "khu vực miền Trung", "south": "khu vực miền Nam"}


def register_url(number: str | None = None) -> str:
    from ..services.notifications import link

    return link("public.certificates_register", q=number) if number else link("public.certificates_register")


def certificate_data(c: Certificate) -> dict:
    """Plain data of the certificate as printed."""
    province = c.province
    if c.level == "province" and province is not None:
        issuer = province_issuer(province)
        title = f"Sở Công Thương {province.full_name}"
        signer = {"authority": "", "role": "Giám đốc", "name": ""}
    else:
        issuer = dict(MINISTRY)
        title = "Bộ Công Thương"
        signer = dict(MINISTRY_LIST_SIGNER)
    region = regions.region_of(c.province_code) if c.level == "region" else None
    round_ = c.nomination.round
    return {
        "number": c.number, "level": c.level, "level_label": LEVEL_LABELS.get(c.level, c.level),
        "region_label": REGION_LABELS.get(region or "", ""), "issuer": issuer, "issuer_title": title,
        "signer": signer, "product_name": c.product_name, "product_group": c.product_group,
        "holder_name": c.holder_name, "province_name": province.full_name if province else "",
        "round_name": f"{round_.name} ({round_.intake_opens.year})" if round_ else "",
        "issued_on": c.issued_on, "valid_until": c.valid_until, "revoked_on": c.revoked_on,
        "revoked_reason": c.revoked_reason or "", "register_url": register_url(c.number),
    }


def certificate_spec(c: Certificate):
    d = certificate_data(c)
    svg = qr_svg(d["register_url"])
    blobs = {"qr": engine.Blob(hashlib.sha256(svg).hexdigest(), lambda: svg, "image/svg+xml")}
    return engine.Spec([engine.Part("certificate.html", {"c": d})], variant=variant(), blobs=blobs,
                       title=f"Giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu số {c.number}")


def certificate_pdf(c: Certificate) -> Download:
    result = engine.produce(certificate_spec(c))
    safe = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in c.number)
    return Download(result.pdf, f"giay-chung-nhan-{safe}.pdf", result.cached)

"""The round's record as a file (CSV, Excel, PDF): shared by the round's page and the API
(``GET /rounds/<id>/report?format=``), so neither blueprint imports the other."""

from __future__ import annotations

from workflows.states import N_

from .models import Round

REPORT_FORMATS = ("csv", "xlsx", "pdf")


def report_file(round_: Round, data: dict, fmt: str):
    """The round's record as a download (``fmt``: csv, xlsx or pdf): the page's and the API's."""
    from . import exports
    from .i18n import TITLE_LABELS
    from .services import law

    names = law.province_names()
    if fmt == "pdf":
        from .documents import service as documents

        return documents.round_report(round_, data, names).response()
    level_labels = dict(law.LEVELS)
    columns = [
        exports.Column(N_("Cấp"), lambda r: level_labels[r["level"]]),
        exports.Column(N_("Tỉnh, thành phố"), lambda r: names.get(r["province_code"], r["province_code"]), 22),
        exports.Column(N_("Nộp tại (tỉnh cũ)"), lambda r: ", ".join(data["filed_in"].get(r["province_code"], []))),
        exports.Column(N_("Danh hiệu"), lambda r: TITLE_LABELS.get(r["title"], r["title"]), 18),
        exports.Column(N_("Truy tặng"), lambda r: N_("Có") if r["posthumous"] else N_("Không")),
        *[exports.Column(law.MEASURE_LABELS[m], lambda r, m=m: r[m]) for m in law.MEASURES],
    ]
    return exports.respond(fmt, f"bao-cao-dot-{round_.number}", columns, data["rows"])

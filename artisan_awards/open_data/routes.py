"""The open-data files, their dictionary and the page that lists them (docs/open-data.md).

The files are the same for everyone and carry no personal data beyond what the law publishes
(``services/open_data.py`` decides what): no login, no session cookie, ``ETag`` and ``Last-Modified``
so that a repeated request is answered 304, ``Cache-Control: public``.  The URLs are versioned (``/v1/``)
and stay as they are; a new shape would be ``/v2/``.
"""

from __future__ import annotations

import json

from flask import Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from workflows.states import N_

from ..services import open_data as service
from . import bp, files


def _license() -> tuple[str, str, str]:
    cfg = current_app.config
    return cfg["OPEN_DATA_LICENSE_NAME"], cfg["OPEN_DATA_LICENSE_URL"], cfg["OPEN_DATA_LICENSE_TITLE"]


def _public(response: Response, last_modified=None) -> Response:
    """Cacheable by anyone, answered 304 when unchanged; readable from any site's script."""
    response.add_etag()  # a hash of the bytes: the same file, the same ETag
    if last_modified is not None:
        response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["OPEN_DATA_MAX_AGE"]
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    return response.make_conditional(request)


def _not_found(message: str, kind: str, **values) -> Response:
    """A 404 in Vietnamese (the data's language), JSON in the API's error shape for .json, else plain text."""
    with force_locale("vi"):
        text = _(message, **values) + " " + _("Các bộ dữ liệu: %(names)s. Danh mục: %(url)s",
                                               names=", ".join(service.DATASETS), url=url_for("open_data.index"))
    if kind == "json":
        body = json.dumps({"error": {"code": "not_found", "message": text, "fields": {}}}, ensure_ascii=False)
        return Response(body, 404, mimetype="application/json")
    return Response(text + "\n", 404, mimetype="text/plain")


def _file(dataset: str, fmt: str, round_number: int | None) -> Response:
    if fmt not in service.FORMATS:
        return _not_found(N_("Không có định dạng “%(ext)s”: chỉ có .csv và .json."), "txt", ext=fmt[:20])
    if service.dataset(dataset) is None:
        return _not_found(N_("Không có bộ dữ liệu “%(name)s”."), fmt, name=dataset[:60])
    if round_number is not None and not service.round_exists(round_number):
        return _not_found(N_("Không có đợt xét tặng lần thứ %(n)s."), fmt, n=round_number)
    response = Response(files.render(dataset, fmt, round_number))
    response.headers["Content-Type"] = files.MEDIA_TYPES[fmt]
    name = f"{dataset}.{fmt}" if round_number is None else f"{dataset}-round-{round_number}.{fmt}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _public(response, service.last_modified(round_number))


@bp.get("")
def index():
    """The page: datasets, their URLs, licence, update frequency and the dictionary."""
    name, url, title = _license()
    return render_template("open_data/index.html", datasets=service.DATASETS.values(), rounds=service.rounds(),
                           withheld=service.WITHHELD, license_name=name, license_url=url, license_title=title,
                           levels=service.LEVELS, windows=service.WINDOWS)


@bp.get("/v1/datapackage.json")
def datapackage():
    """The field dictionary: a Frictionless Data Package with a Table Schema per resource."""
    body = json.dumps(service.datapackage(*_license()), ensure_ascii=False, indent=1) + "\n"
    return _public(Response(body.encode("utf-8"), mimetype="application/json"))


@bp.get("/v1/<dataset>.<fmt>")
def all_rounds(dataset: str, fmt: str):
    """A dataset over every round."""
    return _file(dataset, fmt, None)


@bp.get("/v1/rounds/<int:round_number>/<dataset>.<fmt>")
def one_round(round_number: int, dataset: str, fmt: str):
    """A dataset of one round (by its number: lần thứ N)."""
    return _file(dataset, fmt, round_number)

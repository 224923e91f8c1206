"""Language helpers: translated labels, Vietnamese date format, template filters."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale, get_translations, gettext, refresh
from jinja2 import pass_context
from markupsafe import Markup

from workflows.states import ACTION_LABELS, N_, STATE_INFO, State

from . import formatting
from .formatting import number, vn_date  # noqa: F401 - kept importable from here

TITLE_LABELS = {"people": N_("Nghệ nhân nhân dân"), "meritorious": N_("Nghệ nhân ưu tú")}
KIND_LABELS = {
    "portrait": N_("Ảnh chân dung 4x6"),
    "photo": N_("Ảnh"),
    "video": N_("Video"),
    "award_decision": N_("Quyết định khen thưởng"),
    "certificate": N_("Giấy chứng nhận, bằng khen"),
    "authorisation": N_("Giấy ủy quyền"),
    "death_evidence": N_("Giấy chứng tử, giấy báo tử"),
    "other": N_("Tài liệu khác"),
}
RELATIONSHIP_LABELS = {
    "self": N_("Bản thân"),
    "child": N_("Con"),
    "spouse": N_("Vợ/chồng"),
    "other": N_("Khác"),
}
LEVEL_LABELS = {
    "national": N_("Toàn quốc"),
    "regional": N_("Khu vực"),
    "international": N_("Quốc tế"),
    "provincial": N_("Cấp tỉnh"),
}


def state_label(state: str, audience: str = "staff") -> str:
    info = STATE_INFO[State(state)]
    return gettext(info.citizen_label if audience == "citizen" else info.staff_label)


def next_step(state: str) -> str:
    return gettext(STATE_INFO[State(state)].next_step)


def action_label(action: str) -> str:
    return gettext(ACTION_LABELS.get(action, action))


def label(table: dict, key) -> str:
    return gettext(table.get(key, key or "")) if key else ""


def title_text(title: str) -> str:
    return label(TITLE_LABELS, title)


# The catalogue's answers, kept per language for the pages' ``_()`` (issue 16: a page asks for about twenty
# texts, each through Flask-Babel's context look-ups). Bounded, in case a template translates data.
_TRANSLATED: dict[str, dict[str, str]] = {}
_TRANSLATED_MAX = 20_000


def _page_gettext() -> dict:
    """``_`` and ``gettext`` for one page render: the request's catalogue looked up once, each text once
    per language and process. Same result as Jinja's new-style gettext that Flask-Babel installs (escaped
    when autoescaping, always ``%``-formatted with the given variables); a template rendered outside
    ``render_template`` (the e-mails, under ``force_locale``) keeps the global one."""
    locale = str(get_locale())
    translations = get_translations()
    cache = _TRANSLATED.setdefault(locale, {})

    @pass_context
    def page_gettext(__context, __string, **variables):
        rv = cache.get(__string)
        if rv is None:
            rv = translations.ugettext(__string)
            if len(cache) < _TRANSLATED_MAX:
                cache[__string] = rv
        if __context.eval_ctx.autoescape:
            # Exactly what Jinja's own new-style gettext does (jinja2.ext._make_new_gettext): the text is
            # the catalogue's translation of a msgid written in our templates (trusted), and marking it
            # safe makes the ``%`` below escape every variable, which is where visitors' data comes in.
            rv = Markup(rv)  # nosec B704
        return rv % variables

    def layout_fragment(name: str, caller):
        """``{% call layout_fragment("header") %}...{% endcall %}``: a piece of the layout rendered once.

        For an anonymous visitor the layout's header and footer depend only on the language, the
        application's script root and the page's own path (the language link's ``next``): the same
        for every visit of a page, so they are kept per application, language and page (issue 16:
        the public status page spent most of its time rendering them). A logged-in user's layout
        (their name, menu, notifications, CSRF tokens) is always rendered. Only pages of a route
        without variables and without a query string are kept, so the cache is bounded by the URL
        map, not by what visitors type."""
        from flask import current_app, request
        from flask_login import current_user

        if (current_user.is_authenticated or request.query_string or request.url_rule is None
                or request.view_args):
            return caller()
        kept = current_app.extensions.setdefault("layout_fragments", {})
        key = (name, locale, request.script_root, request.path)
        html = kept.get(key)
        if html is None:
            html = caller()
            if len(kept) < _FRAGMENTS_MAX:
                kept[key] = html
        return html

    return {"_": page_gettext, "gettext": page_gettext, "page_locale": locale, "layout_url": layout_url,
            "layout_fragment": layout_fragment}


_FRAGMENTS_MAX = 2_000  # per application: routes without variables x languages (x fragments); a safety bound


# The layout's fixed links (home, the public pages, the style sheet), built once per script root: each
# url_for walks the URL map again (issue 16: eight per page). Only links without a value that comes from
# the request are kept; anything else goes to url_for as usual.
_URLS: dict[tuple, str] = {}


def layout_url(endpoint: str, **values) -> str:
    from flask import current_app, request, url_for

    if current_app.url_default_functions or any(k.startswith("_") or not isinstance(v, str)
                                                for k, v in values.items()):
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = _URLS.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_URLS) < 1000:
            _URLS[key] = url
    return url


def init_app(app: Flask) -> None:
    # Choose the language afresh for every request, even when an outer app context
    # (a CLI command, a test) has already cached one.
    app.before_request(refresh)
    app.context_processor(_page_gettext)
    formatting.init_app(app)  # vn_date, number, percent, file_size: the one way to write them
    app.jinja_env.globals.update(
        get_locale=get_locale,
        state_label=state_label,
        next_step=next_step,
        action_label=action_label,
        title_label=lambda t: label(TITLE_LABELS, t),
        kind_label=lambda k: label(KIND_LABELS, k),
        relationship_label=lambda r: label(RELATIONSHIP_LABELS, r),
        level_label=lambda v: label(LEVEL_LABELS, v),
        KIND_LABELS=KIND_LABELS,
        TITLE_LABELS=TITLE_LABELS,
    )


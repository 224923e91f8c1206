"""Language helpers: translated labels, Vietnamese date format, template filters."""

from __future__ import annotations

from collections import ChainMap

import jinja2
from flask import Flask, current_app, request, url_for
from flask_babel import get_locale, get_translations, gettext, refresh
from flask_login import current_user
from jinja2 import pass_context, runtime
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
_FORMATTED: dict[str, dict[str, Markup]] = {}  # the same, escaped and formatted, for a ``_()`` without variables
_TRANSLATED_MAX = 20_000


def _page_gettext() -> dict:
    """``_`` and ``gettext`` for one page render: the request's catalogue looked up once, each text once
    per language and process. Same result as Jinja's new-style gettext that Flask-Babel installs (escaped
    when autoescaping, always ``%``-formatted with the given variables); a template rendered outside
    ``render_template`` (the e-mails, under ``force_locale``) keeps the global one."""
    locale = str(get_locale())
    cache = _TRANSLATED.setdefault(locale, {})
    formatted = _FORMATTED.setdefault(locale, {})

    def text(msgid: str) -> str:
        rv = cache.get(msgid)
        if rv is None:  # the catalogue, looked up only for a text not yet kept (get_locale() is the page's)
            rv = get_translations().ugettext(msgid)
            if len(cache) < _TRANSLATED_MAX:
                cache[msgid] = rv
        return rv

    def page_state_label(state: str, audience: str = "staff") -> str:
        """``state_label`` through the page's kept translations (the same text; plain, escaped on output)."""
        info = STATE_INFO[State(state)]
        return text(info.citizen_label if audience == "citizen" else info.staff_label)

    def page_next_step(state: str) -> str:
        return text(STATE_INFO[State(state)].next_step)

    @pass_context
    def page_gettext(__context, __string, **variables):
        if not variables and __context.eval_ctx.autoescape:
            # Most of a page's texts: no variables, autoescaped. The result (a Markup, immutable) depends
            # only on the language and the text: kept as it is, formatting and all.
            rv = formatted.get(__string)
            if rv is None:
                rv = Markup(text(__string)) % variables  # nosec B704 - the same as below, kept
                if len(formatted) < _TRANSLATED_MAX:
                    formatted[__string] = rv
            return rv
        rv = text(__string)
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
        req = request._get_current_object()  # one context look-up, not one per attribute
        if current_user.is_authenticated or req.query_string or req.url_rule is None or req.view_args:
            return caller()
        kept = current_app.extensions.setdefault("layout_fragments", {})
        key = (name, locale, req.script_root, req.path)
        html = kept.get(key)
        if html is None:
            html = caller()
            if len(kept) < _FRAGMENTS_MAX:
                kept[key] = html
        return html

    return {"_": page_gettext, "gettext": page_gettext, "page_locale": locale, "layout_url": layout_url,
            "layout_fragment": layout_fragment, "state_label": page_state_label, "next_step": page_next_step}


_FRAGMENTS_MAX = 2_000  # per application: routes without variables x languages (x fragments); a safety bound


# The layout's fixed links (home, the public pages, the style sheet), built once per script root: each
# url_for walks the URL map again (issue 16: eight per page). Only links without a value that comes from
# the request are kept; anything else goes to url_for as usual.
_URLS: dict[tuple, str] = {}


def layout_url(endpoint: str, **values) -> str:
    if current_app.url_default_functions or values and any(k.startswith("_") or not isinstance(v, str)
                                                           for k, v in values.items()):
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items())) if values else (request.script_root, endpoint)
    url = _URLS.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_URLS) < 1000:
            _URLS[key] = url
    return url


class Template(jinja2.Template):
    """Jinja's template, with its render context made from the environment's globals directly.

    A template's globals are a ChainMap of its own (none here: Flask passes none) over the environment's;
    Jinja copies them into each render's context through the ChainMap's Python-level iteration and
    look-ups, about 80 of them (issue 16: a third of rendering an empty page). The copy is the same dict
    when taken from the environment's globals themselves, still live (a global added later is seen);
    a template with globals of its own keeps Jinja's way."""

    def new_context(self, vars=None, shared=False, locals=None):
        env_globals = self.globals
        if type(env_globals) is ChainMap and len(env_globals.maps) == 2 and not env_globals.maps[0]:
            return runtime.new_context(self.environment, self.name, self.blocks, vars, shared,
                                       env_globals.maps[1], locals)
        return super().new_context(vars, shared, locals)


def init_app(app: Flask) -> None:
    app.jinja_env.template_class = Template
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


"""The suite's shared compiled code (tests/compiled_cache.py) changes nothing the tests can see.

Templates and URL builders are compiled once per process instead of once per test's app: an
edited template is compiled again, environments with other options get their own code, and
URLs built by a second app are the same as the first's.
"""

from __future__ import annotations

import os
import time

import jinja2
from flask import Flask

from artisan_awards import create_app
from tests.compiled_cache import TEMPLATE_CODE, SharedTemplateCode


def _env(folder, **options) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), auto_reload=True,
                              bytecode_cache=SHARED, **options)


SHARED = SharedTemplateCode()


def test_a_template_edited_on_disk_is_compiled_again(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("một {{ x }}", encoding="utf-8")
    assert _env(tmp_path).get_template("page.html").render(x=1) == "một 1"
    page.write_text("hai {{ x }}", encoding="utf-8")
    # A new environment (a new test's app) and the same environment after auto_reload alike.
    assert _env(tmp_path).get_template("page.html").render(x=2) == "hai 2"
    env = _env(tmp_path)
    assert env.get_template("page.html").render(x=3) == "hai 3"
    page.write_text("ba {{ x }}", encoding="utf-8")
    later = time.time() + 5
    os.utime(page, (later, later))
    assert env.get_template("page.html").render(x=4) == "ba 4"


def test_the_second_environment_reuses_the_code_and_other_options_compile_their_own(tmp_path):
    (tmp_path / "list.txt").write_text("{% for i in xs %}\n  <{{ i }}>\n{% endfor %}\n", encoding="utf-8")
    before = SHARED.hits
    plain = _env(tmp_path).get_template("list.txt").render(xs=[1, 2])
    assert _env(tmp_path).get_template("list.txt").render(xs=[1, 2]) == plain
    assert SHARED.hits == before + 1
    trimmed = _env(tmp_path, trim_blocks=True, lstrip_blocks=True).get_template("list.txt").render(xs=[1, 2])
    assert trimmed == "  <1>\n  <2>\n" != plain
    escaped = _env(tmp_path, autoescape=True).get_template("list.txt").render(xs=["<b>"])
    assert "&lt;b&gt;" in escaped
    assert "<<b>>" in _env(tmp_path).get_template("list.txt").render(xs=["<b>"])


def test_a_filter_known_to_one_environment_only_is_not_taken_from_the_other(tmp_path):
    (tmp_path / "f.txt").write_text("{{ 'x' | shout }}", encoding="utf-8")
    env = _env(tmp_path)
    env.filters["shout"] = str.upper
    assert env.get_template("f.txt").render() == "X"
    bare = _env(tmp_path)
    try:
        bare.get_template("f.txt").render()
    except jinja2.TemplateError as exc:
        assert "shout" in str(exc)
    else:
        raise AssertionError("a template using an unknown filter rendered")


def test_every_app_of_the_suite_shares_templates_and_builds_the_same_urls(tmp_path):
    config = {"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "UPLOAD_DIR": str(tmp_path)}
    first, second = create_app(config), create_app(config)
    assert first.jinja_env.bytecode_cache is second.jinja_env.bytecode_cache is TEMPLATE_CODE
    assert isinstance(Flask.create_jinja_environment(first), jinja2.Environment)
    rules = {r.endpoint: r for r in second.url_map.iter_rules()}
    built = 0
    for rule in first.url_map.iter_rules():
        other = rules[rule.endpoint]
        values = {name: min(getattr(rule._converters.get(name), "items", None) or [7]) for name in rule.arguments}
        with first.test_request_context(), second.test_request_context():
            a = first.url_map.bind("localhost").build(rule.endpoint, {**values, "q": "một"})
            b = second.url_map.bind("localhost").build(other.endpoint, {**values, "q": "một"})
        assert a == b and "q=m%E1%BB%99t" in a
        built += 1
    assert built > 50

"""Compiled code shared by every application the test session creates (installed by tests/conftest.py).

Each test builds its own app (``create_app``), and with it a new Jinja environment and a new
URL map: on main every test recompiled each template it rendered and every route's URL
builders (``builtins.compile`` was ~10 % of a profile of tests/test_councils.py).  What is
compiled depends only on the source and on the options of the compiler, so it is kept here
once per process, keyed by both:

- templates: a Jinja bytecode cache holding code objects in memory, keyed by the template's
  name, file, the options of the environment that compile it, and the checksum of its source:
  a template edited on disk is compiled again (``auto_reload`` still works);
- URL builders: Werkzeug compiles two builder functions per rule; they take the rule as their
  first argument, so one function serves every rule with the same path, converters' constants
  and defaults.

Nothing here runs outside the tests.
"""

from __future__ import annotations

import threading

import jinja2
from flask import Flask
from jinja2.bccache import Bucket
from werkzeug.routing import Rule


def environment_signature(env: jinja2.Environment) -> tuple:
    """Everything of an environment that changes the code a template compiles to."""
    autoescape = env.autoescape
    return (
        type(env).__name__,
        env.block_start_string, env.block_end_string, env.variable_start_string,
        env.variable_end_string, env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
        env.newline_sequence, env.keep_trailing_newline, env.optimized, env.is_async,
        # A callable autoescape is asked per template name when compiling; compare by code.
        autoescape if isinstance(autoescape, bool) else getattr(autoescape, "__qualname__", repr(autoescape)),
        getattr(env.finalize, "__qualname__", repr(env.finalize)),
        tuple(sorted(env.extensions)),
        getattr(env, "newstyle_gettext", None),
        env.code_generator_class, env.lexer_class if hasattr(env, "lexer_class") else None,
        # Filters and tests are looked up at compile time (missing ones, what they are passed).
        frozenset((name, getattr(f, "jinja_pass_arg", None)) for name, f in env.filters.items()),
        frozenset((name, getattr(f, "jinja_pass_arg", None)) for name, f in env.tests.items()),
    )


class SharedTemplateCode(jinja2.BytecodeCache):
    """Jinja's bytecode cache, in memory, with code objects shared across environments of equal options."""

    def __init__(self) -> None:
        self._code: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_bucket(self, environment, name, filename, source) -> Bucket:
        key = (environment_signature(environment), name, filename, self.get_source_checksum(source))
        bucket = Bucket(environment, repr(hash(key)), self.get_source_checksum(source))
        bucket.shared_key = key
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.shared_key)
        if code is None:
            self.misses += 1
        else:
            self.hits += 1
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._code[bucket.shared_key] = bucket.code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()


TEMPLATE_CODE = SharedTemplateCode()

_builders: dict[tuple, object] = {}
_compile_builder = Rule._compile_builder


def _shared_builder(self: Rule, append_unknown: bool = True):
    """Werkzeug's builder for this rule, compiled once per equal rule in the process."""
    defaults = self.defaults or {}
    dynamic = {data for is_dynamic, data in self._trace if is_dynamic}
    try:
        key = (self.rule, append_unknown, tuple(self._trace),
               tuple((k, self._converters[k].to_url(v) if k in dynamic else None) for k, v in defaults.items()),
               tuple((name, type(c)) for name, c in sorted(self._converters.items())))
        hash(key)
    except Exception:  # a default the key cannot hold: compile as Werkzeug does
        return _compile_builder(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


_create_jinja_environment = Flask.create_jinja_environment


def _jinja_environment(self: Flask):
    env = _create_jinja_environment(self)
    env.bytecode_cache = TEMPLATE_CODE
    return env


def install() -> None:
    Flask.create_jinja_environment = _jinja_environment
    Rule._compile_builder = _shared_builder

"""The jinja2 environment the proxy renders its config files with.

Templates live in `bosun/templates/`. Autoescape is off (these are not HTML) and undefined
variables are errors: every value a template prints has been checked by `bosun.proxy.model`.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bosun", "templates"),
        autoescape=False,  # config files, not HTML; every value is checked beforehand
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(name: str, **context: Any) -> str:
    """`name` rendered with `context`. Raises jinja2.TemplateError if the template is broken."""
    return _environment().get_template(name).render(**context)

"""The one registry of programme versions the application reads.

The built-in definitions (workflows/programmes), the artisan titles' being the very objects of
``workflows.states`` (so their enums are the application's), plus any folder added with
``registry().add_directory`` (the application adds its PROGRAMME_DIRS setting at start).
"""

from __future__ import annotations

from .machine import ROLES
from .programme import PROGRAMMES_DIR, Registry
from .states import ARTISAN

_REGISTRY = Registry([PROGRAMMES_DIR], known=[ARTISAN], roles=ROLES)


def registry() -> Registry:
    return _REGISTRY

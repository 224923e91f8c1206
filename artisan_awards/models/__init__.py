"""The models, one module per area; import them from here.

``core``: users, provinces, rounds, nominations and their log.
"""

from .core import (  # noqa: F401
    ApiToken,
    Attachment,
    AttachmentKind,
    CodeCounter,
    CraftPeriod,
    GoverningDecree,
    Nomination,
    Product,
    Province,
    Round,
    Title,
    TransitionLog,
    User,
    UserRole,
)

"""The models, one module per area; import them from here.

``core``: users, provinces, rounds, nominations and their log.
``eligibility``: rule-parameter overrides, their change log, reviewers' findings on criteria.
``councils``: councils, sessions, attendance, secret ballots, public comments.
``documents``: background jobs that make a round's documents, with their progress.
``mail``: the e-mail outbox.  ``admin_log``: the administration audit log.
"""

from .admin_log import AuditChainHead, AuditEvent, AuditKind  # noqa: F401
from .core import (  # noqa: F401
    MAX_DB_INT,
    ApiToken,
    Attachment,
    AttachmentKind,
    CodeCounter,
    CraftPeriod,
    GoverningDecree,
    LoginSession,
    LoginThrottle,
    Nomination,
    Product,
    Province,
    Round,
    Title,
    TransitionLog,
    User,
    UserRole,
    get_row,
    window_due,
)
from .councils import (  # noqa: F401
    AgendaItem,
    Attendance,
    BallotParticipation,
    CommentStatus,
    ConflictDeclaration,
    Council,
    CouncilMember,
    CouncilSession,
    Level,
    NonVoter,
    Position,
    PublicComment,
    SealedBallot,
    SessionStatus,
    ceil_percent,
)
from .documents import DocumentTask, TaskStatus  # noqa: F401
from .eligibility import (  # noqa: F401
    CriterionReview,
    RuleParameterChange,
    RuleParameterOverride,
)
from .mail import OutboxMessage  # noqa: F401

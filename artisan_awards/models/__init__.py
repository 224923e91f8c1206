"""The models, one module per area; import them from here.

``core``: users, provinces, rounds, nominations and their log.
``eligibility``: rule-parameter overrides, their change log, reviewers' findings on criteria.
``councils``: councils, sessions, attendance, secret ballots, public comments.
``documents``: background jobs that make a round's documents, with their progress.
``hard_cases``: a nominee's death, Art. 2(3) overrides, the council's special-craft decisions.
``mail``: the e-mail outbox and the in-app inbox.  ``admin_log``: the administration audit log.
``integration``: events for other systems (webhooks, status sync to partners) and their deliveries.
``partners``: partner systems that file dossiers (issue 19).
``certificates``: the typical products' certificates, one per product and level (issue 18).
``scoring``: scorers' panels and sheets of a level that decides on a rubric (issue 18).
"""

from .admin_log import AuditChainHead, AuditEvent, AuditKind  # noqa: F401
from .certificates import CERTIFICATE_LEVELS, Certificate  # noqa: F401
from .core import (  # noqa: F401
    MAX_DB_INT,
    ApiToken,
    Attachment,
    AttachmentKind,
    BaseSalary,
    CodeCounter,
    CraftPeriod,
    GoverningDecree,
    LoginSession,
    LoginThrottle,
    Nomination,
    Product,
    Province,
    ProvinceIntake,
    PublicHoliday,
    Round,
    Title,
    TransitionLog,
    User,
    UserRole,
    forget_law_calendar,
    get_row,
    law_calendar,
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
from .data_rights import (  # noqa: F401
    NOTICE_PURPOSE,
    ConsentRecord,
    DataRequest,
    PersonalDataRead,
    PrivacyNotice,
    ReadAction,
    RequestKind,
    RequestOutcome,
    RequestStatus,
)
from .documents import DocumentTask, NoticeKind, OneStopNotice, TaskStatus  # noqa: F401
from .eligibility import (  # noqa: F401
    CriterionReview,
    RuleParameterChange,
    RuleParameterOverride,
)
from .hard_cases import ExclusionOverride, NomineeDeath, SpecialCraftDecision  # noqa: F401
from .integration import Delivery, DeliveryAttempt, IntegrationEvent, Subscriber  # noqa: F401
from .mail import InboxNotification, OutboxAttachment, OutboxMessage  # noqa: F401
from .partners import CHANNELS, Partner, RequestNonce  # noqa: F401
from .privacy import PersonalDataBreach  # noqa: F401
from .schemes import SchemeBudgetLine, SchemeRecord, SchemeYear  # noqa: F401
from .scoring import ScoreSheet, ScoringPanelMember  # noqa: F401

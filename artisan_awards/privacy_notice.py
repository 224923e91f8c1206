"""The built-in text of the personal data notice (version 1), in Vietnamese and English.

The text is data: ``artisan_awards/data/privacy_notice.vi.txt`` and ``.en.txt``.  A later version is
published into the table ``privacy_notices`` (``flask privacy publish-notice VI_FILE EN_FILE``); these
files are version 1 while that table is empty.  Lines starting with ``# `` are headings; other non-empty
lines are paragraphs.  The periods named follow docs/personal-data.md.
"""

from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_NOTICE_VI = (_DATA / "privacy_notice.vi.txt").read_text(encoding="utf-8")
DEFAULT_NOTICE_EN = (_DATA / "privacy_notice.en.txt").read_text(encoding="utf-8")

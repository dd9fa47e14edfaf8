"""Notices by e-mail: each person chooses, per kind of notice, one e-mail per notice, a daily
digest, or none; e-mails wait out their quiet hours. The words are Vietnamese, in plain text and
HTML, with a link to what the notice is about.

E-mail leaves the platform: of a notice about a document that is mật or above, the e-mail says
only that there is a notice, never the document's number, issuer or abstract.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from vanban.notify.domain.model import Notification, NotificationKind
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import InvalidArgumentError

# The agencies' clock (ICT): quiet hours and the digest time are read on it.
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


class EmailMode(enum.Enum):
    EACH = "each"
    DIGEST = "digest"
    OFF = "off"


# What a person must act on comes at once; what they should know, in the evening's digest.
ACT_ON = frozenset(
    {
        NotificationKind.TASK_ASSIGNED,
        NotificationKind.TASK_FORWARDED,
        NotificationKind.TASK_RETURNED,
        NotificationKind.TASK_OVERDUE,
        NotificationKind.TASK_OVERDUE_ESCALATED,
        NotificationKind.APPROVAL_REQUESTED,
        NotificationKind.SIGNATURE_REQUESTED,
        NotificationKind.PACKAGE_RECEIVED,
    }
)
DEFAULT_DIGEST_TIME = time(17, 0)
# Characters of a subject line (the rest of the notice is in the body).
MAX_SUBJECT = 120


def default_mode(kind: NotificationKind) -> EmailMode:
    return EmailMode.EACH if kind in ACT_ON else EmailMode.DIGEST


@dataclass(frozen=True, slots=True)
class Preferences:
    """One person's choices; what they never chose is the default."""

    email: Mapping[NotificationKind, EmailMode] = field(default_factory=dict)
    quiet_start: time | None = None
    quiet_end: time | None = None
    digest_time: time = DEFAULT_DIGEST_TIME

    def mode(self, kind: NotificationKind) -> EmailMode:
        return self.email.get(kind, default_mode(kind))


def parse_clock(value: str, *, field_name: str) -> time | None:
    """ "HH:MM" on the local clock; empty for none."""
    if not value:
        return None
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 5 or parsed.second or parsed.tzinfo is not None:
        raise InvalidArgumentError(
            f"{field_name} must be a time of day as HH:MM",
            reason="INVALID_PREFERENCES",
            metadata={"field": field_name},
        )
    return parsed


def preferences_from(
    *, email: Mapping[str, str], quiet_start: str, quiet_end: str, digest_time: str
) -> Preferences:
    """A person's choices as sent, once each is one the platform knows."""
    modes: dict[NotificationKind, EmailMode] = {}
    for kind_name, mode_name in email.items():
        try:
            kind = NotificationKind(kind_name)
            mode = EmailMode(mode_name)
        except ValueError:
            raise InvalidArgumentError(
                f"e-mail choices are a kind of notice and one of each, digest, off: "
                f"{kind_name!r}: {mode_name!r} is not",
                reason="INVALID_PREFERENCES",
                metadata={"field": "email"},
            ) from None
        modes[kind] = mode
    start = parse_clock(quiet_start, field_name="quiet_start")
    end = parse_clock(quiet_end, field_name="quiet_end")
    if (start is None) != (end is None) or (start is not None and start == end):
        raise InvalidArgumentError(
            "quiet hours need both a start and a different end (or neither)",
            reason="INVALID_PREFERENCES",
            metadata={"field": "quiet_start"},
        )
    digest = parse_clock(digest_time, field_name="digest_time") or DEFAULT_DIGEST_TIME
    return Preferences(email=modes, quiet_start=start, quiet_end=end, digest_time=digest)


def _quiet(preferences: Preferences, moment: datetime) -> datetime | None:
    """When the quiet hours around `moment` end; None when it is not in them."""
    start, end = preferences.quiet_start, preferences.quiet_end
    if start is None or end is None:
        return None
    local = moment.astimezone(LOCAL)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    else:
        # Across midnight, e.g. 22:00 to 06:00.
        inside = clock >= start or clock < end
        ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if clock >= start:
            ends += timedelta(days=1)
    return ends if inside else None


def due_at(preferences: Preferences, mode: EmailMode, now: datetime) -> datetime:
    """When the e-mail of a notice made `now` goes: at once, or at the next digest time; never
    within quiet hours (then when they end)."""
    if mode is EmailMode.DIGEST:
        local = now.astimezone(LOCAL)
        at = local.replace(
            hour=preferences.digest_time.hour,
            minute=preferences.digest_time.minute,
            second=0,
            microsecond=0,
        )
        if at <= local:
            at += timedelta(days=1)
        moment = at
    else:
        moment = now
    return _quiet(preferences, moment) or moment


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str


FOOTER = (
    "Thư này do hệ thống quản lý văn bản Vanban gửi tự động; vui lòng không trả lời. "
    "Bạn có thể chọn nhận thư từng thông báo, thư tổng hợp hằng ngày hoặc không nhận "
    "trong phần thiết lập thông báo."
)


def _lines(notification: Notification, link: str) -> tuple[str, str]:
    """The notice as text and as HTML; only that there is one, when its document is mật or
    above."""
    if notification.secrecy is not Secrecy.NONE:
        title, body = "Bạn có một thông báo mới về văn bản mật", "Đăng nhập hệ thống để xem."
    else:
        title, body = notification.title, notification.body
    text = f"{title}\n{body}\nXem: {link}\n"
    markup = (
        f"<p><strong>{html.escape(title)}</strong><br>{html.escape(body)}<br>"
        f'<a href="{html.escape(link, quote=True)}">Xem trên hệ thống</a></p>'
    )
    return text, markup


def _html(greeting: str, parts: Sequence[str]) -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"></head><body>'
        f"<p>{html.escape(greeting)}</p>{''.join(parts)}"
        f'<p style="color:#666;font-size:small">{html.escape(FOOTER)}</p></body></html>'
    )


def compose(
    notifications: Sequence[Notification], *, name: str, link_base: str, digest: bool
) -> Email:
    """One notice's e-mail, or a person's digest of several (oldest first)."""
    greeting = f"Kính gửi {name}," if name else "Kính gửi anh/chị,"
    texts, parts = [], []
    for notification in notifications:
        text, markup = _lines(notification, f"{link_base.rstrip('/')}/{notification.resource}")
        texts.append(text)
        parts.append(markup)
    if digest:
        subject = f"[Vanban] Tổng hợp {len(notifications)} thông báo trong ngày"
    elif notifications[0].secrecy is not Secrecy.NONE:
        subject = "[Vanban] Thông báo mới về văn bản mật"
    else:
        subject = f"[Vanban] {notifications[0].title}"
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1] + "…"
    plain = f"{greeting}\n\n" + "\n".join(texts) + f"\n--\n{FOOTER}\n"
    return Email(subject=subject, text=plain, html=_html(greeting, parts))

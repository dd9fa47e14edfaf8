"""When a notice's e-mail goes, and what it says (the rules alone; test_email.py sends them
through a real relay)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from vanban.notify.domain.email import (
    LOCAL,
    EmailMode,
    Preferences,
    compose,
    due_at,
    preferences_from,
)
from vanban.notify.domain.model import Notification, NotificationKind
from vanban.platform.clearance import Secrecy
from vanban.platform.errors import InvalidArgumentError


def local(hour: int, minute: int = 0, day: int = 30) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


NIGHTS = Preferences(quiet_start=time(22, 0), quiet_end=time(6, 30))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(14), local(14)),
        (local(23), datetime(2026, 12, 1, 6, 30, tzinfo=LOCAL)),
        (local(3), local(6, 30)),
        (local(6, 30), local(6, 30)),
    ],
)
def test_an_e_mail_at_once_waits_out_the_quiet_hours(now: datetime, expected: datetime) -> None:
    assert due_at(NIGHTS, EmailMode.EACH, now.astimezone(UTC)) == expected


def test_the_digest_goes_at_its_time_the_next_one_after_it_passed() -> None:
    chosen = Preferences(digest_time=time(17, 30))
    assert due_at(chosen, EmailMode.DIGEST, local(9)) == local(17, 30)
    assert due_at(chosen, EmailMode.DIGEST, local(18)) == datetime(
        2026, 12, 1, 17, 30, tzinfo=LOCAL
    )
    # A digest time inside quiet hours waits for their end.
    late = Preferences(digest_time=time(23, 0), quiet_start=time(22, 0), quiet_end=time(6, 0))
    assert due_at(late, EmailMode.DIGEST, local(9)) == datetime(2026, 12, 1, 6, 0, tzinfo=LOCAL)


def test_what_one_must_act_on_comes_at_once_by_default_the_rest_in_the_digest() -> None:
    chosen = Preferences()
    assert chosen.mode(NotificationKind.TASK_ASSIGNED) is EmailMode.EACH
    assert chosen.mode(NotificationKind.SIGNATURE_REQUESTED) is EmailMode.EACH
    assert chosen.mode(NotificationKind.INCOMING_REGISTERED) is EmailMode.DIGEST
    assert chosen.mode(NotificationKind.TASK_COMPLETED) is EmailMode.DIGEST


@pytest.mark.parametrize(
    "given",
    [
        {"email": {"task_assigned": "weekly"}},
        {"email": {"nothing": "each"}},
        {"quiet_start": "22:00"},
        {"quiet_start": "22:00", "quiet_end": "22:00"},
        {"quiet_start": "7h", "quiet_end": "08:00"},
        {"digest_time": "17:00:30"},
        {"digest_time": "24:00"},
    ],
)
def test_choices_the_platform_does_not_know_are_refused(given: dict[str, object]) -> None:
    fields: dict[str, object] = {"email": {}, "quiet_start": "", "quiet_end": "", "digest_time": ""}
    fields.update(given)
    with pytest.raises(InvalidArgumentError) as refused:
        preferences_from(**fields)  # type: ignore[arg-type]
    assert refused.value.reason == "INVALID_PREFERENCES"


def notice(secrecy: Secrecy = Secrecy.NONE, **overrides: str) -> Notification:
    return Notification(
        id="n-1",
        recipient_id="p-1",
        kind=NotificationKind.TASK_ASSIGNED,
        title=overrides.get("title", "Văn bản được giao cho bạn (chủ trì)"),
        body=overrides.get("body", "Số đến 12/2026: V/v <kế hoạch> & báo cáo"),
        resource="tasks/t-1",
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        source_event_id="ev-1",
        secrecy=secrecy,
    )


def test_an_e_mail_names_nothing_of_a_secret_document() -> None:
    email = compose(
        [notice(Secrecy.SECRET, body="Kế hoạch tác chiến")],
        name="Nguyễn Văn A",
        link_base="https://vanban.example.gov.vn",
        digest=False,
    )
    assert "Kế hoạch tác chiến" not in email.text + email.html + email.subject
    assert "https://vanban.example.gov.vn/tasks/t-1" in email.text


def test_the_html_escapes_what_the_notice_says() -> None:
    email = compose([notice()], name="A", link_base="https://x.gov.vn", digest=False)
    assert "&lt;kế hoạch&gt; &amp; báo cáo" in email.html
    assert "<kế hoạch>" not in email.html
    long_title = compose(
        [notice(title="Văn bản " * 40)], name="A", link_base="https://x.gov.vn", digest=False
    )
    assert len(long_title.subject) == 120 and long_title.subject.endswith("…")


def test_a_digest_gathers_the_days_notices_in_one_message() -> None:
    email = compose(
        [notice(), notice(body="Thứ hai")], name="A", link_base="https://x.gov.vn", digest=True
    )
    assert email.subject == "[Vanban] Tổng hợp 2 thông báo trong ngày"
    assert email.text.count("Xem: https://x.gov.vn/tasks/t-1") == 2

"""The signed-in person's inbox: the list, the live stream, read state."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import jwt
from fastapi import APIRouter, Body, Header, Path, Query, Request
from sse_starlette import EventSourceResponse

from vanban.contracts.notify.v1 import notify_pb2
from vanban.gateway.api.auth import Principal, presented_token
from vanban.gateway.api.convert.notifications import notification_out
from vanban.gateway.api.deps import Notify, Settings, Streams, allowed
from vanban.gateway.api.notice_stream import NoticeStream, parse_last_event_id
from vanban.gateway.api.openapi import BODY, PARAMETERS, SCOPED, UPSTREAM, answers
from vanban.gateway.api.schemas.notifications import (
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    ReadAll,
    ReadAllOut,
    UnreadCount,
)
from vanban.platform.caller import CALLER_METADATA_KEY
from vanban.platform.errors import UnauthenticatedError

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])

# API keys have no inbox: no key holds this scope.
Reader = Annotated[Principal, allowed("notifications:read")]
_READ_ALL = {
    "seen": {"summary": "Up to the newest notice shown", "value": {"up_to_sequence": 42}},
    "all": {"summary": "Every notice", "value": {}},
}
NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F-]+$")]


@router.get(
    "",
    response_model=NotificationPage,
    operation_id="listNotifications",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_PAGE_TOKEN"),
)
async def list_notifications(
    principal: Reader,
    notify: Notify,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=512)] = "",
) -> NotificationPage:
    """The signed-in person's notifications, newest first."""
    answer = await notify.stub.ListNotifications(
        notify_pb2.ListNotificationsRequest(page_size=page_size, page_token=page_token),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return NotificationPage(
        items=[notification_out(n) for n in answer.notifications],
        next_page_token=answer.next_page_token or None,
    )


@router.get(
    "/unread-count",
    response_model=UnreadCount,
    operation_id="countUnreadNotifications",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def count_unread(principal: Reader, notify: Notify) -> UnreadCount:
    """How many of the person's notifications are unread."""
    answer = await notify.stub.CountUnreadNotifications(
        notify_pb2.CountUnreadNotificationsRequest(),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return UnreadCount(unread=answer.unread, latest_sequence=answer.latest_sequence)


@router.post(
    "/read-all",
    response_model=ReadAllOut,
    operation_id="markAllNotificationsRead",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "INVALID_SEQUENCE"),
)
async def mark_all_read(
    principal: Reader,
    notify: Notify,
    body: Annotated[ReadAll | None, Body(openapi_examples=_READ_ALL)] = None,
) -> ReadAllOut:
    """Marks the person's notifications read: all, or those up to `up_to_sequence` (what the
    person has seen, so a notice that arrived since stays unread)."""
    up_to = body.up_to_sequence if body is not None and body.up_to_sequence else 0
    answer = await notify.stub.MarkAllNotificationsRead(
        notify_pb2.MarkAllNotificationsReadRequest(up_to_sequence=up_to),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return ReadAllOut(marked=answer.marked)


_PREFERENCES = {
    "evenings": {
        "summary": "Tasks by e-mail at once, the rest in the 17:30 digest, quiet at night",
        "value": {
            "email": {"task_assigned": "each", "incoming_registered": "off"},
            "quiet_start": "21:00",
            "quiet_end": "06:30",
            "digest_time": "17:30",
        },
    }
}


def preferences_out(chosen: notify_pb2.NotificationPreferences) -> PreferencesOut:
    return PreferencesOut(
        email=dict(chosen.email),
        quiet_start=chosen.quiet_start or None,
        quiet_end=chosen.quiet_end or None,
        digest_time=chosen.digest_time,
        effective_email=dict(chosen.effective_email),
    )


@router.get(
    "/preferences",
    response_model=PreferencesOut,
    operation_id="getNotificationPreferences",
    responses=answers(*SCOPED, *UPSTREAM),
)
async def get_preferences(principal: Reader, notify: Notify) -> PreferencesOut:
    """How the person's notices reach them by e-mail, per kind; quiet hours; digest time."""
    answer = await notify.stub.GetNotificationPreferences(
        notify_pb2.GetNotificationPreferencesRequest(),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return preferences_out(answer.preferences)


@router.put(
    "/preferences",
    response_model=PreferencesOut,
    operation_id="setNotificationPreferences",
    responses=answers(*SCOPED, *BODY, *UPSTREAM, "INVALID_PREFERENCES"),
)
async def set_preferences(
    principal: Reader,
    notify: Notify,
    body: Annotated[PreferencesIn, Body(openapi_examples=_PREFERENCES)],
) -> PreferencesOut:
    """Replaces the person's choices (what is left out returns to its default)."""
    answer = await notify.stub.UpdateNotificationPreferences(
        notify_pb2.UpdateNotificationPreferencesRequest(
            preferences=notify_pb2.NotificationPreferences(
                email=dict(body.email),
                quiet_start=body.quiet_start or "",
                quiet_end=body.quiet_end or "",
                digest_time=body.digest_time or "",
            )
        ),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return preferences_out(answer.preferences)


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    operation_id="markNotificationRead",
    responses=answers(*SCOPED, *PARAMETERS, *UPSTREAM, "NOTIFICATION_NOT_FOUND"),
)
async def mark_read(
    principal: Reader, notify: Notify, notification_id: NotificationId
) -> NotificationOut:
    """Marks one of the person's notifications read."""
    answer = await notify.stub.MarkNotificationRead(
        notify_pb2.MarkNotificationReadRequest(id=notification_id),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    return notification_out(answer.notification)


@router.get(
    "/stream",
    operation_id="streamNotifications",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": 'A stream of Server-Sent Events: first `unread` (`{"unread": n}`), '
            "then one `notification` per new notice (its JSON as in the list), the notice's "
            "sequence as the event id. Reconnect with `Last-Event-ID` to resume after it.",
            "content": {"text/event-stream": {}},
        },
        **answers(*SCOPED, *PARAMETERS, *UPSTREAM, "INVALID_SEQUENCE", "TOO_MANY_STREAMS"),
    },
)
async def stream_notifications(
    request: Request,
    principal: Reader,
    notify: Notify,
    streams: Streams,
    settings: Settings,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> EventSourceResponse:
    """New notifications of the signed-in person as they are recorded (Server-Sent Events).

    Without `Last-Event-ID` the stream starts with what comes next; with it, it first sends
    every notice after that one. It ends when the access token expires (or the session ends);
    reconnect with a fresh token and the last id."""
    after = parse_last_event_id(last_event_id)
    person_id = principal.caller.person_id
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + _seconds_left(request, settings.notification_stream_max_seconds)

    def fresh_metadata() -> tuple[tuple[str, str], ...]:
        # The caller token of the request lasts minutes; the stream may last an hour.
        return ((CALLER_METADATA_KEY, streams.caller_tokens.issue(principal.caller)),)

    async def fetch_after(sequence: int, limit: int) -> list[notify_pb2.Notification]:
        answer = await notify.stub.ListNotifications(
            notify_pb2.ListNotificationsRequest(
                after_sequence=sequence, oldest_first=True, page_size=limit
            ),
            metadata=fresh_metadata(),
            timeout=notify.timeout,
        )
        return list(answer.notifications)

    def still_signed_in() -> bool:
        session = principal.session
        if session is None:
            return True
        try:
            streams.revocations.check(
                person_id=person_id, version=session.session_version, family_id=session.family_id
            )
        except UnauthenticatedError:
            return False
        return True

    counted = await notify.stub.CountUnreadNotifications(
        notify_pb2.CountUnreadNotificationsRequest(),
        metadata=principal.metadata,
        timeout=notify.timeout,
    )
    listener = streams.hub.open(person_id)
    stream = NoticeStream(
        hub=streams.hub,
        listener=listener,
        fetch_after=fetch_after,
        clearance=principal.caller.clearance,
        ends_at=ends_at,
        still_signed_in=still_signed_in,
        check_every=settings.notification_stream_check_seconds,
    )
    # A client that claims more than was ever sent resumes from the newest notice.
    start = counted.latest_sequence if after is None else min(after, counted.latest_sequence)
    return EventSourceResponse(
        stream.events(after=start, unread=counted.unread),
        ping=int(settings.notification_stream_check_seconds),
        headers={"Cache-Control": "no-store"},
        # A client that stops reading is let go rather than held in memory.
        send_timeout=30,
    )


def _seconds_left(request: Request, longest: int) -> float:
    """Until the access token the stream was opened with expires, at most `longest`. The token
    was verified on the way in (admission); only its `exp` is read here."""
    token = presented_token(request.headers) or ""
    try:
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.InvalidTokenError:
        expires = None
    if not isinstance(expires, int | float):
        return float(longest)
    return max(0.0, min(float(longest), expires - time.time()))

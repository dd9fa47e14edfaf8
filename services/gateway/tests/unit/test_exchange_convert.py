"""The exchange inbox, deliveries and recalls as the API writes them: the contract's enums as
lower-case names, no more and no fewer, and what was not set as null."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from vanban.contracts.documents.v1 import documents_pb2 as docs
from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.gateway.api.convert.exchange import (
    BUSINESS_DOC_TYPE_NAME,
    INBOX_STATE,
    INBOX_STATE_NAME,
    TRANSPORT_STATE_NAME,
    answer_recall_request,
    deliveries_out,
    inbox_item_out,
    recall_out,
    register_request,
)
from vanban.gateway.api.schemas.exchange import (
    AnswerRecallIn,
    BusinessDocTypeName,
    InboxStateName,
    RegisterInboxItemIn,
    TransportStateName,
)
from vanban.platform.clearance import Secrecy


def as_json(model: Any) -> dict[str, Any]:
    """The body a client receives."""
    body: dict[str, Any] = json.loads(model.model_dump_json())
    return body


def test_the_api_names_of_the_enums_are_the_contracts_no_more_no_fewer() -> None:
    assert set(get_args(InboxStateName)) == set(INBOX_STATE_NAME.values()) == INBOX_STATE.keys()
    assert set(get_args(TransportStateName)) == set(TRANSPORT_STATE_NAME.values())
    assert set(get_args(BusinessDocTypeName)) == set(BUSINESS_DOC_TYPE_NAME.values())


def test_a_bare_inbox_item_is_nulls_not_empty_strings() -> None:
    body = as_json(inbox_item_out(pb.InboxItem(id="i1", state=pb.INBOX_STATE_DUPLICATE)))

    assert body["state"] == "duplicate"
    assert body["priority"] == "normal"
    assert body["business_doc_type"] == "new"
    for name in (
        "received_at",
        "issued_date",
        "signer",
        "file",
        "signer_certificate",
        "incoming_document_id",
        "reason",
        "duplicate_of",
        "handled_by",
        "handled_at",
        "due_date",
        "page_amount",
        "recall",
    ):
        assert body[name] is None, name
    assert body["sender"] == {"organ_id": "", "organ_name": ""}
    assert body["attachments"] == []


def test_a_business_doc_type_the_api_does_not_know_is_null() -> None:
    body = as_json(inbox_item_out(pb.InboxItem(state=pb.INBOX_STATE_RECEIVED, business_doc_type=9)))

    assert body["business_doc_type"] is None


def test_every_business_doc_type_has_its_name() -> None:
    names = [
        inbox_item_out(
            pb.InboxItem(state=pb.INBOX_STATE_RECEIVED, business_doc_type=n)
        ).business_doc_type
        for n in range(4)
    ]

    assert names == ["new", "recall", "update", "replace"]


def test_each_secrecy_level_reaches_the_request_by_the_contracts_value() -> None:
    sent = {
        level: register_request("i1", RegisterInboxItemIn(secrecy=level)).secrecy
        for level in Secrecy
    }

    assert sent == {
        Secrecy.NONE: docs.SECRECY_NONE,
        Secrecy.CONFIDENTIAL: docs.SECRECY_CONFIDENTIAL,
        Secrecy.SECRET: docs.SECRECY_SECRET,
        Secrecy.TOP_SECRET: docs.SECRECY_TOP_SECRET,
    }
    assert register_request("i1", RegisterInboxItemIn()).secrecy == docs.SECRECY_UNSPECIFIED


def test_a_delivery_without_statuses_or_acknowledgement() -> None:
    body = as_json(
        deliveries_out(
            pb.ListDeliveriesResponse(
                deliveries=[
                    pb.Delivery(
                        recipient=pb.Organ(organ_id="000.00.00.H98"),
                        transport_state=pb.TRANSPORT_STATE_PENDING,
                        package_id="p1",
                    )
                ]
            )
        )
    )

    assert body == {
        "deliveries": [
            {
                "recipient": {"organ_id": "000.00.00.H98", "organ_name": ""},
                "transport_state": "pending",
                "attempts": 0,
                "last_error": None,
                "acknowledged_at": None,
                "transport_reference": None,
                "package_id": "p1",
                "statuses": [],
            }
        ],
        "note": None,
    }


def stamp(year: int, month: int, day: int, hour: int) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(datetime(year, month, day, hour, tzinfo=UTC))
    return value


def test_a_recall_asked_and_not_answered_yet_has_null_answers() -> None:
    item = pb.InboxItem(
        state=pb.INBOX_STATE_REGISTERED,
        recall=pb.Recall(reason="Sai nơi nhận", requested_at=stamp(2026, 11, 3, 8)),
    )

    assert as_json(inbox_item_out(item))["recall"] == {
        "reason": "Sai nơi nhận",
        "requested_at": "2026-11-03T08:00:00Z",
        "answer": None,
        "answer_reason": None,
        "answered_by": None,
        "answered_at": None,
    }


def test_an_empty_recall_that_is_set_is_still_a_recall() -> None:
    # Presence, not content, says a recall was asked.
    item = pb.InboxItem(state=pb.INBOX_STATE_REGISTERED, recall=pb.Recall())

    assert as_json(inbox_item_out(item))["recall"] == {
        "reason": "",
        "requested_at": None,
        "answer": None,
        "answer_reason": None,
        "answered_by": None,
        "answered_at": None,
    }


@pytest.mark.parametrize("answer", ["agreed", "refused"])
def test_each_answer_to_a_recall_keeps_its_name(answer: str) -> None:
    recall = pb.Recall(
        reason="Sai nơi nhận",
        requested_at=stamp(2026, 11, 3, 8),
        answer=answer,
        answer_reason="Đã triển khai" if answer == "refused" else "",
        answered_by="clerk",
        answered_at=stamp(2026, 11, 3, 9),
    )

    body = as_json(recall_out(recall))

    assert body["answer"] == answer
    assert body["answer_reason"] == ("Đã triển khai" if answer == "refused" else None)
    assert (body["answered_by"], body["answered_at"]) == ("clerk", "2026-11-03T09:00:00Z")


def test_an_answer_the_contract_does_not_spell_out_is_not_read_as_unanswered() -> None:
    with pytest.raises(KeyError):
        recall_out(pb.Recall(reason="Sai nơi nhận", answer="maybe"))


def test_an_answer_to_a_recall_reaches_the_request() -> None:
    refused = answer_recall_request("i1", AnswerRecallIn(agree=False, reason="Đã triển khai"))
    agreed = answer_recall_request("i1", AnswerRecallIn(agree=True))

    assert (refused.id, refused.agree, refused.reason) == ("i1", False, "Đã triển khai")
    assert (agreed.id, agreed.agree, agreed.reason) == ("i1", True, "")

"""The records as the API writes them: the contract's enums as lower-case names, no more and no
fewer; what was not set as null; a permanent retention as null years; and the names exports are
saved under."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

from vanban.contracts.archive.v1 import records_pb2 as pb
from vanban.gateway.api.convert.records import (
    DISPOSITION_STATE_NAME,
    DOSSIER_STATE,
    DOSSIER_STATE_NAME,
    EXPORT_FORMAT,
    EXPORT_MEDIA_TYPE,
    XLSX,
    disposition_out,
    document_out,
    dossier_list_type,
    dossier_out,
    entry_out,
)
from vanban.gateway.api.dossier_export import attachment
from vanban.gateway.api.schemas.records import (
    DispositionStateName,
    DossierStateName,
    ExportFormatName,
)


def as_json(model: Any) -> dict[str, Any]:
    """The body a client receives."""
    body: dict[str, Any] = json.loads(model.model_dump_json())
    return body


def test_the_api_names_of_the_enums_are_the_contracts_no_more_no_fewer() -> None:
    assert set(get_args(DossierStateName)) == set(DOSSIER_STATE_NAME.values())
    assert set(get_args(DossierStateName)) == DOSSIER_STATE.keys()
    assert set(get_args(DispositionStateName)) == set(DISPOSITION_STATE_NAME.values())
    assert set(get_args(ExportFormatName)) == EXPORT_FORMAT.keys() == EXPORT_MEDIA_TYPE.keys()


def test_a_bare_dossier_is_nulls_not_empty_strings() -> None:
    body = as_json(dossier_out(pb.Dossier(id="d1", state=pb.DOSSIER_STATE_DISPOSED)))

    assert body["state"] == "disposed"
    for name in (
        "retention_years",
        "start_date",
        "end_date",
        "opened_at",
        "closed_at",
        "handover_due",
        "handed_over_at",
        "handed_over_by",
        "handover_record",
        "retention_ends",
    ):
        assert body[name] is None, name
    assert (body["legal_hold"], body["documents"]) == (False, [])


def test_a_dossier_state_the_contract_leaves_unspecified_is_the_archives_fault() -> None:
    with pytest.raises(KeyError):
        dossier_out(pb.Dossier(id="d1"))


def test_a_bare_entry_is_unapproved_and_permanent() -> None:
    body = as_json(entry_out(pb.DossierListEntry(code="01.TCCB", retention="01")))

    assert (body["approved"], body["approved_at"], body["approved_by"]) == (False, None, None)
    assert (body["retention_years"], body["dossier_id"]) == (None, None)


def test_a_bare_disposition_is_nulls_not_empty_strings() -> None:
    body = as_json(
        disposition_out(pb.Disposition(id="x", state=pb.DISPOSITION_STATE_REFUSED, reason="r"))
    )

    assert body["state"] == "refused"
    for name in (
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "executed_by",
        "executed_at",
        "record",
    ):
        assert body[name] is None, name


def test_a_documents_secrecy_is_none_when_unspecified() -> None:
    body = as_json(document_out(pb.DossierDocument(kind="outgoing", document_id="d")))

    assert (body["secrecy"], body["identifier"], body["issued_date"]) == ("none", None, None)


@pytest.mark.parametrize(
    "document",
    [
        pb.DossierDocument(kind="incoming", secrecy="classified"),
        pb.DossierDocument(kind="task", secrecy="none"),
        pb.DossierDocument(kind="", secrecy="none"),
    ],
    ids=["an unknown secrecy", "an unknown kind", "no kind"],
)
def test_a_document_the_contract_does_not_spell_out_is_refused_not_shown(
    document: pb.DossierDocument,
) -> None:
    # Never shown as something it is not (a secret document as not secret).
    with pytest.raises((KeyError, ValueError)):
        document_out(document)


@pytest.mark.parametrize(
    ("content_type", "filename", "media_type"),
    [
        ("text/csv", "danh-muc.bin", "text/csv"),
        ("Text/CSV; charset=utf-8", None, "text/csv"),
        ("application/csv", None, "text/csv"),
        (XLSX, None, XLSX),
        ("application/octet-stream", "Danh mục 2026.XLSX", XLSX),
        (None, "danh-muc.csv", "text/csv"),
        ("application/json", "danh-muc.json", None),
        ("application/vnd.ms-excel", "danh-muc.xls", None),
        (None, None, None),
    ],
)
def test_a_dossier_list_is_csv_or_xlsx_by_media_type_then_by_name(
    content_type: str | None, filename: str | None, media_type: str | None
) -> None:
    assert dossier_list_type(content_type, filename) == media_type


@pytest.mark.parametrize(
    ("name", "header"),
    [
        (
            "ho-so-01.TCCB.zip",
            "attachment; filename=\"ho-so-01.TCCB.zip\"; filename*=UTF-8''ho-so-01.TCCB.zip",
        ),
        (
            "Đơn vị.pdf",
            "attachment; filename=\"Don_vi.pdf\"; filename*=UTF-8''%C4%90%C6%A1n%20v%E1%BB%8B.pdf",
        ),
        (
            '../a"b\r\n.zip',
            "attachment; filename=\"a_b__.zip\"; filename*=UTF-8''_a%22b__.zip",
        ),
        ("", "attachment; filename=\"x.zip\"; filename*=UTF-8''x.zip"),
        ("Hồ sơ", "attachment; filename=\"Ho_so\"; filename*=UTF-8''H%E1%BB%93%20s%C6%A1"),
        ("文件", "attachment; filename=\"x.zip\"; filename*=UTF-8''%E6%96%87%E4%BB%B6"),
    ],
)
def test_an_export_is_saved_under_a_safe_name(name: str, header: str) -> None:
    assert attachment(name, fallback="x.zip") == header


def test_a_long_name_is_cut_to_what_a_file_system_keeps_with_its_extension() -> None:
    header = attachment("a" * 400 + ".zip", fallback="x.zip")

    assert f'filename="{"a" * 251}.zip";' in header
    assert header.endswith(f"''{'a' * 251}.zip")

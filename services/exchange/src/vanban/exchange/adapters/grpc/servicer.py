from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import grpc

from vanban.contracts.exchange.v1 import exchange_pb2 as pb
from vanban.contracts.exchange.v1 import exchange_pb2_grpc
from vanban.exchange.service import INBOX_FROM_PB, ExchangeService
from vanban.platform.caller import current_caller
from vanban.platform.paging import bad_token, decode_token, encode_token

CHUNK = 256 * 1024


def _position(token: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    position = decode_token(token)
    try:
        return datetime.fromisoformat(position["at"]), position["id"]
    except (KeyError, ValueError):
        raise bad_token() from None


class ExchangeServicer(exchange_pb2_grpc.ExchangeServiceServicer):
    def __init__(self, service: ExchangeService) -> None:
        self._service = service

    async def ListInbox(
        self, request: pb.ListInboxRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListInboxResponse:
        state = INBOX_FROM_PB.get(request.state) if request.state else None
        items, last = await self._service.list_inbox(
            current_caller(),
            state=state,
            page_size=request.page_size,
            after=_position(request.page_token),
        )
        token = encode_token({"at": last[0].isoformat(), "id": last[1]}) if last else ""
        return pb.ListInboxResponse(items=items, next_page_token=token)

    async def GetInboxItem(
        self, request: pb.GetInboxItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetInboxItemResponse:
        return pb.GetInboxItemResponse(
            item=await self._service.get_item(current_caller(), request.id)
        )

    async def RegisterInboxItem(
        self, request: pb.RegisterInboxItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterInboxItemResponse:
        item, document = await self._service.register(
            current_caller(),
            request.id,
            document_type=request.document_type,
            secrecy=request.secrecy,
        )
        return pb.RegisterInboxItemResponse(item=item, document=document)

    async def RejectInboxItem(
        self, request: pb.RejectInboxItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.RejectInboxItemResponse:
        item = await self._service.reject(current_caller(), request.id, reason=request.reason)
        return pb.RejectInboxItemResponse(item=item)

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDeliveriesResponse:
        return await self._service.deliveries(current_caller(), request.outgoing_document_id)

    async def RecallOutgoingDocument(
        self, request: pb.RecallOutgoingDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecallOutgoingDocumentResponse:
        deliveries = await self._service.recall(
            current_caller(), request.outgoing_document_id, reason=request.reason
        )
        return pb.RecallOutgoingDocumentResponse(deliveries=deliveries)

    async def AnswerRecall(
        self, request: pb.AnswerRecallRequest, context: grpc.aio.ServicerContext
    ) -> pb.AnswerRecallResponse:
        item = await self._service.answer_recall(
            current_caller(), request.id, agree=request.agree, reason=request.reason
        )
        return pb.AnswerRecallResponse(item=item)

    async def GetPackageXml(
        self, request: pb.GetPackageXmlRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GetPackageXmlResponse]:
        info, data = await self._service.package_xml(current_caller(), request.id)
        yield pb.GetPackageXmlResponse(info=info)
        for start in range(0, len(data), CHUNK):
            yield pb.GetPackageXmlResponse(chunk=data[start : start + CHUNK])

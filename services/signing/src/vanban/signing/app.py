"""The one wiring place of the signing service (ADR 0011).

At start: the token session (one per process, kept), the agency CA and organisation key (made on
an agency's first start), the font of the visible signatures, the TSA; then the server."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from vanban.contracts.signing.v1 import signing_pb2, signing_pb2_grpc
from vanban.platform.caller import Caller
from vanban.platform.service import ServiceHost
from vanban.signing.adapters import pades, tsa
from vanban.signing.adapters.db.tables import platform_tables
from vanban.signing.adapters.events import issued_consumer
from vanban.signing.adapters.grpc.servicer import SigningServicer
from vanban.signing.adapters.keys import KeyStore
from vanban.signing.adapters.peers import GrpcPeers
from vanban.signing.adapters.pool import SigningPool, WorkerSetup
from vanban.signing.adapters.token import Token, TokenConfig, TokenError
from vanban.signing.adapters.trust import TrustDirectory, export_certificate
from vanban.signing.domain.certificates import der
from vanban.signing.service import SERVICE_ACTOR, Options, SigningService
from vanban.signing.settings import SigningSettings

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = signing_pb2.DESCRIPTOR.services_by_name["SigningService"].full_name


def build(settings: SigningSettings) -> ServiceHost:
    host = ServiceHost(settings, service="signing", tables=platform_tables, migrations=MIGRATIONS)
    token = Token(
        TokenConfig(
            module=settings.pkcs11_module,
            label=settings.token_label,
            pin=settings.token_pin.get_secret_value(),
        )
    )

    def engine() -> AsyncEngine:
        assert host.engine is not None
        return host.engine

    keys = KeyStore(
        token=token,
        engine=engine,
        agency_name=settings.agency_name or "Cơ quan " + settings.agency_code,
        agency_code=settings.agency_code,
        trust_directory=TrustDirectory(settings.trust_dir) if settings.trust_dir else None,
    )
    signer = pades.PadesSigner(
        token=token,
        font=settings.font_path,
        timestamper=None,
    )
    peers = GrpcPeers(channel=host.channel, service_token=lambda: host.identity.token())
    service = SigningService(
        keys=keys,
        signer=signer,
        peers=peers,
        uow_factory=host.uow,
        options=Options(
            agency_name=keys.agency_name,
            location=settings.location,
            seal_mm=settings.seal_mm,
            leader_anchor=settings.leader_anchor,
            max_pdf_bytes=settings.max_pdf_bytes,
        ),
    )

    async def start() -> None:
        try:
            await asyncio.to_thread(token.open_session)
        except TokenError as exc:
            # A wrong PIN, a missing token or module: said in one line, and the service stops.
            logger.error(
                "the signing token cannot be used",
                extra={"reason": exc.reason, "detail": exc.message},
            )
            raise SystemExit(2) from None
        await keys.start()
        if settings.ca_export:
            await asyncio.to_thread(export_certificate, keys.ca.root, settings.ca_export)
        signer.font = await asyncio.to_thread(
            pades.prepare_font, settings.font_path, settings.work_dir
        )
        local = None
        if settings.pades_level == "B-T":
            if settings.tsa_url:
                signer.timestamper = tsa.remote_tsa(settings.tsa_url)
            else:
                local = await keys.timestamping()
                signer.timestamper = tsa.TokenTimeStamper(
                    token=token, certificate=local.certificate, chain=local.chain
                )
        if settings.workers:
            pool = SigningPool(
                workers=settings.workers,
                level=signer.level,
                setup=WorkerSetup(
                    token=token.config,
                    font=signer.font,
                    softhsm_conf=os.environ.get("SOFTHSM2_CONF"),
                    tsa_url=settings.tsa_url if settings.pades_level == "B-T" else "",
                    tsa_certificate=der(local.certificate) if local else b"",
                    tsa_chain=tuple(der(c) for c in local.chain) if local else (),
                ),
            )
            await asyncio.to_thread(pool.start)
            service.signer = pool

            async def stop_pool() -> None:
                await asyncio.to_thread(pool.close)

            host.on_shutdown(stop_pool)

    host.on_start(start)
    host.grpc.add_service(
        signing_pb2_grpc.add_SigningServiceServicer_to_server,
        SigningServicer(
            service, max_pdf_bytes=settings.max_pdf_bytes, max_xml_bytes=settings.max_xml_bytes
        ),
        SERVICE_NAME,
    )
    itself = Caller(agency_code=settings.agency_code, subject=SERVICE_ACTOR, is_service=True)
    if settings.auto_agency_signature:
        host.add_consumer(
            lambda js: issued_consumer(
                js=js,
                uow_factory=host.uow,
                max_deliver=settings.consumer_max_deliver,
                sign=lambda document: service.sign_issued(document, itself),
            )
        )
    return host


async def main(settings: SigningSettings, stop: asyncio.Event) -> None:
    await build(settings).run(stop)

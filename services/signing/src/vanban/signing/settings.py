from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from vanban.platform.settings import DatabaseSettingsMixin, ServiceSettings

MIB = 1024 * 1024


class SigningSettings(ServiceSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(
        env_prefix="VANBAN_SIGNING_", extra="ignore", populate_by_name=True
    )

    # The PKCS#11 module of the token that holds every private key: SoftHSM2 in the embedded
    # default and tests, the HSM's or USB token's module in production.
    pkcs11_module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    # The token, by label (slot numbers change when a SoftHSM token is initialised).
    token_label: str = "vanban"
    # The user PIN; a secret kept with the agency's others, never in the repository.
    token_pin: SecretStr
    # RFC 3161 timestamping authority for PAdES B-T; empty: the service's own local TSA,
    # certified by the agency CA (embedded default).
    tsa_url: str = ""
    # The PAdES level of the signatures made: B-B or B-T.
    pades_level: str = "B-T"
    # The Vietnamese-capable TrueType font of the signatures' visible text.
    font_path: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    # Where the font rescaled for pyHanko is kept (the system temp dir by default).
    work_dir: Path | None = None
    # Sign the agency signature of every document issued through the approval chain that
    # carries a leader signature, as soon as it is issued.
    auto_agency_signature: bool = True
    max_pdf_bytes: int = Field(default=50 * MIB, gt=0)
    # Within gRPC's message size (8 MiB), with room for the signature.
    max_xml_bytes: int = Field(default=7 * MIB, gt=0, le=7 * MIB)
    # The agency's name in certificates (O=); the directory's by default.
    agency_name: str = ""
    # The place named in signatures (/Location).
    location: str = "Việt Nam"
    # The seal's diameter at real size, in millimetres (Decree 30: real size).
    seal_mm: float = Field(default=36.0, gt=10, lt=80)
    # The text a template writes where the leader signs, when it has no empty signature field
    # named LanhDao.
    leader_anchor: str = "{{chu_ky}}"
    consumer_max_deliver: int = Field(default=20, gt=0)
    # Extra trust roots: every CA certificate in this directory's *.pem files (the national
    # roots in production; in the embedded default, the CAs of the other agencies it runs).
    trust_dir: Path | None = None
    # Where the agency CA's certificate is written at start, for the others' trust directory
    # (the embedded default shares its agencies' CAs this way); unset: not written.
    ca_export: Path | None = None
    # Processes that make PAdES signatures, each with its own token session (signing is CPU
    # work that holds the GIL: one per core); 0 signs in the service's own process.
    workers: int = Field(default=2, ge=0, le=32)

    @field_validator("pades_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in ("B-B", "B-T"):
            raise ValueError("pades_level must be B-B or B-T")
        return value

    @field_validator("token_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not value.strip() or len(value) > 32:
            raise ValueError("token_label must be 1-32 characters")
        return value

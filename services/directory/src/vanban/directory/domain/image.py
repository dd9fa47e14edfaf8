"""Signature and seal images: what the directory accepts before anything is stored."""

from __future__ import annotations

from vanban.platform.errors import invalid_fields

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 1024 * 1024
# After the signature every PNG starts with its IHDR chunk: 4 bytes of length, then the type.
_IHDR_AT = slice(len(PNG_SIGNATURE) + 4, len(PNG_SIGNATURE) + 8)


def check_png(data: bytes, *, field: str = "png") -> None:
    """A PNG file (transparent, as Decree 30 asks for signature and seal images) of at most
    1 MiB; checked before anything is sent to the archive."""
    if not data:
        problem = "is required"
    elif len(data) > MAX_IMAGE_BYTES:
        problem = f"is {len(data)} bytes; at most {MAX_IMAGE_BYTES} (1 MiB)"
    elif not data.startswith(PNG_SIGNATURE) or data[_IHDR_AT] != b"IHDR":
        problem = "is not a PNG image"
    else:
        return
    raise invalid_fields({field: problem}, reason="INVALID_IMAGE")

"""Damage to what SeaweedFS keeps on disk, made on purpose to prove that the archive notices it.

`weed mini -dir=DIR` keeps each bucket's bytes in volume files `DIR/<bucket>_<n>.dat`: needles
laid end to end, each a header, the bytes of one chunk as they were uploaded, some flags and
fields, and a CRC-32C of those bytes. An object of more than a few MiB is split into several
chunks, not necessarily stored in order. Random bytes are stored as they are; bytes that
compress well (text, or an `application/octet-stream` upload of them) may be stored gzipped
and cannot be found this way. The volume server reads the file on every request, so a change
is seen at once, without a restart.
"""

from __future__ import annotations

from pathlib import Path

# Long enough that random content occurs once in all volume files.
_WINDOW = 64
# Between a needle's bytes and its CRC, SeaweedFS 4.48 writes a flags byte, a last-modified
# time and a TTL (8 bytes for an S3 chunk); the CRC is searched for in this span, not assumed.
_CRC_SEARCH = 64


def corrupt_stored_object(data_dir: Path, content: bytes, *, keep_checksum: bool = False) -> Path:
    """Flips every bit of one byte near the middle of `content` where the volume files hold it,
    in place, and returns the volume file changed.

    Plain, the chunk no longer matches its CRC: the volume server refuses to serve it, as it
    would after bit rot. With `keep_checksum` the CRC is rewritten to match the altered bytes,
    as someone editing the file on purpose would, and the server serves them altered; the
    content must then fit in one chunk (a few hundred KiB do).

    The content is found by a window of its bytes, which must occur exactly once: use random
    content.
    """
    volumes = {path: path.read_bytes() for path in sorted(data_dir.rglob("*.dat"))}
    found: list[int] = []
    # The middle may fall on the boundary of two chunks, whose needles lie apart: a little
    # further on, the window lies within one.
    for middle in _around(len(content) // 2, len(content)):
        start = max(0, middle - _WINDOW // 2)
        window = content[start : start + _WINDOW]
        hits = [(path, at) for path, data in volumes.items() for at in _occurrences(data, window)]
        found.append(len(hits))
        if len(hits) == 1:
            break
    else:
        raise AssertionError(
            f"the content should occur once in the volume files under {data_dir}; "
            f"windows of it were found {found} times"
        )
    path, at = hits[0]
    target = at + (middle - start)
    stored = volumes[path]
    with path.open("r+b") as volume:
        if keep_checksum:
            begin = target - middle
            end = begin + len(content)
            if stored[begin:end] != content:
                raise AssertionError(
                    "the content is split into chunks: keep it to a few hundred KiB"
                )
            crc_at = stored.find(_crc32c(content).to_bytes(4, "big"), end, end + _CRC_SEARCH)
            if crc_at < 0:
                raise AssertionError(f"no CRC of the content follows it in {path}")
            altered = bytearray(content)
            altered[middle] ^= 0xFF
            volume.seek(crc_at)
            volume.write(_crc32c(bytes(altered)).to_bytes(4, "big"))
        volume.seek(target)
        volume.write(bytes([stored[target] ^ 0xFF]))
    return path


def _around(middle: int, size: int) -> list[int]:
    steps = (0, 4099, -4099, 2 * 4099, -2 * 4099)
    return [middle + step for step in steps if 0 <= middle + step < size]


def _occurrences(haystack: bytes, needle: bytes) -> list[int]:
    found: list[int] = []
    at = haystack.find(needle)
    while at >= 0:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum SeaweedFS keeps per needle; slow, for test sizes."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

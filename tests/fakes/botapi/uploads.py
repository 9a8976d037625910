"""Uploaded files: multipart bodies as HTTP clients send them, and image sizes."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import struct

from tests.fakes.botapi.model import UploadedFile, _bad


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Very small PNG/GIF/JPEG/WEBP/BMP sniffer; ``None`` if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        idx = 2
        while idx + 9 < len(data):
            if data[idx] != 0xFF:
                idx += 1
                continue
            marker = data[idx + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD):
                height, width = struct.unpack(">HH", data[idx + 5 : idx + 9])
                return int(width), int(height)
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                idx += 2
                continue
            (seg_len,) = struct.unpack(">H", data[idx + 2 : idx + 4])
            idx += 2 + int(seg_len)
        return 512, 512
    return None


def _html5_unescape_filename(name: str) -> str:
    # httpx / browsers percent-escape these characters in multipart filenames (HTML5 rules)
    return name.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise _bad("can't parse multipart/form-data request")
    fields: dict[str, str] = {}
    uploads: dict[str, UploadedFile] = {}
    parts = msg.get_payload()
    assert isinstance(parts, list)
    for part in parts:
        if not isinstance(part, email.message.Message):
            continue
        raw_name = part.get_param("name", header="content-disposition")
        if raw_name is None:
            continue
        name = email.utils.collapse_rfc2231_value(raw_name)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", "replace")
        else:
            uploads[name] = UploadedFile(
                field=name,
                filename=_html5_unescape_filename(filename),
                content_type=part.get_content_type(),
                content=data,
            )
    return fields, uploads

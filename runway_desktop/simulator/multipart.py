"""multipart/form-data parsing with the stdlib `email` package (`cgi` is gone in 3.13)."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import EmailMessage


class MultipartError(ValueError):
    pass


def file_part(content_type: str | None, body: bytes, field: str = "file") -> bytes | None:
    """The bytes of the form part named `field`, None when the form has no such part.

    Raises MultipartError when the body is not a multipart form at all.
    """
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("Content-Type must be multipart/form-data")
    if "boundary=" not in content_type.lower():
        raise MultipartError("multipart boundary missing")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise MultipartError("malformed multipart body")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return None

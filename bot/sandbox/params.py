"""Bot API request parameters, whatever way they were encoded.

Telegram accepts a query string, a JSON body, an urlencoded form or multipart
form data. In forms every value is a string and complex values (reply_markup,
allowed_updates, entities…) are JSON text, so readers here coerce per use
instead of guessing types up front.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from bot.sandbox.errors import bad_request

ATTACH_PREFIX = "attach://"


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed access to one call's parameters (values plus uploaded file parts)."""

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, Upload] | None = None):
        self.values = dict(values)
        self.files = dict(files or {})

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.files

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def require_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def get_json(self, name: str) -> Any:
        """A JSON-valued parameter: native in JSON bodies, JSON text in forms."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def get_file(self, name: str) -> Upload | str | None:
        """A file parameter: an uploaded part (direct or ``attach://``) or a string id/URL."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value and value.startswith(ATTACH_PREFIX):
            attached = self.files.get(value.removeprefix(ATTACH_PREFIX))
            if attached is None:
                raise bad_request(f"file {value} not found in the request")
            return attached
        return value

    def summary(self) -> dict[str, Any]:
        """Parameters as recorded in the action log: JSON values decoded, files described."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, str) and value[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            out[key] = value
        for key, upload in self.files.items():
            out[key] = {
                "file_name": upload.filename,
                "mime_type": upload.content_type,
                "file_size": len(upload.data),
            }
        return out


async def read_request(request: web.Request) -> Params:
    """Collect parameters from the query string and any supported body encoding."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if isinstance(body, dict):
                values.update(body)
        elif request.content_type == "multipart/form-data":
            await _read_multipart(await request.multipart(), values, files)
        else:
            values.update((k, v) for k, v in (await request.post()).items() if isinstance(v, str))
    return Params(values, files)


async def read_multipart(reader: MultipartReader) -> Params:
    """Parameters of a multipart body read on the client side (webhook replies)."""
    values: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    await _read_multipart(reader, values, files)
    return Params(values, files)


async def _read_multipart(
    reader: MultipartReader, values: dict[str, Any], files: dict[str, Upload]
) -> None:
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.filename is not None:
            files[part.name] = Upload(
                filename=part.filename,
                content_type=part.headers.get("Content-Type", "application/octet-stream"),
                data=bytes(await part.read(decode=True)),
            )
        else:
            values[part.name] = await part.text()

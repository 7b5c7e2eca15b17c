"""Files and Uploads: storage, processing status and the Uploads API's part assembly."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finetune_kit.testing._clock import Clock
from finetune_kit.testing._content import FileAnalysis, analyse
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._wire import bad_request, not_found, require_str

__all__ = ["FileStore", "StoredFile", "StoredUpload"]

PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
MAX_FILE_BYTES = 512 * 1024**2
MAX_UPLOAD_BYTES = 8 * 1024**3
MAX_PART_BYTES = 64 * 1024**2
UPLOAD_TTL = 3600
PROCESSING_SECONDS = 2.0


@dataclass
class StoredFile:
    """A file held by the emulator.

    Attributes:
        id: ``file-…``.
        filename: The name it was uploaded with.
        purpose: ``fine-tune``, ``fine-tune-results``, ...
        content: Its bytes.
        created_at: Emulated Unix time of the upload.
        analysis: The fine-tuning check (``fine-tune`` files only).
    """

    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: float
    analysis: FileAnalysis | None = None

    def status(self, now: float) -> str:
        """``uploaded`` while being processed, then ``processed`` or ``error``."""
        if self.analysis is None:
            return "processed"
        if now < self.created_at + PROCESSING_SECONDS:
            return "uploaded"
        return "error" if self.analysis.error else "processed"

    def to_api(self, now: float) -> dict[str, Any]:
        """The File object as the API returns it."""
        status = self.status(now)
        details = self.analysis.error if self.analysis and status == "error" else None
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": int(self.created_at),
            "expires_at": None,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": status,
            "status_details": details,
        }


@dataclass
class StoredUpload:
    """An Upload in progress (Uploads API).

    Attributes:
        id: ``upload_…``.
        filename: Name of the file it will become.
        purpose: Purpose of that file.
        size: Size announced at creation (``bytes`` in the API).
        mime_type: MIME type announced at creation.
        created_at: Emulated Unix time of creation.
        status: ``pending``, ``completed``, ``cancelled`` or ``expired``.
        parts: Part id -> bytes, in arrival order.
        file: The File created on completion.
    """

    id: str
    filename: str
    purpose: str
    size: int
    mime_type: str
    created_at: float
    status: str = "pending"
    parts: dict[str, bytes] = field(default_factory=dict)
    file: StoredFile | None = None

    @property
    def expires_at(self) -> float:
        """When a pending upload expires."""
        return self.created_at + UPLOAD_TTL

    def to_api(self, now: float) -> dict[str, Any]:
        """The Upload object as the API returns it."""
        if self.status == "pending" and now >= self.expires_at:
            self.status = "expired"
        return {
            "id": self.id,
            "object": "upload",
            "bytes": self.size,
            "created_at": int(self.created_at),
            "expires_at": int(self.expires_at),
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "file": self.file.to_api(now) if self.file else None,
        }


def _check_purpose(purpose: str, filename: str) -> None:
    if purpose not in PURPOSES:
        raise bad_request(
            f"Invalid value for 'purpose': {purpose!r}."
            f" Expected one of: {', '.join(sorted(PURPOSES))}.",
            param="purpose",
        )
    if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
        raise bad_request("Invalid file format for Fine-Tuning API. Must be .jsonl", param="file")


class FileStore:
    """All files and uploads of one emulator. Callers hold the emulator's lock.

    Args:
        clock: The emulated clock.
        ids: The id generator.
    """

    def __init__(self, clock: Clock, ids: IdMaker) -> None:
        self._clock = clock
        self._ids = ids
        self.files: dict[str, StoredFile] = {}
        self.uploads: dict[str, StoredUpload] = {}

    def add(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        """Store a file (already checked) and start its processing."""
        analysis = analyse(content) if purpose == "fine-tune" else None
        stored = StoredFile(
            id=self._ids.make("file-", 22),
            filename=filename,
            purpose=purpose,
            content=content,
            created_at=self._clock.now(),
            analysis=analysis,
        )
        self.files[stored.id] = stored
        return stored

    def create(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        """``POST /files``: check the request and store the file.

        Raises:
            ApiError: 400 for a bad purpose, a non-JSONL fine-tune file or an oversize file.
        """
        _check_purpose(purpose, filename)
        if len(content) > MAX_FILE_BYTES:
            raise bad_request("File is too large: the Files API accepts up to 512 MB; use Uploads.")
        return self.add(filename, purpose, content)

    def get(self, file_id: str) -> StoredFile:
        """A file by id.

        Raises:
            ApiError: 404 when there is no such file.
        """
        stored = self.files.get(file_id)
        if stored is None:
            raise not_found(f"No such File object: {file_id}")
        return stored

    def listed(self, purpose: str | None, order: str) -> list[StoredFile]:
        """Files in API order (``desc``: newest first), optionally of one purpose."""
        items = [f for f in self.files.values() if purpose is None or f.purpose == purpose]
        return items if order == "asc" else items[::-1]

    def delete(self, file_id: str) -> dict[str, Any]:
        """``DELETE /files/{id}``."""
        self.get(file_id)
        del self.files[file_id]
        return {"id": file_id, "object": "file", "deleted": True}

    def create_upload(self, body: Mapping[str, Any]) -> StoredUpload:
        """``POST /uploads``.

        Raises:
            ApiError: 400 for missing or invalid parameters.
        """
        filename = require_str(body, "filename")
        purpose = require_str(body, "purpose")
        mime_type = require_str(body, "mime_type")
        size = body.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad_request("Missing or invalid parameter: 'bytes'.", param="bytes")
        _check_purpose(purpose, filename)
        if size > MAX_UPLOAD_BYTES:
            raise bad_request("An Upload can hold at most 8 GB.", param="bytes")
        upload = StoredUpload(
            id=self._ids.make("upload_"),
            filename=filename,
            purpose=purpose,
            size=size,
            mime_type=mime_type,
            created_at=self._clock.now(),
        )
        self.uploads[upload.id] = upload
        return upload

    def pending_upload(self, upload_id: str) -> StoredUpload:
        """An upload that can still take parts or be completed.

        Raises:
            ApiError: 404 for an unknown id, 400 when it is no longer pending.
        """
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise not_found(f"No such Upload object: {upload_id}")
        upload.to_api(self._clock.now())  # refreshes the expiry
        if upload.status != "pending":
            raise bad_request(f"Upload {upload_id} is {upload.status}; it is no longer pending.")
        return upload

    def add_part(self, upload_id: str, data: bytes) -> dict[str, Any]:
        """``POST /uploads/{id}/parts``."""
        upload = self.pending_upload(upload_id)
        if len(data) > MAX_PART_BYTES:
            raise bad_request("A part can hold at most 64 MB.", param="data")
        part_id = self._ids.make("part_")
        upload.parts[part_id] = data
        return {
            "id": part_id,
            "object": "upload.part",
            "created_at": int(self._clock.now()),
            "upload_id": upload_id,
        }

    def complete(self, upload_id: str, body: Mapping[str, Any]) -> StoredUpload:
        """``POST /uploads/{id}/complete``: join the parts in the given order into a File.

        Raises:
            ApiError: 400 for unknown parts, a size mismatch or a wrong md5.
        """
        upload = self.pending_upload(upload_id)
        part_ids = body.get("part_ids")
        if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
            raise bad_request("Missing required parameter: 'part_ids'.", param="part_ids")
        unknown = [p for p in part_ids if p not in upload.parts]
        if unknown:
            raise bad_request(f"Unknown part id(s) for this upload: {', '.join(unknown)}.")
        content = b"".join(upload.parts[p] for p in part_ids)
        if len(content) != upload.size:
            raise bad_request(
                f"The number of bytes uploaded ({len(content)}) does not match the number of"
                f" bytes specified when creating the Upload ({upload.size}).",
                param="part_ids",
            )
        md5 = body.get("md5")
        if md5 and hashlib.md5(content, usedforsecurity=False).hexdigest() != md5:
            raise bad_request("The md5 checksum does not match the uploaded bytes.", param="md5")
        upload.file = self.add(upload.filename, upload.purpose, content)
        upload.status = "completed"
        return upload

    def cancel_upload(self, upload_id: str) -> StoredUpload:
        """``POST /uploads/{id}/cancel``."""
        upload = self.pending_upload(upload_id)
        upload.status = "cancelled"
        return upload

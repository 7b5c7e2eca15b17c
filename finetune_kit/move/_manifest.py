"""The migrations manifest: ``ARCHIVE_DIR/migrations.json``, written atomically after every change.

Beside the archive's own ``manifest.json`` (which only ``archive`` writes), it records every
migration of an archived job to a target ``provider:model``::

    {"format": "finetune-kit-migrations", "version": 1, "updated_at": "...",
     "targets": {"together:openai/gpt-oss-20b": {"ftjob-abc": {<migration>}, ...}, ...}}

A migration is saved as ``creating`` before its files are uploaded and its job is created,
and as ``created`` (with the target job's id) right after; a run that finds ``creating``
(the previous one stopped in between) asks the provider again, whose look-before-write finds
the job that may already exist instead of training twice.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from finetune_kit._io import atomic_write
from finetune_kit.errors import DataError

__all__ = ["MIGRATIONS_NAME", "MigrationManifest"]

MIGRATIONS_NAME = "migrations.json"
"""The migrations manifest's file name inside the archive folder."""

_FORMAT = "finetune-kit-migrations"
_VERSION = 1


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class MigrationManifest:
    """The migrations recorded in one archive folder.

    Args:
        root: The archive folder.
        writable: Save changes (``False`` for a dry run: nothing is written).

    Raises:
        DataError: ``migrations.json`` exists but cannot be read or is not a migrations
            manifest.
    """

    def __init__(self, root: Path, *, writable: bool = True) -> None:
        self.path = root / MIGRATIONS_NAME
        self.writable = writable
        self.data: dict[str, Any] = {
            "format": _FORMAT,
            "version": _VERSION,
            "updated_at": None,
            "targets": {},
        }
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(
                    f"the migrations manifest cannot be read: {exc}",
                    file=self.path,
                    hint="restore it from a backup, or move it aside to start the migrations over "
                    "(the providers' look-before-write still prevents duplicate jobs)",
                ) from exc
            if not isinstance(loaded, dict) or loaded.get("format") != _FORMAT:
                raise DataError(
                    "this migrations.json is not a finetune-kit migrations manifest",
                    file=self.path,
                    hint="move it aside",
                )
            loaded.setdefault("targets", {})
            self.data = loaded

    def get(self, target: str, source_job: str) -> dict[str, Any] | None:
        """The recorded migration of ``source_job`` to ``target``, if any."""
        found = self.data["targets"].get(target, {}).get(source_job)
        return found if isinstance(found, dict) else None

    def put(self, target: str, source_job: str, entry: dict[str, Any]) -> None:
        """Record a migration and save the manifest (atomically)."""
        self.data["targets"].setdefault(target, {})[source_job] = {
            **entry,
            "recorded_at": _now(),
        }
        if self.writable:
            self.data["updated_at"] = _now()
            with atomic_write(self.path) as fh:
                fh.write(json.dumps(self.data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

"""Versions of the fake's configs: immutable records whose JSON is encoded once."""

from __future__ import annotations

import json
from typing import Any

from expkit.fake._clock import _time_key
from expkit.fake._common import _dumps

__all__ = ["VersionRecord"]


class VersionRecord:
    """One immutable version of a config; its JSON encoding is computed once."""

    __slots__ = (
        "_raw",
        "config_id",
        "created_at",
        "created_by",
        "flag_config",
        "kind",
        "ts",
        "version",
    )

    def __init__(
        self,
        kind: str,
        config_id: str,
        version: int,
        created_at: str,
        created_by: Any,
        flag_config: dict[str, Any],
        raw: bytes | None = None,
    ) -> None:
        self.kind = kind
        self.config_id = config_id
        self.version = version
        self.created_at = created_at
        self.created_by = created_by
        self.flag_config = flag_config
        self.ts = _time_key(created_at)
        self._raw = raw

    def to_dict(self) -> dict[str, Any]:
        """The wire object ``{createdAt, createdBy, version, flagConfig}`` (a copy)."""
        out: dict[str, Any] = json.loads(self.raw())
        return out

    def raw(self) -> bytes:
        """The wire object as compact JSON bytes, encoded once and cached."""
        if self._raw is None:
            self._raw = _dumps(
                {
                    "createdAt": self.created_at,
                    "createdBy": self.created_by,
                    "version": self.version,
                    "flagConfig": self.flag_config,
                }
            )
        return self._raw

    def __repr__(self) -> str:
        return f"VersionRecord({self.kind[:-1]} {self.config_id} v{self.version} {self.created_at})"

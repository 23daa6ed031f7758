"""The query parameters of a Kubernetes API request, parsed once and checked."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from bosun.objects.status import BadRequest

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


@dataclass(frozen=True)
class Query:
    label_selector: str = ""
    field_selector: str = ""
    watch: bool = False
    resource_version: str = ""
    timeout_seconds: int | None = None
    limit: int | None = None
    continue_token: str = ""
    dry_run: bool = False
    field_validation: str = "Strict"
    field_manager: str = ""
    include_object: str | None = None
    allow_watch_bookmarks: bool = False
    # pods/log
    container: str = ""
    follow: bool = False
    tail_lines: int | None = None
    previous: bool = False
    timestamps: bool = False

    @classmethod
    def from_mapping(cls, query: Mapping[str, str]) -> Query:
        """Raises BadRequest for a malformed value."""
        dry_run = query.get("dryRun", "")
        if dry_run not in ("", "All"):
            raise BadRequest(f'dryRun must be "All", not {dry_run!r}')
        validation = query.get("fieldValidation") or "Strict"
        if validation not in FIELD_VALIDATION:
            raise BadRequest(f"fieldValidation must be one of {', '.join(FIELD_VALIDATION)}, "
                             f"not {validation!r}")
        return cls(
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            watch=_bool(query, "watch"),
            resource_version=query.get("resourceVersion", ""),
            timeout_seconds=_int(query, "timeoutSeconds"),
            limit=_int(query, "limit"),
            continue_token=query.get("continue", ""),
            dry_run=dry_run == "All",
            field_validation=validation,
            field_manager=query.get("fieldManager", ""),
            include_object=query.get("includeObject"),
            allow_watch_bookmarks=_bool(query, "allowWatchBookmarks"),
            container=query.get("container", ""),
            follow=_bool(query, "follow"),
            tail_lines=_int(query, "tailLines"),
            previous=_bool(query, "previous"),
            timestamps=_bool(query, "timestamps"),
        )

    def with_name(self, name: str) -> Query:
        """The same query narrowed to one object (a watch of /pods/NAME)."""
        by_name = f"metadata.name={name}"
        fields = f"{self.field_selector},{by_name}" if self.field_selector else by_name
        return replace(self, field_selector=fields)


def _bool(query: Mapping[str, str], key: str) -> bool:
    value = query.get(key, "")
    if value in ("", "false", "0", "False"):
        return False
    if value in ("true", "1", "True"):
        return True
    raise BadRequest(f"{key} must be true or false, not {value!r}")


def _int(query: Mapping[str, str], key: str) -> int | None:
    value = query.get(key)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number, not {value!r}") from None
    if number < 0:
        raise BadRequest(f"{key} must not be negative")
    return number


@dataclass(frozen=True)
class Continue:
    """Where a paged list goes on: the last key returned and the revision it was read at."""

    revision: int
    after_key: str

    def encode(self) -> str:
        raw = json.dumps({"v": "bosun/1", "rv": self.revision, "start": self.after_key})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> Continue:
        """Raises BadRequest for a token this server did not make."""
        try:
            raw = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(int(raw["rv"]), str(raw["start"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BadRequest("continue key is not valid: invalid continue token") from None

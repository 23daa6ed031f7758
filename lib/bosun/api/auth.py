"""Who may call the API: bearer tokens from a token file, and what each user may do.

The token file has Kubernetes' static token format, one user a line:
    token,user,uid,"group1,group2"
Members of group `system:masters` may do everything; members of `bosun:viewers` may only read
(get, list, watch); anyone else with a valid token is refused with 403. No token, or an unknown
one, is a 401. Tokens are compared in constant time.
"""

from __future__ import annotations

import csv
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import ConfigError

ADMIN_GROUP = "system:masters"
VIEWER_GROUP = "bosun:viewers"
READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class User:
    name: str
    uid: str
    groups: frozenset[str]

    def may(self, verb: str) -> bool:
        if ADMIN_GROUP in self.groups:
            return True
        return VIEWER_GROUP in self.groups and verb in READ_VERBS


class TokenFile:
    """Tokens read once from a file; `authenticate` maps an Authorization header to a User."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._users: list[tuple[bytes, User]] = []
        with open(path, newline="") as lines:
            for number, row in enumerate(csv.reader(lines), start=1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 3 or not row[0] or not row[1]:
                    raise ConfigError("expected token,user,uid[,\"groups\"]", str(path), number)
                groups = frozenset(g for g in (row[3].split(",") if len(row) > 3 else []) if g)
                self._users.append((row[0].encode(), User(row[1], row[2], groups)))

    def authenticate(self, authorization: str | None) -> User | None:
        """The user whose token the header carries, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        offered = authorization[len("Bearer "):].strip().encode()
        found = None
        for token, user in self._users:
            # Compare with every token so the time taken does not depend on which one matched.
            if hmac.compare_digest(token, offered):
                found = user
        return found


def ensure_token_file(path: Path, user: str = "admin") -> str:
    """Make a token file with one admin token if path does not exist; return that token."""
    if path.exists():
        with open(path, newline="") as lines:
            for row in csv.reader(lines):
                if row and not row[0].startswith("#") and ADMIN_GROUP in "".join(row[3:]):
                    return row[0]
        raise ConfigError(f"no {ADMIN_GROUP} token in the token file", str(path))
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f'{token},{user},{user},"{ADMIN_GROUP}"\n')
    return token

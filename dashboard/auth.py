"""Editor sign-in: tokens come from the env var named in [dashboard].editor_tokens_env.

Format: `name:token,name2:token2`. A token is compared with every configured token using
hmac.compare_digest (no early exit), and the matching name becomes the actor recorded in
alert_events / rule_versions. Nothing secret lives in code or config files.
"""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass


class TokenConfigError(ValueError):
    """The editor token variable is malformed (the message never contains a token)."""


@dataclass(frozen=True)
class EditorTokens:
    env_name: str
    entries: tuple[tuple[str, str], ...]

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    def match(self, token: str) -> str | None:
        """The editor name for `token`, or None. Constant-time per entry, all entries checked."""
        if not token:
            return None
        given = token.strip().encode("utf-8")
        found = None
        for name, secret in self.entries:
            if hmac.compare_digest(given, secret.encode("utf-8")) and found is None:
                found = name
        return found


def parse_tokens(value: str, env_name: str) -> tuple[tuple[str, str], ...]:
    out = []
    names = set()
    for i, part in enumerate(p.strip() for p in (value or "").split(",")):
        if not part:
            continue
        name, sep, token = part.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise TokenConfigError(f"${env_name}: entry {i + 1} must look like name:token")
        if name in names:
            raise TokenConfigError(f"${env_name}: editor name {name!r} appears twice")
        if len(token) < 8:
            raise TokenConfigError(f"${env_name}: the token for {name!r} is shorter than 8 characters")
        names.add(name)
        out.append((name, token))
    return tuple(out)


def load_editor_tokens(env_name: str, environ: dict | None = None) -> EditorTokens:
    env = os.environ if environ is None else environ
    return EditorTokens(env_name, parse_tokens(env.get(env_name, ""), env_name))

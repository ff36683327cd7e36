"""Typed records passed between stages."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ArticleRecord:
    """One item as an adapter extracted it (news article, legal act, case card, bill, draft)."""
    canonical_url: str
    source_id: str
    title: str
    body: str
    lang: str | None = None
    kind: str = "article"              # article | act | case | bill | draft | notice
    lead: str | None = None
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """What counts as 'the text changed': title, lead and body, whitespace-normalised.
        Case/bill stage fields count too (a new stage or document is a change)."""
        parts = [self.title or "", self.lead or "", self.body or ""]
        for key in ("stage", "documents", "timeline"):
            if key in self.extra:
                parts.append(repr(self.extra[key]))
        norm = "\n".join(" ".join(p.split()) for p in parts)
        return hashlib.sha256(norm.encode("utf-8")).hexdigest()

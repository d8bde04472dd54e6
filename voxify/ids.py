"""Public ids: a short type prefix and a random, URL-safe body (`usr_…`, `job_…`, `file_…`)."""

from __future__ import annotations

import secrets

PREFIXES = ("usr", "job", "file", "vs", "vc", "key", "aud", "ses")


def new_id(prefix: str) -> str:
    """Return a fresh id such as ``job_3f9a1c2b7d4e8f60a1b2``."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{secrets.token_hex(10)}"

"""Secrets at rest: Fernet with the configured keys, the first of which encrypts.

Keeping the previous key beside the new one lets a running deployment read what the old key
sealed while `notpromoted rotate-key` re-seals it with the new one.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class UnreadableSecret(Exception):
    """A stored value that none of the configured keys opens (a key was dropped too soon)."""


class TokenCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernets = [Fernet(key) for key in keys]
        self._multi = MultiFernet(self._fernets)

    def seal(self, secret: str) -> str:
        return self._multi.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._multi.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret("no configured key opens this value") from None

    def reseal(self, sealed: str) -> str | None:
        """The value sealed with the first key; None if it already is."""
        try:
            self._fernets[0].decrypt(sealed.encode())
        except InvalidToken:
            pass
        else:
            return None
        try:
            return self._multi.rotate(sealed.encode()).decode("ascii")
        except InvalidToken:
            raise UnreadableSecret("no configured key opens this value") from None

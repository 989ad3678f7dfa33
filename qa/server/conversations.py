"""Conversations kept in memory for the HTTP API, bounded in number, age and length.

A conversation lives only as long as the server and only while it is used:
one unused for ``idle_s`` is forgotten, and when ``max_count`` are open the
least recently used one makes room for a new one (so clients that never
come back cannot fill memory). Only the last ``max_turns`` turns are kept;
follow-ups are rewritten from the last few anyway. Ids are random and
unguessable, since a conversation's questions belong to whoever started it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from qa.contract import EngineConversation


class UnknownConversation(KeyError):
    """No conversation has this id (never created, expired, or evicted)."""


class ConversationStore:
    def __init__(
        self,
        *,
        max_count: int = 1000,
        idle_s: float = 1800.0,
        max_turns: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_count, self.idle_s, self.max_turns = max(1, max_count), idle_s, max(1, max_turns)
        self._clock = clock
        self._lock = threading.Lock()
        #: id -> (conversation, last used); least recently used first.
        self._items: OrderedDict[str, tuple[EngineConversation, float]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._items)

    def add(self, conversation: EngineConversation) -> str:
        cid = secrets.token_urlsafe(16)
        with self._lock:
            now = self._clock()
            self._expire(now)
            while len(self._items) >= self.max_count:
                self._items.popitem(last=False)
            self._items[cid] = (conversation, now)
        return cid

    def get(self, cid: str) -> EngineConversation:
        """The conversation, marked as just used; ``UnknownConversation`` if there is none."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if cid not in self._items:
                raise UnknownConversation(cid)
            conversation, _ = self._items[cid]
            self._items[cid] = (conversation, now)
            self._items.move_to_end(cid)
            return conversation

    def trim(self, conversation: EngineConversation) -> None:
        """Drop all but the last ``max_turns`` turns (call after each turn)."""
        extra = len(conversation.turns) - self.max_turns
        if extra > 0:
            del conversation.turns[:extra]

    def remove(self, cid: str) -> bool:
        with self._lock:
            return self._items.pop(cid, None) is not None

    def _expire(self, now: float) -> None:
        while self._items:
            cid, (_, used) = next(iter(self._items.items()))
            if now - used < self.idle_s:
                break
            del self._items[cid]

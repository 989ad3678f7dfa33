"""Newsdesk over HTTP (FastAPI): ``create_app(engine_factory)``; ``newsdesk serve`` runs it.

Optional: needs the ``server`` extra (``pip install 'newsdesk[server]'``),
and nothing outside this package imports it, so ``import qa`` never loads
FastAPI.
"""

from qa.server.app import create_app
from qa.server.conversations import ConversationStore

__all__ = ["ConversationStore", "create_app"]

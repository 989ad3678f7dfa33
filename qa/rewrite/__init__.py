"""Rewriting follow-up questions into self-contained ones (see ``rules``)."""

from __future__ import annotations

from qa.rewrite.discourse import Turn
from qa.rewrite.rules import rewrite_all, rewrite_question, same_question

__all__ = ["Turn", "rewrite_all", "rewrite_question", "same_question"]

"""Newsdesk: exact, cited answers from a collection of news articles."""

from qa.assistant import Assistant, IndexReport
from qa.conversation import Conversation
from qa.errors import NewsdeskError
from qa.retrievers.filters import Filters
from qa.types import Answer, Article, ArticleRef, Passage

__all__ = [
    "Answer",
    "Article",
    "ArticleRef",
    "Assistant",
    "Conversation",
    "Filters",
    "IndexReport",
    "NewsdeskError",
    "Passage",
    "evaluate",
]


def evaluate(assistant, gold, mode: str = "open", **kwargs):
    """Score an assistant against gold questions (see ``qa.evaluation``)."""
    from qa.evaluation.runner import evaluate as _evaluate

    return _evaluate(assistant, gold, mode=mode, **kwargs)

"""Errors Newsdesk reports to people: each carries a one-line message."""


class NewsdeskError(Exception):
    """Base class: ``str(err)`` is a complete one-line message for the user."""


class IndexError_(NewsdeskError):
    """The index folder is missing, broken, or from another embedder/version."""


class IndexLockedError(NewsdeskError):
    """Another process is writing the same index."""


class EmptyQuestionError(NewsdeskError):
    """The question has no words to search for."""


class MissingDependencyError(NewsdeskError):
    """A library Newsdesk needs is not installed; the message names the fix."""


class IndexWriteError(NewsdeskError):
    """Writing a new index generation failed; the previous one is still in use."""


class DiskFullError(IndexWriteError):
    """The disk filled up while an index was written."""


class InvalidInputError(NewsdeskError, ValueError):
    """An option or argument is out of range or malformed (top-k, threshold, dates)."""

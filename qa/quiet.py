"""Only Newsdesk's own messages and progress reach people.

The libraries under the engine print progress bars ("Loading weights") and
DEBUG lines ("Building index from IDs objects") of their own. They are turned
off where the engine loads a model or builds an index, for the Python API as
much as for the command line; ``NEWSDESK_VERBOSE=1`` (or ``newsdesk -v``)
leaves them on for debugging.
"""

from __future__ import annotations

import logging
import os

_CHATTY_LOGGERS = (
    "bm25s",
    "sentence_transformers",
    "transformers",
    "huggingface_hub",
    "faiss",
    "trafilatura",
    "htmldate",
    "courlan",
    "urllib3",
    "filelock",
)
_done = False


def verbose() -> bool:
    return os.environ.get("NEWSDESK_VERBOSE", "") not in ("", "0", "false")


def quiet_third_party() -> None:
    """Silence other libraries' progress bars and chatter (once per process; cheap to call again)."""
    global _done
    if verbose():
        return
    # Every call: some libraries (bm25s) set their logger to DEBUG when first imported.
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if _done:
        return
    _done = True
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
    except ImportError:  # transformers is a dependency; without it nothing loads anyway
        pass
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:
        pass

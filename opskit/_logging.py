"""Opt-in logging for notebooks: opskit itself never configures logging."""

from __future__ import annotations

import logging
import sys

__all__ = ["log_to_notebook"]

_HANDLER_NAME = "opskit-notebook"


def log_to_notebook(level: int | str = logging.INFO) -> logging.Logger:
    """Show opskit's log lines (one per query or external call) in the notebook.

    Idempotent: calling it again only changes the level.

    Parameters
    ----------
    level
        ``logging.INFO`` (default) for one line per external call and dataset
        load, ``logging.DEBUG`` for detail, ``logging.WARNING`` for fallbacks only.
    """
    logger = logging.getLogger("opskit")
    logger.setLevel(level)
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logger.addHandler(handler)
    return logger

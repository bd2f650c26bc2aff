"""Deprecated home of ``score``: use ``listening.score`` or ``listening.tagging.sentiment``.

Kept for one release (0.1 -> 0.2) so code written against the old path still runs.
"""

import warnings

from listening.tagging.sentiment import *  # noqa: F403
from listening.tagging.sentiment import Scorer, bare_vader, normalise, score, score_many  # noqa: F401

warnings.warn("listening.sentiment moved to listening.tagging.sentiment (import score from listening)",
              DeprecationWarning, stacklevel=2)

"""Deprecated home of ``classify``: use ``listening.classify`` or ``listening.tagging.issues``.

Kept for one release (0.1 -> 0.2) so code written against the old path still runs.
"""

import warnings

from listening.tagging.issues import *  # noqa: F403
from listening.tagging.issues import builtin_names, classify, classify_many, department_for  # noqa: F401

warnings.warn("listening.issues moved to listening.tagging.issues (import classify from listening)",
              DeprecationWarning, stacklevel=2)

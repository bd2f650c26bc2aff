"""Tagging: what a mention says, read from its text.

``sentiment`` (VADER plus our customer-service lexicon), ``issues`` (the taxonomy,
``taxonomy.yaml``), ``intent`` (churn risk, purchase, question, needs reply),
``language``, ``learning`` (models trained on labels), ``tagger`` (all of them per
batch, what the pipeline calls) and ``accuracy`` (macro-F1 on labelled sets).
"""

from listening.tagging.issues import classify
from listening.tagging.sentiment import score
from listening.tagging.tagger import Tagger

__all__ = ["Tagger", "classify", "score"]

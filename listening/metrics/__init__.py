"""Metrics: what the numbers are, read from the rollups (never a scan of raw mentions).

``voice``: share of voice, sentiment and volume per brand; ``search``: share of search
(Google Trends volume on one scale) and share of voice beside it.
"""

from listening.metrics.search import share_of_search, share_series, voice_vs_search
from listening.metrics.voice import brand_summary, sentiment_trend, volume_series

__all__ = ["brand_summary", "sentiment_trend", "share_of_search", "share_series", "voice_vs_search",
           "volume_series"]

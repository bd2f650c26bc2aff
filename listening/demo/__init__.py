"""The shipped demo: the shared airline tweets crawled from a local replay of a social API,
recorded Google Trends answers, and the alert rules replayed hour by hour.

``build`` (what ``listening demo`` runs), ``feed`` (the tweets served on 127.0.0.1),
``trends`` (the recorded search category), ``listening.yaml`` (the demo's config).
"""

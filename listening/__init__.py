"""Listening Centre: social listening and share of search, on MongoDB."""

__version__ = "0.1.0"

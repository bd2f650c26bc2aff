"""Which brands a mention names (the matcher), and trying a query on stored mentions (the tester)."""

from listening.matching.matcher import FIELD_NAMES, BrandMatcher, brand_query, effective_brands
from listening.matching.tester import describe_test, test_query

__all__ = ["FIELD_NAMES", "BrandMatcher", "brand_query", "describe_test", "effective_brands", "test_query"]

"""The brand query language: parse a query, compile many brands' queries into one matcher.

    >>> str(parse('(united OR "united airlines") AND NOT "united states"'))
    '((united OR "united airlines") AND (NOT "united states"))'
"""

from listening.query.ast import And, Field, Near, Node, Not, Or, Term, field_names
from listening.query.parser import QuerySyntaxError, parse

__all__ = ["And", "Field", "Near", "Node", "Not", "Or", "QuerySyntaxError", "Term", "field_names", "parse"]

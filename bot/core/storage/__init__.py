"""Queries, one module per thing stored. Every function takes the session first and keyword
arguments after it."""

"""Keyword rules: the rules language, the one-scan engine, actors, evaluation, re-classification."""

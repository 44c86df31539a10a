"""Tests of the classifier: rules language, engine, evaluation, default rules."""

"""Bytes → items: XML preparation, the fast and feedparser paths, text cleaning, the worker pool."""

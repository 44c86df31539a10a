"""diplowatch ingestion core: config, fetch, parse, classify, poll. Never imports textual."""

__version__ = "0.1.0"

"""The config file: loading and validating it, editing it in place, units, OPML import/export."""

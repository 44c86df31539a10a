"""The ``diplowatch`` command line (click): one module per command group."""

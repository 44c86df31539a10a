"""diplowatch user interface: the command line and the Textual dashboard."""

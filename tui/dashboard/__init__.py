"""The Textual dashboard: the App, its screens, widgets, messages and state."""

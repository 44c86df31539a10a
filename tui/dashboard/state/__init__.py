"""The dashboard's state, in plain classes the screens follow through signals."""

"""What an analyst reads off the items: stories, trends, watch alerts, briefings, feed health."""

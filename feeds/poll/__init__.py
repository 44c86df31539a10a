"""One poll cycle: who is due, fetching, parsing and classifying, dedup, storing, the schedule."""

"""Digests: what the professions share and what sets each apart, after every round."""

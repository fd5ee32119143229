"""Votes: short statements of a round that members vote on privately, consensus by profession."""

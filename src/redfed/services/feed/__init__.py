"""The interest feed: pure ranking core (profile, co-engagement, scoring, re-rank, explanations).

The database-backed parts (events, candidate generation, maintenance jobs) build on these.
"""

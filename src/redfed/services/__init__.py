"""Use cases: the only layer that combines the database, the protocol and federation."""

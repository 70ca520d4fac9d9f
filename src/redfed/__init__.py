"""redfed: a lightweight, self-hosted, federated social server for photo-first lifestyle notes."""

__version__ = "0.1.0"

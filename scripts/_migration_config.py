"""Tortoise configuration for generating migrations (the database itself is never touched)."""

from redfed.db import tortoise_config

TORTOISE_ORM = tortoise_config("sqlite:///tmp/redfed-makemigrations.sqlite3")

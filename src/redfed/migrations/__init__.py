"""Schema migrations (Tortoise built-in): generated with `make migrations`, reviewed, committed."""

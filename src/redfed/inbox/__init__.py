"""Incoming activities: `receive` checks and stores them; one module per type applies them."""

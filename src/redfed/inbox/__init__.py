"""Incoming activities: `receive` checks and stores them; one module per activity type applies them."""

"""Quart blueprints, thin: parse the request, call services, render."""

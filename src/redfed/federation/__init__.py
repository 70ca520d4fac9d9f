"""Talking to other servers: keys, HTTP signatures, the SSRF-safe client, handles and WebFinger.

This package never decides policy (who is blocked, what is visible) and never touches the database.
"""

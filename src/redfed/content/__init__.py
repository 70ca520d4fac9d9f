"""Content handling: HTML sanitising, plain text → HTML composition, hashtag extraction.

Pure functions only (no database, no network); nh3 lives in `sanitize`.
"""

"""Offline translation: argostranslate engine, package admin, token protection, detection.

Importing this package does not import argostranslate; the engine loads it on first use.
"""

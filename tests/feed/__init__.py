"""Tests of the interest feed."""

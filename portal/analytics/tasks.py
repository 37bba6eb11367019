"""Filled in by the area's implementation."""

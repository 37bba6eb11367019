"""Test support shared by tests/ and bench/: builders of hostile and test-only files,
and checks of generated packages, none of which the running portal needs."""

"""Helpers shared by the tests: import them as ``tests.support.<module>``."""

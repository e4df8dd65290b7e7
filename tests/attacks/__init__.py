"""Hostile servers, hostile SSPI input and fuzzing."""

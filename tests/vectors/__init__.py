"""Byte-for-byte replays and key derivations against published vectors (vectors/)."""

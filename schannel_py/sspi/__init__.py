"""Windows-shaped SSPI layer: handles, buffers, credentials, contexts."""

"""Sans-IO TLS 1.2/1.3 client core. Knows nothing of SSPI."""

"""The command line, tracing, key log, benchmarks, CI set-up and the docs' own checks."""

"""Workflows: running, sampling, freezing and cohorts over the library layers below."""

"""Internals of :mod:`ablasim.workflows.validate`: running series (runner), statistics (analysis), comparison rows
(compare), sensitivity analysis (sensitivity) and the bioheat-solver cycles endpoint (cycles)."""

"""Private numba kernels (array-only)."""

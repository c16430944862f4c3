"""Minimal apps doing the least possible version of a job, for ratios."""

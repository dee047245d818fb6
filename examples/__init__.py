"""Runnable examples of the catalogue in use; not part of the published packages."""

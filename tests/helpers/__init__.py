"""Helpers shared by several test modules (import as `helpers.<module>`)."""

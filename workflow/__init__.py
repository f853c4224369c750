"""Workflow domain package."""

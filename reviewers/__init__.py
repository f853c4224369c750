"""Reviewers domain package."""

"""Campaigns domain package."""

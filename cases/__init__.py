"""Cases domain package."""

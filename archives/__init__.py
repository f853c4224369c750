"""Campaign archives: one signed file that keeps a whole campaign for years and proves its results later."""

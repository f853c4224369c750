"""Accounts: applicant units, people, invitations and API tokens."""

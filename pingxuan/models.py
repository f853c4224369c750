"""Imports every model module so that the metadata and the ORM registry are complete."""

from campaigns.models import Campaign, Category, Domain, Organization
from cases.models import Attachment, Case
from notifications.models import Notification, OutboxMail
from pingxuan.accounts.models import ApiToken, Invitation, Unit, User
from reviewers.models import Assignment
from workflow.models import WorkflowEvent

__all__ = [
    "ApiToken", "Assignment", "Attachment", "Campaign", "Case", "Category", "Domain", "Invitation",
    "Notification", "Organization", "OutboxMail", "Unit", "User", "WorkflowEvent",
]  # fmt: skip

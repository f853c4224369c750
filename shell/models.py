"""Imports every model module so that the metadata and the ORM registry are complete."""

from accounts.models import ApiToken, Invitation, Unit, User
from archives.models import CampaignArchive
from awards.models import Certificate, CertificateBatch, OrganizationAward
from books.models import BookRun, MeetingBook
from campaigns.models import Campaign, Category, Domain, Organization, SettingChange
from cases.models import Attachment, Case
from notifications.models import Notification, OutboxMail
from reviewers.models import Assignment, Conflict, Criterion, Expert, Proposal, Review, ReviewAudit, Score
from voting.models import Ballot, BallotAudit, OtpChallenge, SmsMessage, VoteCount, Voter
from workflow.models import WorkflowEvent

__all__ = [
    "ApiToken", "Assignment", "Attachment", "Campaign", "Case", "Category", "Conflict", "Criterion", "Domain",
    "Expert", "Invitation", "Notification", "Organization", "OutboxMail", "Proposal", "Review", "ReviewAudit",
    "Score", "Unit", "User", "WorkflowEvent", "Ballot", "BallotAudit", "OtpChallenge", "SmsMessage", "Voter",
    "VoteCount", "Certificate", "CertificateBatch", "OrganizationAward", "CampaignArchive", "BookRun", "MeetingBook",
    "SettingChange",
]  # fmt: skip

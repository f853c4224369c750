"""The organizer back office (Flask-Admin at /admin): set-up, people, cases and their workflow, audit.

Only organizers and administrators get in (``backoffice.security``). Views load and list; every change goes
through the same operations as the pages and the API, and a case's state only through ``workflow.engine.fire``.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from accounts.models import Unit, User
from backoffice.cases import CaseView
from backoffice.pages import StaffIndexView, WorkflowView
from backoffice.views import (
    CampaignView,
    CategoryView,
    DomainView,
    OrganizationView,
    OutboxMailView,
    UnitView,
    UserView,
    WorkflowEventView,
)
from campaigns.models import Campaign, Category, Domain, Organization
from cases.models import Case
from notifications.models import OutboxMail
from workflow.models import WorkflowEvent


def init_admin(app: Flask) -> Admin:
    """Build the admin for this app (a new set of views per app: Flask-Admin views belong to one Admin)."""
    # Templates under backoffice/templates/ (no routes in this blueprint).
    app.register_blueprint(Blueprint("backoffice", __name__, template_folder="templates"))
    selection, setup, people, audit = _l("Selection"), _l("Set-up"), _l("People"), _l("Audit")
    cases = CaseView(Case, name=_l("Cases"), category=selection, endpoint="admin_cases", url="/admin/cases")
    admin = Admin(
        app,
        name=_l("pingxuan back office"),
        theme=Bootstrap4Theme(base_template="backoffice/master.html", fluid=True),
        index_view=StaffIndexView(cases, name=_l("Overview"), url="/admin", endpoint="admin"),
        csp_nonce_generator=lambda: app.jinja_env.globals["csp_nonce"](),  # Flask-Admin's inline scripts
    )
    admin.add_view(cases)
    admin.add_view(
        WorkflowView(cases, name=_l("Workflow"), category=selection, endpoint="admin_workflow", url="/admin/workflow")
    )
    admin.add_view(
        WorkflowEventView(
            WorkflowEvent, name=_l("Workflow events"), category=selection, endpoint="admin_events", url="/admin/events"
        )
    )
    admin.add_view(
        CampaignView(Campaign, name=_l("Campaigns"), category=setup, endpoint="admin_campaigns", url="/admin/campaigns")
    )
    admin.add_view(
        CategoryView(
            Category, name=_l("Categories"), category=setup, endpoint="admin_categories", url="/admin/categories"
        )
    )
    admin.add_view(
        DomainView(Domain, name=_l("Domains"), category=setup, endpoint="admin_domains", url="/admin/domains")
    )
    admin.add_view(
        OrganizationView(
            Organization,
            name=_l("Recommending organizations"),
            category=setup,
            endpoint="admin_organizations",
            url="/admin/organizations",
        )
    )
    admin.add_view(UnitView(Unit, name=_l("Units"), category=people, endpoint="admin_units", url="/admin/units"))
    admin.add_view(UserView(User, name=_l("Users"), category=people, endpoint="admin_users", url="/admin/users"))
    admin.add_view(
        OutboxMailView(OutboxMail, name=_l("Outbox"), category=audit, endpoint="admin_outbox", url="/admin/outbox")
    )
    from voting.admin import register as register_sms_outbox

    register_sms_outbox(admin, audit)
    from awards.admin import register as register_awards  # ranking, awards, certificates, dashboard

    register_awards(admin)
    from archives.admin import register as register_archives

    register_archives(app, admin)
    from books.admin import register as register_books

    register_books(app, admin)
    from notifications.admin import register as register_messages

    register_messages(app, admin)
    from campaigns.admin import register as register_campaign_setup

    register_campaign_setup(app, admin)
    from accounts.admin import register as register_service_tokens

    register_service_tokens(admin)
    admin.add_link(MenuLink(name=_l("Log out"), url="/logout"))
    return admin

"""Organizer pages of the awards inside the back office (Flask-Admin custom views, staff only).

Ranking and award confirmation per category, organization awards, certificate batches with live progress,
retry and reissue, result exports, and the dashboard. Each page loads, calls an operation, commits with
``pingxuan.db.commit()`` and renders; the rules (guards, quotas, limits) are the operations'.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from flask import flash, jsonify, redirect, request, send_file, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from awards import certificates, charts, dashboard, export, publication
from awards.decisions import award_refusals, confirm_awards
from awards.models import FAILED, ISSUED, Certificate, CertificateBatch
from awards.organizations import confer, participation
from awards.ranking import category_ranking, decided_ranking
from backoffice.security import StaffOnly, actor
from campaigns.models import Campaign, Category
from cases.eligibility import open_duplicates
from pingxuan import storage
from pingxuan.clock import day
from pingxuan.confirm import ask, confirmed
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from workflow.definition import STATE_BY_NAME, STATE_NAMES

AWARDS = _l("Awards")


def chosen_campaign() -> tuple[list[Campaign], Campaign]:
    """All campaigns and the one asked for with ``?campaign=<id>`` (default: the current one, else the latest)."""
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))
    wanted = request.values.get("campaign", "")
    chosen = next((c for c in campaigns if str(c.id) == wanted), None)
    chosen = chosen or next((c for c in campaigns if c.is_current), None) or (campaigns[0] if campaigns else None)
    if chosen is None:
        raise NotFound(_("No campaign is open."))
    return campaigns, chosen


def _refused(error: DomainError) -> None:
    rollback()
    flash(str(error.message), "error")
    for reason in error.reasons:
        if reason != error.message:
            flash(str(reason), "error")
    for message in error.field_errors.values():
        flash(str(message), "error")


def _category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("No such category."))
    return category


def propose_question(n: int, total: int) -> str:
    """The question before proposing awards: one count a sentence, so each reads right in the singular."""
    return " ".join((
        ngettext("Propose the top %(num)d case of the %(total)d finalists for award: it goes on the public notice "
                 "next.",
                 "Propose the top %(num)d of the %(total)d finalists for award: they go on the public notice next.",
                 n, total=total),
        _("The others are not awarded. This cannot be undone."),
    ))  # fmt: skip


class AwardsView(StaffOnly, BaseView):
    """Base: the campaign chooser is shared by every awards page."""

    def page(self, template: str, **context):
        campaigns, campaign = chosen_campaign()
        return self.render(template, campaigns=campaigns, campaign=campaign, **context)


class RankingView(AwardsView):
    @expose("/")
    def index(self):
        _campaigns, campaign = chosen_campaign()
        rows = [(c, len(category_ranking(campaign, c)), len(decided_ranking(campaign, c))) for c in campaign.categories]
        return self.page("awards/admin/ranking_index.html", rows=rows)

    @expose("/<int:category_id>")
    def category_page(self, category_id: int):
        category = _category(category_id)
        campaign = category.campaign
        ranking = category_ranking(campaign, category)
        size = request.args.get("n", type=int) or campaign.awards_per_category
        return self.render(
            "awards/admin/ranking.html",
            campaign=campaign,
            category=category,
            ranking=ranking,
            decided=[] if ranking else decided_ranking(campaign, category),
            size=size,
            refusals=award_refusals(ranking, actor()),
            state_title=lambda name: pick(STATE_BY_NAME[name], "title"),
            open_duplicates=open_duplicates,
            propose_question=propose_question,
        )

    @expose("/<int:category_id>/confirm", methods=("POST",))
    def confirm(self, category_id: int):
        category = _category(category_id)
        size = request.form.get("size", type=int)
        if not confirmed():
            total = len(category_ranking(category.campaign, category))
            return ask(
                propose_question(min(size or 0, total), total),
                cancel_url=url_for(".category_page", category_id=category.id, n=size),
            )  # fmt: skip
        try:
            ranking = confirm_awards(category.campaign, category, actor(), size if size is not None else -1)
        except DomainError as error:
            _refused(error)
            return redirect(url_for(".category_page", category_id=category.id, n=size))
        commit()
        awarded = sum(1 for r in ranking if r.rank <= size)
        flash(
            ngettext(
                "%(num)d case proposed for award in %(category)s: publish the public notice next.",
                "%(num)d cases proposed for award in %(category)s: publish the public notice next.",
                awarded,
                category=pick(category, "name"),
            ),
            "success",
        )
        return redirect(url_for(".category_page", category_id=category.id))

    @expose("/export.<fmt>")
    def download(self, fmt: str):
        _campaigns, campaign = chosen_campaign()
        if fmt == "xlsx":
            data, mimetype = export.to_xlsx(campaign, full=True), export.XLSX
        elif fmt == "csv":
            data, mimetype = export.to_csv(campaign, full=True), "text/csv; charset=utf-8"
        else:
            raise NotFound(_("This page does not exist."))
        return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=f"ranking-{campaign.year}.{fmt}")  # fmt: skip


class OrganizationAwardsView(AwardsView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        _campaigns, campaign = chosen_campaign()
        if request.method == "POST":
            chosen = [int(v) for v in request.form.getlist("organization") if v.isdigit()]
            try:
                awards = confer(campaign, actor(), chosen)
            except DomainError as error:
                _refused(error)
            else:
                commit()
                done = ngettext(
                    "%(num)d organization award confirmed.", "%(num)d organization awards confirmed.", len(awards)
                )
                flash(done, "success")
                return redirect(url_for(".index", campaign=campaign.id))
        return self.page("awards/admin/organizations.html", rows=participation(campaign))


class PublicationsView(AwardsView):
    @expose("/")
    def index(self):
        _campaigns, campaign = chosen_campaign()
        return self.page("awards/admin/publications.html", history=publication.history(campaign))

    @expose("/publish", methods=("POST",))
    def publish(self):
        _campaigns, campaign = chosen_campaign()
        try:
            snapshot = publication.publish_by_hand(campaign, actor(), request.form.get("reason", ""))
        except DomainError as error:
            _refused(error)
        else:
            commit()
            flash(_("The results are published as version %(version)d.", version=snapshot.version), "success")
        return redirect(url_for(".index", campaign=campaign.id))


class CertificatesView(AwardsView):
    @expose("/")
    def index(self):
        _campaigns, campaign = chosen_campaign()
        batches = list(db.session.scalars(
            select(CertificateBatch).where(CertificateBatch.campaign_id == campaign.id)
            .order_by(CertificateBatch.id.desc())))  # fmt: skip
        items = list(db.session.scalars(
            select(Certificate).where(Certificate.campaign_id == campaign.id).order_by(Certificate.id)))  # fmt: skip
        return self.page(
            "awards/admin/certificates.html",
            batches=[(b, certificates.progress(b)) for b in batches],
            certificates=items,
            issuing=certificates.issuing(campaign),
        )

    @expose("/start", methods=("POST",))
    def start(self):
        _campaigns, campaign = chosen_campaign()
        if not confirmed():
            return ask(_("Issue the missing certificates: each awarded case and conferred organization without one "
                         "gets a certificate with its own number, which stays valid."),
                       cancel_url=url_for(".index", campaign=campaign.id))  # fmt: skip
        try:
            batch = certificates.issue_batch(campaign, actor())
        except DomainError as error:
            _refused(error)
            return redirect(url_for(".index", campaign=campaign.id))
        commit()  # queues one task per certificate (eager: renders them now)
        return redirect(url_for(".batch", batch_id=batch.id))

    @expose("/batches/<int:batch_id>")
    def batch(self, batch_id: int):
        batch = _batch(batch_id)
        return self.render("awards/admin/batch.html", batch=batch, progress=certificates.progress(batch),
                           FAILED=FAILED, ISSUED=ISSUED)  # fmt: skip

    @expose("/batches/<int:batch_id>/progress")
    def batch_progress(self, batch_id: int):
        batch = _batch(batch_id)
        p = certificates.progress(batch)
        failures = [{"id": c.id, "number": c.number, "error": c.error}
                    for c in batch.certificates if c.status == FAILED]  # fmt: skip
        text = _("%(issued)d issued, %(failed)d failed, %(pending)d pending", issued=p.issued, failed=p.failed,
                 pending=p.pending)  # fmt: skip
        return jsonify(total=p.total, issued=p.issued, failed=p.failed, pending=p.pending, percent=p.percent,
                       finished=p.finished, failures=failures, text=text)  # fmt: skip

    @expose("/batches/<int:batch_id>/zip")
    def batch_zip(self, batch_id: int):
        batch = _batch(batch_id)
        return storage.send(certificates.batch_zip(batch), "application/zip", f"certificates-batch-{batch.id}.zip")

    @expose("/<int:certificate_id>/retry", methods=("POST",))
    def retry(self, certificate_id: int):
        certificate = certificates.get_certificate(certificate_id, actor())
        try:
            certificates.retry(certificate, actor())
        except DomainError as error:
            _refused(error)
        else:
            commit()
            flash(_("Certificate %(number)s queued again.", number=certificate.number), "success")
        if certificate.batch_id:
            return redirect(url_for(".batch", batch_id=certificate.batch_id))
        return redirect(url_for(".index", campaign=certificate.campaign_id))

    @expose("/<int:certificate_id>/reissue", methods=("GET", "POST"))
    def reissue(self, certificate_id: int):
        certificate = certificates.get_certificate(certificate_id, actor())
        values = {k: certificate.content.get(k, "") for k in ("award_name", "title", "recipient")}
        errors: dict[str, str] = {}
        if request.method == "POST":
            corrections = {k: request.form.get(k, "") for k in values if request.form.get(k, "") != values[k]}
            try:
                replacement = certificates.reissue(certificate, actor(), corrections)
            except DomainError as error:
                errors = {k: str(v) for k, v in error.field_errors.items()}
                _refused(error)
                values |= {k: request.form.get(k, "") for k in values}
            else:
                commit()
                flash(_("Certificate %(old)s is superseded by %(new)s.", old=certificate.number,
                        new=replacement.number), "success")  # fmt: skip
                if replacement.batch_id:
                    return redirect(url_for(".batch", batch_id=replacement.batch_id))
                return redirect(url_for(".index", campaign=replacement.campaign_id))
        return self.render("awards/admin/reissue.html", certificate=certificate, values=values, errors=errors)

    @expose("/<int:certificate_id>/pdf")
    def pdf(self, certificate_id: int):
        certificate = certificates.get_certificate(certificate_id, actor())
        return storage.send(
            certificates.stored_pdf(certificate), "application/pdf", f"{certificate.number}.pdf", as_attachment=False
        )


def _batch(batch_id: int) -> CertificateBatch:
    batch = db.session.get(CertificateBatch, batch_id)
    if batch is None:
        raise NotFound(_("No such batch."))
    return batch


FUNNEL_LABELS = {
    "started": _l("Started (draft)"),
    "submission": _l("Submitted"),
    "eligibility": _l("Eligible"),
    "shortlist": _l("Shortlisted"),
    "award": _l("Awarded"),
}


class DashboardView(AwardsView):
    @expose("/")
    def index(self):
        _campaigns, campaign = chosen_campaign()
        matrix = dashboard.cases_by_category_and_state(campaign)
        used_states = [s for s in STATE_NAMES if any(counts[s] for _c, counts in matrix)]
        figures = dashboard.figures_by_category(campaign)
        review = dashboard.review_by_category(campaign)
        votes = dashboard.votes_per_day(campaign)
        stages = [(str(FUNNEL_LABELS[key]), n) for key, n in dashboard.funnel(campaign)]
        state_names = [pick(STATE_BY_NAME[s], "title") for s in used_states]
        svgs = {
            "states": charts.stacked(
                _("Cases per category and state"),
                [(pick(c, "name"), [counts[s] for s in used_states]) for c, counts in matrix],
                state_names,
            ),
            "amount": charts.bars(
                _("Investment per category (100 million CNY)"),
                [(pick(f.category, "name"), float(f.amount_yi)) for f in figures],
                unit=" " + _("100M CNY"),
            ),
            "review": charts.progress(
                _("Review progress per category"), [(p.label, p.submitted, p.assigned) for p in review]
            ),
            "votes": charts.columns(_("Valid ballots per day"), [(day(d), n) for d, n in votes]),  # the one date format
            "funnel": charts.funnel(_("From draft to award"), stages),
        }
        total_count = sum(f.count for f in figures)
        total_amount = sum((f.amount for f in figures), start=Decimal(0))
        return self.page(
            "awards/admin/dashboard.html", svgs=svgs, matrix=matrix, used_states=used_states, state_names=state_names,
            figures=figures, total_count=total_count, total_amount=dashboard.yi(total_amount),
            article=dashboard.article_figures(), yi=dashboard.yi, review=review, votes=votes, stages=stages,
        )  # fmt: skip


def register(admin: Admin) -> None:
    """Add the awards pages to the back office (called once from backoffice.init_admin)."""
    admin.add_view(DashboardView(name=_l("Dashboard"), category=AWARDS, endpoint="admin_dashboard",
                                 url="/admin/dashboard"))  # fmt: skip
    admin.add_view(RankingView(name=_l("Ranking and awards"), category=AWARDS, endpoint="admin_ranking",
                               url="/admin/awards/ranking"))  # fmt: skip
    admin.add_view(OrganizationAwardsView(name=_l("Organization awards"), category=AWARDS,
                                          endpoint="admin_org_awards", url="/admin/awards/organizations"))  # fmt: skip
    admin.add_view(PublicationsView(name=_l("Published results"), category=AWARDS, endpoint="admin_publications",
                                    url="/admin/awards/publications"))  # fmt: skip
    admin.add_view(CertificatesView(name=_l("Certificates"), category=AWARDS, endpoint="admin_certificates",
                                    url="/admin/awards/certificates"))  # fmt: skip

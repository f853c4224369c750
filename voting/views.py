"""Public showcase and vote pages (blueprint ``showcase``) and the organizers' vote controls (``vote_admin``).

The public pages are small, server-rendered and mobile first; only what the declaration makes public is
shown (voting.showcase.public_case: anything else is 404). A visitor verifies a mobile number once and the
voter id is kept in the signed session cookie, so the vote itself needs no lookup of the voter: the vote
route reads the cookie, runs the Core insert of voting.ballots.cast_vote and commits once.
"""

from __future__ import annotations

import re
import secrets
from io import BytesIO
from urllib.parse import urlsplit

import segno
from babel.support import NullTranslations
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_translations, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from cases import dossier
from pingxuan.cache import SHOWCASE, cached
from pingxuan.clock import today
from pingxuan.confirm import ask, confirmed
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid, NotFound
from pingxuan.httpcache import private, public
from pingxuan.i18n import is_english
from pingxuan.links import public_url
from pingxuan.net import client_address, local_path, safe_next
from pingxuan.signing import same_secret
from voting import abuse, captcha, share_image, sms, wechat
from voting import operations as ops
from voting.anomalies import campaign_report, case_report
from voting.ballots import (
    VoteResult,
    counts,
    counts_visible,
    invalidate,
    live_counts,
    recount,
    votable_states,
    voting_open,
)  # fmt: skip
from voting.showcase import public_case
from voting.voters import (
    OBJECTION,
    PURPOSES,
    VERIFIED_NUMBER_KEY,
    VOTE,
    normalize_phone,
    request_code,
    resend_wait,
    seal_number,
    verify_code,
)
from voting.window import close_vote, decisions_after_vote, open_vote, reopen_vote, valid_ballots

bp = Blueprint("showcase", __name__, template_folder="templates")
admin_bp = Blueprint("vote_admin", __name__, template_folder="templates", url_prefix="/vote-admin")
bp.register_error_handler(429, abuse.too_many)
LIVE_MAX_AGE = 10  # seconds: pages with live counts; a shared cache may serve them this long


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _safe_next(default: str) -> str:
    return safe_next(request.values.get("next"), default)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


# The gallery and the case page ----------------------------------------------------------------------------


COUNT_SLOT = re.compile(r"<!--count:(\d+)-->")


def _count_slot(case_id: int) -> Markup:
    """Where a live count ("1 vote", "2 votes") goes in a cached page: filled per request by ``_with_counts`` (one
    indexed query)."""
    return Markup(f"<!--count:{case_id}-->")


def votes_text(count: int, words: NullTranslations | None = None) -> str:
    """ "1 票" / "2 votes": in ``words`` (a language's catalogue) or the request's language."""
    return (words or get_translations()).ngettext("%(num)d vote", "%(num)d votes", count) % {"num": count}


def accepted_answer(result: VoteResult, words: NullTranslations) -> dict:
    """What the page's script is told of an accepted vote, in ``words``: this view and the fast path before
    Flask (voting.fast_views) answer alike."""
    visible = result.count_visible
    message = words.gettext("Thank you for your vote. Votes left today in this category: %(n)d.")
    return {"count": result.count if visible else None, "remaining_today": result.remaining_today,
            "count_text": votes_text(result.count, words) if visible else None,
            "message": message % {"n": result.remaining_today}}  # fmt: skip


def _with_counts(html: str, case_ids: list[int], visible: bool) -> str:
    if not visible or not case_ids:
        return html
    live = live_counts(case_ids)
    return COUNT_SLOT.sub(lambda m: str(escape(votes_text(live.get(int(m.group(1)), 0)))), html)


def _page_key() -> str:
    return f"{request.path}?{sorted(request.args.items(multi=True))}|{'en' if is_english() else 'zh'}"


@bp.get("/showcase")
@public(max_age=LIVE_MAX_AGE)
def gallery():
    def build() -> tuple[str, list[int], bool]:
        campaign = ops.showcase_campaign()
        category_id, domain_id = _int_arg("category"), _int_arg("domain")
        search = request.args.get("q", "")[:100]
        page = ops.gallery(campaign, category_id, domain_id, search, _int_arg("page") or 1)
        ids = [case.id for case in page.cases]
        category = next((c for c in campaign.categories if c.id == category_id), None)
        visible = counts_visible(campaign)
        html = render_template(
            "voting/gallery.html", campaign=campaign, category=category, domain_id=domain_id, search=search,
            page=page, photos=ops.photos(ids), count_slot=_count_slot if visible else None,
            shown=ops.shown_counts(campaign), schedule=ops.vote_schedule(campaign), votable=votable_states(),
            here=request.full_path.rstrip("?"),
            teasers={case.id: dossier.teaser(case) for case in page.cases},
        )  # fmt: skip
        return html, ids, visible

    html, ids, visible = cached(SHOWCASE, _page_key(), build)
    return _with_counts(html, ids, visible)


@bp.get("/showcase/cases/<int:case_id>")
@public(max_age=LIVE_MAX_AGE)
def case_page(case_id: int):
    def build() -> tuple[str, list[int], bool]:
        case = public_case(case_id)
        share_url = public_url(url_for("showcase.case_page", case_id=case.id))
        visible = counts_visible(case.campaign)
        html = render_template(
            "voting/case.html", case=case, photos=ops.photos([case.id])[case.id], documents=ops.public_documents(case),
            count=_count_slot(case.id) if visible else None, share_url=share_url,
            qr=segno.make(share_url, error="m").svg_inline(scale=3), closed_reason=_vote_closed_reason(case),
            public_fields=dossier.public_values(case), teaser=dossier.teaser(case),
        )  # fmt: skip
        return html, [case.id], visible

    html, ids, visible = cached(SHOWCASE, _page_key(), build)
    return _with_counts(html, ids, visible)


SHARE_MAX_AGE = 3600  # seconds: a changed title shows in previews within the hour (a new ETag at once)


@bp.get("/showcase/cases/<int:case_id>/share.png")
@public(max_age=SHARE_MAX_AGE)
def share_card(case_id: int):
    """The case's link preview (og:image): 1200×630, its photo, title, unit, category, campaign and QR code."""
    return _case_picture(case_id, share_image.CARD)


@bp.get("/showcase/cases/<int:case_id>/poster.png")
@public(max_age=SHARE_MAX_AGE)
def poster(case_id: int):
    """The case's poster (海报) for WeChat Moments: 1080×1920, the same content, to save and post."""
    return _case_picture(case_id, share_image.POSTER)


@bp.get("/showcase/share.png")
@public(max_age=SHARE_MAX_AGE)
def campaign_share_image():
    """The preview of the other public pages: the current campaign (or the site) with a QR code to the showcase."""
    try:
        campaign = ops.showcase_campaign()
    except DomainError:
        campaign = None
    url = public_url(url_for("showcase.gallery"))
    return _png(share_image.picture(share_image.campaign_content(campaign, url)))


def _case_picture(case_id: int, kind: str):
    case = public_case(case_id)
    url = public_url(url_for("showcase.case_page", case_id=case.id))
    return _png(share_image.picture(share_image.case_content(case, url, kind)))


def _png(picture: share_image.Picture):
    response = current_app.response_class(picture.data, mimetype="image/png")
    response.set_etag(picture.etag)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/showcase/voter")
def voter_state():
    """The visitor's own side of a case page (uncached): verified or not, voted today, votes left, the voter
    token the page's script votes with (X-Voter-Token) and the forms' CSRF token. The page itself is the same for
    everyone and cached."""
    if "case" not in request.args:
        return _voter_gallery_state()
    case = public_case(request.args.get("case", type=int) or 0)
    voter_id = session.get(abuse.VOTER_SESSION_KEY)
    state: dict[str, object] = {"verified": False, "closed": _vote_closed_reason(case)}
    if isinstance(voter_id, int):
        day = ops.voter_day(voter_id, case)
        state |= {
            "verified": True, "voted_for_case": day.voted_for_case, "remaining_in_category": day.remaining_in_category,
            "csrf_token": generate_csrf(), "voter_token": ops.voter_token(voter_id),
            "forget": url_for("showcase.forget_voter", next=_public_path(case)),
            "message": _voter_message(day, case, just_verified=bool(session.pop(JUST_VERIFIED_KEY, False))),
        }  # fmt: skip
    return private(jsonify(state))


def _voter_gallery_state():
    """The gallery's side of /showcase/voter: the cases this visitor voted for today (marked on their tiles) and
    the votes left per category; the gallery page itself is the same for everyone and cached."""
    campaign = ops.showcase_campaign()
    voter_id = session.get(abuse.VOTER_SESSION_KEY)
    state: dict[str, object] = {"verified": False, "closed": voting_open(
        (campaign.vote_status, campaign.vote_opens, campaign.vote_closes), today())}  # fmt: skip
    if isinstance(voter_id, int):
        day = ops.voter_gallery(voter_id, campaign)
        state |= {
            "verified": True, "voted": day.voted, "remaining": {str(k): v for k, v in day.remaining.items()},
            "voter_token": ops.voter_token(voter_id),
        }  # fmt: skip
        if session.pop(JUST_VERIFIED_KEY, False):
            state["message"] = _("Your number is verified. You can vote now.")
    return private(jsonify(state))


def _public_path(case) -> str:
    return url_for("showcase.case_page", case_id=case.id)


def _voter_message(day, case, just_verified: bool = False) -> str:
    if just_verified:
        return _("Your number is verified.") + " " + _voter_message(day, case)
    if day.voted_for_case:
        return _("You have already voted for this case today. Come back tomorrow.")
    if day.remaining_in_category == 0:
        return ngettext(
            "You have used today's %(num)d vote in this category.",
            "You have used today's %(num)d votes in this category.",
            case.campaign.votes_per_category_per_day,
        )
    return _("Votes left today in this category: %(n)d.", n=day.remaining_in_category)


@bp.get("/showcase/cases/<int:case_id>/vote")
def vote_form(case_id: int):
    """Voting without JavaScript: the visitor's own confirmation page (with its CSRF token), never cached."""
    case = public_case(case_id)
    back = _safe_next(_public_path(case))  # the gallery's tiles name themselves, so the visitor comes back there
    voter_id = session.get(abuse.VOTER_SESSION_KEY)
    if not isinstance(voter_id, int):
        return redirect(url_for("showcase.verify", next=back, purpose=VOTE, case=case.id))
    day = ops.voter_day(voter_id, case)
    page = render_template("voting/vote_form.html", case=case, voter_day=day, message=_voter_message(day, case),
                           closed_reason=_vote_closed_reason(case), back=back)  # fmt: skip
    return private(current_app.make_response(page))


def _vote_closed_reason(case) -> str | None:
    if case.state not in votable_states():
        return _("This case is not in the public vote.")
    campaign = case.campaign
    return voting_open((campaign.vote_status, campaign.vote_opens, campaign.vote_closes), today())


@bp.get("/showcase/cases/<int:case_id>/photos/<int:attachment_id>")
def photo(case_id: int, attachment_id: int):
    data, digest = ops.public_photo(case_id, attachment_id)
    response = send_file(BytesIO(data), mimetype="image/jpeg" if data[:2] == b"\xff\xd8" else "image/png", etag=digest)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


# Voting ----------------------------------------------------------------------------------------------------


@bp.post("/showcase/cases/<int:case_id>/vote")
@abuse.csrf_unless_voter_token
@abuse.vote_limits
def vote(case_id: int):
    """The hot path: voter id from the page script's X-Voter-Token (no CSRF check, the cookie session not
    refreshed) or, without JavaScript, from the signed cookie; one statement; no ORM objects, no user load."""
    voter_id = abuse.current_voter_id()
    if voter_id is None:
        verify = url_for("showcase.verify", next=url_for("showcase.case_page", case_id=case_id))
        if _wants_json():
            return {"message": _("Verify your mobile number first."), "verify": verify}, 401
        return redirect(verify)
    try:
        result, _visible = ops.cast_public_vote(
            voter_id, case_id, client_address(), request.user_agent.string, request.referrer
        )
        commit()
    except DomainError as error:
        rollback()
        if _wants_json():
            return error.to_dict(), error.status
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("showcase.vote_form", case_id=case_id, next=local_path(request.args.get("next"))))
    answer = accepted_answer(result, get_translations())
    if _wants_json():
        return answer
    flash(answer["message"], "success")
    return redirect(url_for("showcase.vote_form", case_id=case_id, next=local_path(request.args.get("next"))))


@bp.route("/showcase/verify", methods=["GET", "POST"])
def verify():
    """Step 1: the number (sends a code). Step 2 (``verify_check``): the code."""
    return _verify_page("phone", "")


VOTE_PAGE = re.compile(r"/showcase/cases/(\d+)(?:/vote)?")
OBJECTION_PAGE = re.compile(r"/notice/cases/(\d+)/objection")


def _purpose_and_case(next_page: str) -> tuple[str, object | None]:
    """What the number is verified for, read from where the person came from: the vote of a case, an objection
    to a case (whose text then says so), or voting in general."""
    path = urlsplit(next_page).path
    for pattern, purpose in ((OBJECTION_PAGE, OBJECTION), (VOTE_PAGE, VOTE)):
        found = pattern.fullmatch(path)
        if found:
            try:
                return purpose, public_case(int(found.group(1)))
            except NotFound:
                return purpose, None
    purpose = request.values.get("purpose", VOTE)
    purpose = purpose if purpose in PURPOSES else VOTE
    case_id = request.values.get("case", type=int)  # a vote from a gallery's tile comes back to the gallery
    try:
        return purpose, public_case(case_id) if case_id else None
    except NotFound:
        return purpose, None


def _verify_page(step: str, phone: str, errors: dict | None = None, message: str | None = None, status: int = 200,
                 **extra):  # fmt: skip
    """The verify page in its context. One mistake, one sentence: a field's error is shown on the field only; the
    page's message is for what no field explains (the resend delay, a text the provider refused)."""
    next_page = _safe_next(url_for("showcase.gallery"))
    purpose, case = _purpose_and_case(next_page)
    errors = {k: v for k, v in (errors or {}).items() if k != "_"}
    page = render_template(
        "voting/verify.html", step=step, phone=phone, next=next_page, errors=errors,
        message=None if errors else message, purpose=purpose, case=case,
        votes_per_day=case.campaign.votes_per_category_per_day if case is not None else None,
        resend_wait=resend_wait(phone) if step == "code" else 0, **extra,
    )  # fmt: skip
    return page, status


@bp.app_context_processor
def _voter_identity() -> dict:
    """How the verify page lets this visitor prove who they are: a number, WeChat (inside WeChat), or both."""

    def identity_options(purpose: str = VOTE) -> wechat.IdentityOptions:
        return wechat.identity_options(purpose == VOTE, request.user_agent.string)

    return {"identity_options": identity_options}


@bp.post("/showcase/verify/code")
@abuse.code_limits
def verify_code_request():
    phone = request.form.get("phone", "")
    purpose, _case = _purpose_and_case(_safe_next(url_for("showcase.gallery")))
    try:
        phone = normalize_phone(phone)
        text = request_code(phone, client_address(), purpose)
        commit()
    except DomainError as error:
        rollback()
        step = "code" if error.status == 409 and phone.isdigit() else "phone"  # resend delay: the code is on its way
        return _verify_page(step, phone, error.field_errors, error.message, error.status)
    refused = sms.refusal_error(text)  # known already when tasks run in the web process; else the page asks
    if refused is not None:
        return _verify_page("phone", phone, refused.field_errors, refused.message, refused.status)
    flash(_("We sent a code to your phone. It is valid for 5 minutes."), "success")
    return _verify_page("code", phone, delivery=sms.ticket(text))


@bp.get("/showcase/verify/delivery/<ticket>")
def verify_delivery(ticket: str):
    """Whether the text with the code went out, for the verify page to say so when the provider refused it."""
    text = sms.by_ticket(ticket)
    if text is None:
        return {"message": _("Not found.")}, 404
    outcome = sms.delivery(text)
    return {"status": outcome.status, "message": outcome.message}, 200, {"Cache-Control": "no-store"}


@bp.post("/showcase/verify/check")
@abuse.check_limits
def verify_check():
    next_page = _safe_next(url_for("showcase.gallery"))
    phone = request.form.get("phone", "")
    try:
        result = verify_code(phone, request.form.get("code", ""))
        commit()  # a wrong code uses up an attempt: keep that
    except Invalid as error:
        rollback()
        return _verify_page("phone", phone, error.field_errors, error.message, 422)
    if result.voter is None:
        return _verify_page("code", phone, {"code": result.message}, status=422)
    session[abuse.VOTER_SESSION_KEY] = result.voter.id
    session.permanent = True
    purpose, _case = _purpose_and_case(next_page)
    if purpose == OBJECTION:  # the objection form then sends the reply to this number without asking again
        session[VERIFIED_NUMBER_KEY] = seal_number(phone)
    _welcome(purpose, next_page, _("Your number is verified. You can lodge your objection now.")
             if purpose == OBJECTION else _("Your number is verified. You can vote now."))  # fmt: skip
    return redirect(next_page)


JUST_VERIFIED_KEY = "just_verified"


def _welcome(purpose: str, next_page: str, message: str) -> None:
    """Say "verified" on the page the person goes back to: a flash on a page with a session; on the showcase's
    cached pages (which show no flash) the voter's own state (``voter_state``) says it, once."""
    if purpose == VOTE and urlsplit(next_page).path.startswith("/showcase"):
        session[JUST_VERIFIED_KEY] = True
    else:
        flash(message, "success")


@bp.get("/showcase/wechat/login")
def wechat_login():
    """Voting with WeChat: off to the official account's web authorization, which comes back with a code."""
    next_page = _safe_next(url_for("showcase.gallery"))
    if not wechat.offered(ops.showcase_campaign(), request.user_agent.string):
        flash(_("Voting with WeChat is not offered here. Verify your number instead."), "error")
        return redirect(url_for("showcase.verify", next=next_page))
    session["wechat_state"], session["wechat_next"] = secrets.token_urlsafe(16), next_page
    callback = url_for("showcase.wechat_callback", _external=True)
    return redirect(wechat.authorize_url(callback, session["wechat_state"]))


@bp.get("/showcase/wechat/callback")
def wechat_callback():
    expected, next_page = session.pop("wechat_state", None), session.pop("wechat_next", url_for("showcase.gallery"))
    if not expected or not same_secret(expected, request.args.get("state")):
        flash(_("The WeChat sign-in did not come from this page. Please try again."), "error")
        return redirect(url_for("showcase.verify", next=next_page))
    try:
        voter = wechat.voter_for_code(request.args.get("code", ""))
        commit()
    except DomainError as error:
        rollback()
        flash(error.message, "error")
        return redirect(url_for("showcase.verify", next=next_page))
    session[abuse.VOTER_SESSION_KEY] = voter.id
    session.permanent = True
    _welcome(VOTE, next_page, _("You are signed in with WeChat. You can vote now."))
    return redirect(next_page)


@bp.get("/showcase/wechat/jssdk")
def wechat_jssdk():
    """``wx.config``'s arguments for one of our pages (asked by pingxuan/static/wechat.js inside WeChat only, so
    that the pages themselves stay the same for every visitor and cacheable)."""
    url = request.args.get("url", "")
    if urlsplit(url).netloc != urlsplit(request.host_url).netloc:
        return {"message": _("Not one of this site's pages.")}, 422
    config = wechat.js_config(url)
    if config is None:
        return {"message": _("WeChat is not set up.")}, 404
    return config, 200, {"Cache-Control": "no-store"}


@bp.app_context_processor
def _wechat_globals() -> dict:
    return {"wechat_enabled": wechat.configured}


@bp.post("/showcase/voter/forget")
def forget_voter():
    for key in (abuse.VOTER_SESSION_KEY, VERIFIED_NUMBER_KEY, JUST_VERIFIED_KEY):
        session.pop(key, None)
    flash(_("This device has forgotten your number. To vote again, verify a number."), "success")
    return redirect(_safe_next(url_for("showcase.gallery")))


@bp.route("/showcase/captcha", methods=["GET", "POST"])
def captcha_page():
    next_page = _safe_next(url_for("showcase.gallery"))
    message = None
    if request.method == "POST":
        if captcha.solve(request.form.get("altcha") or request.form.get("captcha", "")):
            flash(_("Thank you. You can go on voting."), "success")
            return redirect(next_page)
        message = _("The check did not succeed or has expired. Please try again.")
    page = render_template("voting/captcha.html", message=message, next=next_page, captcha=captcha.page_settings())
    return page, (422 if message else 200)


@bp.get("/showcase/captcha/challenge")
def captcha_challenge():
    """A fresh ALTCHA challenge for the captcha page's widget (signed; nothing is stored until it is solved)."""
    return private(jsonify(captcha.new_challenge()))


# Organizers ------------------------------------------------------------------------------------------------


@admin_bp.get("/")
@login_required
def overview():
    campaign = ops.staff_campaign(_int_arg("campaign"), current_user)
    reports = campaign_report(campaign.id)
    return render_template(
        "voting/admin.html", campaign=campaign, reports=reports, differences=None, ballots=valid_ballots(campaign),
        decided=decisions_after_vote(campaign), close_message=close_message(campaign),
    )  # fmt: skip


@admin_bp.post("/<int:campaign_id>/open")
@login_required
def open_campaign_vote(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    _run(lambda: open_vote(campaign, current_user), _("The public vote is open."))
    return redirect(url_for("vote_admin.overview", campaign=campaign.id))


def close_message(campaign) -> str:
    return _(
        "Close the vote: from now on no vote is accepted; %(n)s valid votes have been cast. It can be reopened, "
        "with a reason, until awards are proposed.",
        n=f"{valid_ballots(campaign):,}",
    )


@admin_bp.post("/<int:campaign_id>/close")
@login_required
def close_campaign_vote(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    if not confirmed():
        return ask(close_message(campaign), cancel_url=url_for("vote_admin.overview", campaign=campaign.id))
    _run(lambda: close_vote(campaign, current_user), _("The public vote is closed; its ballots are frozen."))
    return redirect(url_for("vote_admin.overview", campaign=campaign.id))


@admin_bp.post("/<int:campaign_id>/reopen")
@login_required
def reopen_campaign_vote(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    if request.form.get("reason", "").strip() and not confirmed():  # a missing reason is refused by the operation
        return ask(
            _("Reopen the vote: votes are accepted again until it is closed; the reason is kept in the audit."),
            cancel_url=url_for("vote_admin.overview", campaign=campaign.id),
        )
    reason = request.form.get("reason", "")
    _run(lambda: reopen_vote(campaign, current_user, reason), _("The public vote is open again."))
    return redirect(url_for("vote_admin.overview", campaign=campaign.id))


@admin_bp.post("/<int:campaign_id>/recount")
@login_required
def recount_campaign(campaign_id: int):
    campaign = ops.staff_campaign(campaign_id, current_user)
    differences = recount(campaign)
    rollback()  # a recount only reads
    return render_template(
        "voting/admin.html", campaign=campaign, reports=campaign_report(campaign.id), differences=differences,
        decided=decisions_after_vote(campaign), close_message=close_message(campaign),
    )  # fmt: skip


@admin_bp.get("/cases/<int:case_id>")
@login_required
def case_ballots(case_id: int):
    case = ops.staff_case(case_id, current_user)
    suspicious_only = request.args.get("all") != "1"
    return render_template(
        "voting/admin_case.html",
        case=case,
        report=case_report(case),
        ballots=ops.case_ballots(case, current_user, suspicious_only=suspicious_only),
        suspicious_only=suspicious_only,
        audit=ops.ballot_audit(case, current_user),
        count=counts([case.id])[case.id],
        errors={},
    )


@admin_bp.post("/cases/<int:case_id>/invalidate")
@login_required
def invalidate_ballots(case_id: int):
    case = ops.staff_case(case_id, current_user)
    ids = [int(v) for v in request.form.getlist("ballot") if v.isdigit()]
    if not ids:
        flash(_("Select the ballots to invalidate."), "error")
        return redirect(url_for("vote_admin.case_ballots", case_id=case.id))
    if request.form.get("reason", "").strip() and not confirmed():  # a missing reason is refused below
        return ask(
            ngettext(
                "Invalidate %(num)d ballot: it no longer counts for the case; the reason is kept.",
                "Invalidate %(num)d ballots: they no longer count for the case; the reason is kept.",
                len(ids),
            ),
            cancel_url=url_for("vote_admin.case_ballots", case_id=case.id),
        )
    try:
        n = invalidate(ids, current_user, request.form.get("reason", ""))
        commit()
    except DomainError as error:
        rollback()
        flash(" ".join([error.message, *error.field_errors.values()]), "error")
        return redirect(url_for("vote_admin.case_ballots", case_id=case.id))
    flash(
        ngettext(
            "%(num)d ballot invalidated. The count follows.", "%(num)d ballots invalidated. The count follows.", n
        ),
        "success",
    )
    return redirect(url_for("vote_admin.case_ballots", case_id=case.id))


def _run(action, success: str) -> None:
    try:
        action()
        commit()
        flash(success, "success")
    except DomainError as error:
        rollback()
        flash(error.message, "error")
        for message in error.field_errors.values():
            flash(str(message), "error")

"""The back office's archive page: make a campaign's archive in the background, see its hashes, download it."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import lazy_gettext as _l

from archives.export import archives_of, file_name, finished_archive, request_archive
from archives.models import DONE
from awards.admin import AWARDS, chosen_campaign
from backoffice.security import StaffOnly, actor
from pingxuan import storage
from pingxuan.db import commit


class ArchivesView(StaffOnly, BaseView):
    @expose("/")
    def index(self):
        campaigns, campaign = chosen_campaign()
        return self.render("archives/admin/archives.html", campaigns=campaigns, campaign=campaign,
                           records=archives_of(campaign, actor()), done=DONE)  # fmt: skip

    @expose("/start", methods=("POST",))
    def start(self):
        _campaigns, campaign = chosen_campaign()
        request_archive(campaign, actor())
        commit()  # queues the task (eager: makes the archive now)
        return redirect(url_for(".index", campaign=campaign.id))

    @expose("/<int:archive_id>/download")
    def download(self, archive_id: int):
        record = finished_archive(archive_id, actor())
        return storage.send(record.sha256, "application/zip", file_name(record))


def register(app: Flask, admin: Admin) -> None:
    app.register_blueprint(Blueprint("archives", __name__, template_folder="templates"))
    admin.add_view(ArchivesView(name=_l("Campaign archives"), category=AWARDS, endpoint="admin_archives",
                                url="/admin/archives"))  # fmt: skip

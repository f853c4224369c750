"""``flask pingxuan campaign export|import|clone``: the file round trip, the dry run and next year's edition."""

from __future__ import annotations

import yaml

from campaigns.models import Campaign, SettingChange
from pingxuan.extensions import db


def test_export_dry_run_import_and_clone_from_the_command_line(app, make, tmp_path):
    campaign, admin = make.campaign(), make.admin()
    runner = app.test_cli_runner()
    target = tmp_path / "campaign.yaml"
    done = runner.invoke(args=["pingxuan", "campaign", "export", str(campaign.year), "-o", str(target)])
    assert done.exit_code == 0, done.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    data["campaign"]["votes_per_category_per_day"] = 6
    data["categories"][0]["domains"].append({"zh": "新领域", "en": "New domain"})
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    dry = runner.invoke(args=["pingxuan", "campaign", "import", str(target), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "change campaign.votes_per_category_per_day: 3 → 6" in dry.output and "新领域" in dry.output
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).votes_per_category_per_day == 3

    done = runner.invoke(args=["pingxuan", "campaign", "import", str(target), "--by", admin.email])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).votes_per_category_per_day == 6
    assert db.session.query(SettingChange).filter_by(field="votes_per_category_per_day", actor_id=admin.id).count() == 1

    data["campaign"]["expert_weight"] = 90
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    refused = runner.invoke(args=["pingxuan", "campaign", "import", str(target)])
    assert refused.exit_code == 1 and "campaign.public_weight" in refused.output

    cloned = runner.invoke(args=["pingxuan", "campaign", "clone", str(campaign.year)])
    assert cloned.exit_code == 0, cloned.output
    clone = db.session.query(Campaign).filter_by(year=campaign.year + 1).one()
    assert [c.code for c in clone.categories] == [c.code for c in campaign.categories]
    assert clone.votes_per_category_per_day == 6

"""Vote integrity: the evidence stored with each ballot, each detection rule on a hand-built set of ballots it
must and must not flag, the preview's figures and invalidation by rule."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from tests.phone import last_code
from voting import integrity
from voting.ballots import cast_vote, counts, recount
from voting.evidence import IOT, MOBILE, VIRTUAL, phone_class, user_agent_family
from voting.models import Ballot, Voter
from voting.privacy import keyed_hash

T0 = datetime(2026, 6, 1, 8, 0)
_phones = itertools.count(1)


class Votes:
    """Hand-built ballots with chosen evidence, written straight to the table (the rules read only the table)."""

    def __init__(self, campaign):
        self.campaign = campaign
        self.slots: dict[tuple[int, int, object], int] = {}

    def voter(self, phone: str = MOBILE) -> Voter:
        v = Voter(phone_hash=f"{next(_phones):064d}", phone_class=phone)
        db.session.add(v)
        db.session.flush()
        return v

    def add(self, case, at: datetime, *, voter: Voter | None = None, subnet: str = "", network: str = "",
            automated: bool = False, secs: int | None = 86400, phone: str = MOBILE) -> Ballot:  # fmt: skip
        voter = voter or self.voter(phone)
        key = (voter.id, case.category_id, at.date())
        self.slots[key] = self.slots.get(key, 0) + 1
        ballot = Ballot(
            campaign_id=self.campaign.id, case_id=case.id, category_id=case.category_id, voter_id=voter.id,
            vote_date=at.date(), slot=self.slots[key], created_at=at, subnet_hash=subnet or f"s{voter.id}",
            network_hash=network or f"n{voter.id}", automated=automated, seconds_since_verified=secs,
            phone_class=phone,
        )  # fmt: skip
        db.session.add(ballot)
        db.session.flush()
        return ballot


@pytest.fixture
def setup(app, make):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    a, b, c = (make.case("public_vote") for _ in range(3))
    return campaign, Votes(campaign), a, b, c


def flags(campaign, rule: str) -> set[int]:
    return set(integrity.detect(campaign)[rule])


def honest_background(votes: Votes, cases, minutes: int = 90) -> list[Ballot]:
    """A steady trickle: one ballot a minute, for each case in turn, from many networks."""
    return [votes.add(cases[m % len(cases)], T0 + timedelta(minutes=m, seconds=7)) for m in range(minutes)]


# Evidence ----------------------------------------------------------------------------------------------------


def test_phone_segments_and_user_agents_are_classified():
    assert [phone_class(p) for p in ("13800138000", "17012345678", "16512345678", "14512345678")] == [
        MOBILE, VIRTUAL, VIRTUAL, IOT]  # fmt: skip
    assert user_agent_family("Mozilla/5.0 (X11) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36") == (
        "headless", True)  # fmt: skip
    assert user_agent_family("python-requests/2.32") == ("script", True)
    assert user_agent_family("") == ("none", True)
    wechat = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI"
    assert user_agent_family(wechat) == ("wechat", False)


def test_a_ballot_keeps_its_evidence_with_hashes_where_it_identifies_a_person(app, make):
    from voting.voters import request_code, verify_code

    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    case = make.case("public_vote")
    request_code("17012345678", "10.0.0.1")
    commit()
    code = last_code("17012345678")
    voter = verify_code("17012345678", code).voter
    commit()
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36"
    result = cast_vote(voter.id, case.id, "203.0.113.77", ua, "https://share.example.com/post/1?x=y")
    commit()
    ballot = db.session.get(Ballot, result.ballot_id)
    assert ballot.subnet_hash == keyed_hash("net", "203.0.113.0/24")
    assert ballot.network_hash == keyed_hash("net", "203.0.0.0/16")
    assert ballot.ip_hash == keyed_hash("ip", "203.0.113.77")
    row = " ".join(str(v) for v in db.session.execute(Ballot.__table__.select()).one())
    for secret in ("203.0.113", "17012345678", "12345678"):
        assert secret not in row  # neither the address nor the number, whole or in part
    assert (ballot.ua_family, ballot.automated, ballot.referrer_host) == ("headless", True, "share.example.com")
    assert ballot.phone_class == VIRTUAL and voter.phone_class == VIRTUAL
    assert 0 <= ballot.seconds_since_verified < 60 and ballot.voter_ballots_before == 0
    assert ballot.voter_age_seconds is not None
    second = make.case("public_vote")
    again = db.session.get(
        Ballot, cast_vote(voter.id, second.id, "2001:db8:1:2::5", "Mozilla/5.0 Firefox/130").ballot_id
    )
    assert again.voter_ballots_before == 1
    assert again.subnet_hash == keyed_hash("net", "2001:db8:1:2::/64")
    assert again.network_hash == keyed_hash("net", "2001:db8:1::/48")


# Rules ---------------------------------------------------------------------------------------------------------


def test_network_24_flags_a_farm_not_an_office_that_votes_like_everyone(setup):
    campaign, votes, a, b, _c = setup
    honest_background(votes, [a, b])
    farm = [votes.add(a, T0 + timedelta(minutes=3 * i), subnet="farm") for i in range(20)]
    office = [votes.add(a if i % 2 else b, T0 + timedelta(minutes=2 * i), subnet="office") for i in range(30)]
    flagged = flags(campaign, "network_24")
    assert flagged == {x.id for x in farm}
    assert not flagged & {x.id for x in office}
    reason = integrity.detect(campaign)["network_24"][farm[0].id]
    assert "20" in reason and "100 %" in reason


def test_network_16_flags_a_farm_spread_over_many_24s(setup):
    campaign, votes, a, b, _c = setup
    honest_background(votes, [a, b])
    farm = [votes.add(a, T0 + timedelta(minutes=i), subnet=f"farm{i}", network="provider") for i in range(40)]
    carrier = [votes.add([a, b][i % 2], T0 + timedelta(minutes=i), network="carrier") for i in range(60)]
    assert flags(campaign, "network_16") == {x.id for x in farm}
    assert flags(campaign, "network_24") == set() and not flags(campaign, "network_16") & {x.id for x in carrier}


def test_burst_is_measured_against_the_case_own_rolling_median(setup):
    campaign, votes, a, b, _c = setup
    background = honest_background(votes, [a, b], minutes=120)
    minute = T0 + timedelta(minutes=80)
    burst = [votes.add(a, minute + timedelta(seconds=i)) for i in range(30)]
    small = [votes.add(b, T0 + timedelta(minutes=90, seconds=i)) for i in range(4)]  # 4 in a minute: not a burst
    flagged = flags(campaign, "burst")
    burst_minute = {x.id for x in background if x.created_at.replace(second=0) == minute and x.case_id == a.id}
    assert flagged == {x.id for x in burst} | burst_minute
    assert not flagged & {x.id for x in small}


def test_coordinated_strikes_the_group_not_the_honest_voters_of_the_hour_around_it(setup):
    """A window that finds a group also reaches up to its width before and after the group; the honest voters of
    that overhang (the more voters, the more of them) are not the group's."""
    campaign, votes, a, b, c = setup
    honest = [votes.add([a, b, c][i % 3], T0 + timedelta(minutes=2 * i), secs=30) for i in range(120)]  # 4 hours
    start = T0 + timedelta(hours=2)
    group = [votes.add(a, start + timedelta(seconds=15 * i), secs=60) for i in range(40)]  # 40 voters in 10 minutes
    flagged = flags(campaign, "coordinated")
    assert {x.id for x in group} <= flagged
    far = {x.id for x in honest if abs((x.created_at - start).total_seconds() - 300) > 15 * 60}
    assert not flagged & far


def test_coordinated_is_judged_as_a_share_of_the_window_so_a_popular_case_lucky_hour_is_no_group(setup):
    """A case with a third of its category's voters gets 15 of an hour's 24 once: against what the hour's 9
    other voters predict (4.5) that looked like a group; as a share of the hour's 24 (8, give or take 2.3) it is
    chance. 40 voters in ten minutes for the same kind of case are not."""
    campaign, votes, a, b, c = setup
    day = []
    for hour in range(8):
        picks = [a] * 15 + [b] * 5 + [c] * 4 if hour == 3 else [a, b, c] * 8
        day += [votes.add(case, T0 + timedelta(hours=hour, seconds=150 * k), secs=30) for k, case in enumerate(picks)]
    group = [votes.add(b, T0 + timedelta(hours=6, seconds=15 * i), secs=60) for i in range(40)]
    flagged = flags(campaign, "coordinated")
    assert {x.id for x in group} <= flagged
    hour = (T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    lucky = {x.id for x in day if x.case_id == a.id and hour[0] <= x.created_at < hour[1]}
    assert not flagged & lucky


def test_coordinated_groups_voters_alike_not_everyone_who_voted_the_case_first(setup, make):
    """The group's voters cast two ballots for this category in one sitting; honest voters of the same minutes
    who also voted the case first and cast two ballots, but one in another category or the second hours later,
    are not the group's."""
    campaign, votes, a, b, c = setup
    elsewhere = make.case("public_vote", category_index=1)
    for i in range(120):  # the day's background: four hours, every kind of voter, every case
        at, voter = T0 + timedelta(minutes=2 * i), votes.voter()
        first = votes.add([a, b, c][i % 3], at, voter=voter, secs=30)
        if i % 2:
            second = elsewhere if i % 4 == 1 else (b if first.case_id == c.id else c)
            votes.add(second, at + timedelta(seconds=30), voter=voter)
    start = T0 + timedelta(hours=2)
    group, other_category, later = [], [], []
    for i in range(40):  # 40 voters in ten minutes: a, then b
        voter = votes.voter()
        at = start + timedelta(seconds=15 * i)
        group += [votes.add(a, at, voter=voter, secs=60), votes.add(b, at + timedelta(seconds=20), voter=voter)]
    for i in range(6):
        voter = votes.voter()
        at = start + timedelta(seconds=100 * i + 7)
        other_category.append(votes.add(a, at, voter=voter, secs=60))
        votes.add(elsewhere, at + timedelta(seconds=20), voter=voter)
        voter = votes.voter()
        later.append(votes.add(a, at, voter=voter, secs=60))
        votes.add(b, at + timedelta(hours=3), voter=voter)
    flagged = flags(campaign, "coordinated")
    assert {x.id for x in group} <= flagged
    assert not flagged & {x.id for x in other_category + later}


def _busy_category(votes: Votes, cases) -> list[Ballot]:
    """Four hours of one voter a minute, the cases in turn; three in four sit behind one of five office NATs."""
    return [
        votes.add(cases[i % 3], T0 + timedelta(seconds=60 * i), subnet=f"office{i % 5}" if i % 4 else "", secs=30)
        for i in range(240)
    ]


def test_coordinated_spares_the_honest_voters_of_its_hours_who_look_like_the_category_not_like_the_group(
    setup,
    make,
    client,
    bearer,  # noqa: F811
):
    """60 voters on addresses of their own vote b within twenty minutes; in the same minutes five of the category's
    usual voters, behind the offices' NATs like three in four of them, vote b too. They vote alike and were
    struck with the group; the group's own mix tells them apart: few of it share a /24, most honest voters do.
    The preview, on the page and in the API, says how many voters were left out."""
    campaign, votes, a, b, c = setup
    day = _busy_category(votes, [a, b, c])
    start = T0 + timedelta(hours=2)
    group = [votes.add(b, start + timedelta(seconds=20 * i + 3), secs=30) for i in range(60)]
    window = [x for x in day if x.case_id == b.id and start <= x.created_at < start + timedelta(minutes=20)]
    office = {x.id for x in window if x.subnet_hash.startswith("office")}
    assert len(office) == 5
    flagged = flags(campaign, "coordinated")
    assert {x.id for x in group} <= flagged
    assert not flagged & office
    commit()
    organizer = make.organizer()
    shown = client.post(
        f"/api/v1/campaigns/{campaign.id}/vote/integrity/preview",
        json={"selection": "coordinated", "case_ids": [b.id]}, headers=bearer(organizer),
    ).get_json()  # fmt: skip
    assert shown["spared_voters"] >= 5 and not office & set(shown["ballot_ids"])
    login(client, organizer)
    page = client.get(f"/vote-admin/{campaign.id}/integrity/preview", query_string={"selection": "coordinated"})
    spared = page.text.split('id="spared-voters">', 1)[1].split("</p>", 1)[0]
    assert f"另外 {shown['spared_voters']} 名选民不在其中，其选票保持有效" in spared


def test_coordinated_spares_no_one_for_a_kind_the_group_shares(setup):
    """The same 60 voters behind the offices' NATs, as the category's honest voters are: that kind is the
    group's own now, and every one of them is struck (sharing an address is no way out)."""
    campaign, votes, a, b, c = setup
    _busy_category(votes, [a, b, c])
    start = T0 + timedelta(hours=2)
    group = [votes.add(b, start + timedelta(seconds=20 * i + 3), subnet=f"office{i % 5}", secs=30) for i in range(60)]
    assert {x.id for x in group} <= flags(campaign, "coordinated")


def test_coordinated_strikes_a_small_group_spread_evenly_over_the_kinds(setup):
    """40 voters for b in twenty minutes, eight of each kind the category's voters seldom show (on an address of
    their own, or behind an office's NAT but slow to vote after verifying): no kind stands out much on its own,
    but the category's other voters of those kinds account for none of them, so none is spared."""
    campaign, votes, a, b, c = setup
    _busy_category(votes, [a, b, c])
    start = T0 + timedelta(hours=2)
    kinds = [("", 30), ("", 100), ("", 400), ("office1", 100), ("office2", 400)]
    group = [
        votes.add(b, start + timedelta(seconds=30 * i + 5), subnet=kinds[i % 5][0], secs=kinds[i % 5][1])
        for i in range(40)
    ]
    assert {x.id for x in group} <= flags(campaign, "coordinated")


def test_coordinated_does_not_count_another_case_group_as_the_category_traffic(setup):
    """A script votes b a voter a minute for three hours; in the middle a second one votes c 200 times in twenty
    minutes. Counted as the category's traffic, c's voters predicted a hundred honest voters for b there and
    cut b's group in half; they are a group of their own, and both are struck whole."""
    campaign, votes, a, b, c = setup
    _busy_category(votes, [a, b, c])
    slow = [votes.add(b, T0 + timedelta(minutes=30 + i, seconds=13), secs=30) for i in range(180)]
    fast = [votes.add(c, T0 + timedelta(hours=2, seconds=6 * i + 1), secs=30) for i in range(200)]
    flagged = flags(campaign, "coordinated")
    assert {x.id for x in fast} <= flagged
    assert {x.id for x in slow} <= flagged


def test_fresh_voter_is_verified_seconds_before_and_never_again(setup):
    campaign, votes, a, b, _c = setup
    fresh = votes.add(a, T0, secs=20)
    loyal = votes.voter()
    twice = [votes.add(a, T0, voter=loyal, secs=20), votes.add(b, T0 + timedelta(minutes=1), voter=loyal, secs=80)]
    old = votes.add(a, T0, secs=86400)
    assert flags(campaign, "fresh_voter") == {fresh.id}
    assert not flags(campaign, "fresh_voter") & {x.id for x in [*twice, old]}


def test_automation_flags_headless_and_scripted_clients_only(setup):
    campaign, votes, a, _b, _c = setup
    bots = [votes.add(a, T0, automated=True) for _ in range(3)]
    people = [votes.add(a, T0) for _ in range(3)]
    assert flags(campaign, "automation") == {x.id for x in bots}
    assert not flags(campaign, "automation") & {x.id for x in people}


def test_virtual_numbers_flag_a_case_far_above_the_campaign_share(setup):
    campaign, votes, a, b, _c = setup
    stuffed = [votes.add(a, T0, phone=VIRTUAL) for _ in range(15)]
    [votes.add(a, T0) for _ in range(5)]
    elsewhere = [votes.add(b, T0, phone=VIRTUAL)] + [votes.add(b, T0) for _ in range(60)]
    assert flags(campaign, "virtual_numbers") == {x.id for x in stuffed}
    assert not flags(campaign, "virtual_numbers") & {x.id for x in elsewhere}


def test_virtual_numbers_flag_an_hour_of_a_big_case_far_above_the_campaign_share(setup):
    """A case with 400 ballots over the day, 4 % from virtual numbers like the campaign's, gets 25 more from such
    numbers in one hour: a small share of its day (10 %), most of that hour's."""
    campaign, votes, a, b, _c = setup
    day = []
    for case in (a, b):
        day += [
            votes.add(case, T0 + timedelta(seconds=72 * i), phone=VIRTUAL if i % 25 == 0 else MOBILE)
            for i in range(400)
        ]
    hour = T0 + timedelta(hours=4)
    stuffed = [votes.add(a, hour + timedelta(seconds=100 * i + 3), phone=VIRTUAL) for i in range(25)]
    flagged = flags(campaign, "virtual_numbers")
    assert {x.id for x in stuffed} <= flagged
    outside = {x.id for x in day if abs((x.created_at - hour).total_seconds() - 1800) > 3600}
    assert not flagged & outside
    assert not flagged & {x.id for x in day if x.case_id == b.id}


def test_single_purpose_voters_are_the_one_ballot_voters_inside_a_burst(setup):
    campaign, votes, a, b, _c = setup
    honest_background(votes, [a, b], minutes=120)
    minute = T0 + timedelta(minutes=80)
    stuffers = [votes.add(a, minute + timedelta(seconds=i)) for i in range(30)]
    regulars = []
    for i in range(5):  # people who vote for several cases happened to vote in that minute
        v = votes.voter()
        regulars.append(votes.add(a, minute + timedelta(seconds=40 + i), voter=v))
        votes.add(b, T0 + timedelta(minutes=100 + i), voter=v)
    flagged = flags(campaign, "single_purpose")
    assert {x.id for x in stuffers} <= flagged
    assert not flagged & {x.id for x in regulars}


def test_slow_drip_needs_hours_in_a_row_of_fresh_voters_from_few_networks(setup):
    campaign, votes, a, b, c = setup
    drip = []
    for hour in range(6):
        start = T0 + timedelta(hours=hour)
        for i in range(6):  # six fresh voters an hour from two networks: under every rate limit
            drip.append(votes.add(a, start + timedelta(minutes=10 * i), subnet=f"drip{i % 2}", secs=30))
        for i in range(2):  # honest voters of the same case from elsewhere
            votes.add(a, start + timedelta(minutes=5 + 20 * i))
    short = []
    for hour in range(2):  # two hours only: not a drip
        for i in range(6):
            short.append(votes.add(b, T0 + timedelta(hours=hour, minutes=10 * i), subnet="short", secs=30))
    busy = []
    for i in range(60):  # a popular case: fresh voters too, but among many others from many networks
        busy.append(votes.add(c, T0 + timedelta(minutes=6 * i), subnet=f"net{i % 3}", secs=30 if i % 4 == 0 else 9999))
        votes.add(c, T0 + timedelta(minutes=6 * i, seconds=30))
    flagged = flags(campaign, "slow_drip")
    assert flagged == {x.id for x in drip}
    assert not flagged & {x.id for x in [*short, *busy]}


# Preview and invalidation -----------------------------------------------------------------------------------


def stuffed_campaign(setup):
    """Case a: 40 honest ballots (some voters also vote for b), then a 30-ballot burst of single-purpose voters."""
    campaign, votes, a, b, c = setup
    background = honest_background(votes, [a, b, c], minutes=150)
    minute = T0 + timedelta(minutes=100)
    stuffers = [votes.add(a, minute + timedelta(seconds=i), subnet="farm", secs=15) for i in range(30)]
    regular = votes.voter()
    honest_in_burst = votes.add(a, minute + timedelta(seconds=50), voter=regular)
    votes.add(b, T0 + timedelta(minutes=140, seconds=30), voter=regular)
    recount(campaign, fix=True)  # the hand-built ballots skipped the live counts
    commit()
    return campaign, a, b, c, background, stuffers, honest_in_burst


def test_preview_gives_counts_ranks_and_honest_looking_ballots_per_case(setup, make):
    campaign, a, b, c, background, stuffers, honest_in_burst = stuffed_campaign(setup)
    organizer = make.organizer()
    before = {k: sum(x.case_id == k for x in background) for k in (a.id, b.id, c.id)}
    before[a.id] += 31
    before[b.id] += 1

    one = integrity.preview(campaign, organizer, "burst", [a.id])
    [row] = one.cases
    background_in_minute = [
        x for x in background if x.case_id == a.id and x.created_at.replace(second=0) == T0 + timedelta(minutes=100)
    ]
    assert row.selected == 31 + len(background_in_minute) and row.before == before[a.id]
    assert row.after == before[a.id] - row.selected
    # the honest voter of the burst minute and the background ballot are flagged by no other rule
    assert row.look_honest == 1 + len(background_in_minute)

    both = integrity.preview(campaign, organizer, ["burst+single_purpose"], [a.id])
    [row] = both.cases
    assert both.total == 30 + len(background_in_minute) - sum(
        1 for x in background_in_minute if integrity.load_ballots(campaign.id).voter_ballots[x.voter_id] > 1
    )
    assert set(both.ballots) >= {x.id for x in stuffers} and honest_in_burst.id not in both.ballots
    assert row.rank_before == 1 and row.rank_after == (
        1 if row.after >= max(before[b.id], before[c.id]) else row.rank_after
    )


def test_invalidating_a_selection_drops_the_count_by_the_previewed_number(setup, make):
    campaign, a, b, c, background, stuffers, honest_in_burst = stuffed_campaign(setup)
    organizer = make.organizer()
    before = recount(campaign)
    shown = integrity.preview(campaign, organizer, "network_24,burst+single_purpose", [a.id])
    with pytest.raises(Conflict):
        integrity.invalidate_selection(
            campaign, organizer, "network_24,burst+single_purpose", "刷票", [a.id], shown.total + 1
        )
    with pytest.raises(Invalid):
        integrity.invalidate_selection(campaign, organizer, "no_such_rule", "刷票", [a.id])
    live_before = db.session.query(Ballot).filter_by(case_id=a.id, invalidated_at=None).count()
    n = integrity.invalidate_selection(
        campaign, organizer, "network_24,burst+single_purpose", "刷票", [a.id], shown.total
    )
    commit()
    assert n == shown.total and n >= 30
    assert db.session.query(Ballot).filter_by(case_id=a.id, invalidated_at=None).count() == live_before - n
    assert {x.id for x in stuffers} <= {x.id for x in Ballot.query.filter(Ballot.invalidated_at.isnot(None))}
    assert db.session.get(Ballot, honest_in_burst.id).invalidated_at is None
    assert "network_24" in db.session.get(Ballot, stuffers[0].id).invalid_reason
    del before


def test_rule_parameters_live_in_the_campaign_settings(setup, make):
    campaign, votes, a, _b, _c = setup
    organizer = make.organizer()
    fresh = votes.add(a, T0, secs=200)
    assert fresh.id not in flags(campaign, "fresh_voter")
    integrity.set_parameters(campaign, organizer, {"fresh_voter": {"seconds": 300}})
    assert integrity.parameters(campaign, "fresh_voter") == {"seconds": 300.0}
    assert fresh.id in flags(campaign, "fresh_voter")
    with pytest.raises(Invalid) as error:
        integrity.set_parameters(campaign, organizer, {"fresh_voter": {"minutes": 3}, "nope": {}})
    assert set(error.value.field_errors) == {"fresh_voter.minutes", "nope"}


# API --------------------------------------------------------------------------------------------------------


def test_api_lists_a_case_ballots_with_evidence_and_flags_for_staff_only(setup, client, make, bearer):  # noqa: F811
    campaign, a, b, c, background, stuffers, honest_in_burst = stuffed_campaign(setup)
    organizer = bearer(make.organizer())
    url = f"/api/v1/cases/{a.id}/ballots"
    for headers in ({}, bearer(make.applicant()), bearer(make.expert())):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get("/api/v1/cases/999999/ballots", headers=organizer).status_code == 404
    page = client.get(url + "?per_page=100", headers=organizer).get_json()
    assert page["total"] == db.session.query(Ballot).filter_by(case_id=a.id).count()
    by_id = {item["id"]: item for item in page["items"]}
    stuffed = by_id[stuffers[0].id]
    assert stuffed["subnet_hash"] == "farm" and {"burst", "single_purpose", "network_24"} <= set(stuffed["flags"])
    assert "network_24" not in by_id[honest_in_burst.id]["flags"]
    only = client.get(url + "?rule=network_24&per_page=100", headers=organizer).get_json()
    assert {item["id"] for item in only["items"]} == {x.id for x in stuffers}
    assert client.get(url + "?rule=nope", headers=organizer).status_code == 422
    second = client.get(url + "?per_page=10&page=2", headers=organizer).get_json()
    assert len(second["items"]) == 10 and second["page"] == 2


def test_api_previews_and_invalidates_a_selection(setup, client, make, bearer):  # noqa: F811
    campaign, a, b, c, background, stuffers, honest_in_burst = stuffed_campaign(setup)
    organizer = bearer(make.organizer())
    base = f"/api/v1/campaigns/{campaign.id}/vote/integrity"
    assert client.get(base, headers=bearer(make.applicant())).status_code == 403
    report = client.get(base, headers=organizer).get_json()
    assert report["cases"][0]["case_id"] == a.id and report["cases"][0]["per_rule"]["network_24"] == 30
    assert {r["name"] for r in report["rules"]} == set(integrity.RULES)
    body = {"selection": "network_24", "case_ids": [a.id]}
    preview = client.post(base + "/preview", json=body, headers=organizer).get_json()
    assert preview["total"] == 30 and preview["cases"][0]["after"] == preview["cases"][0]["before"] - 30
    live = counts([a.id])[a.id]
    stale = client.post(base + "/invalidate", json={**body, "reason": "刷票", "expected": 29}, headers=organizer)
    assert stale.status_code == 409
    done = client.post(base + "/invalidate", json={**body, "reason": "刷票", "expected": 30}, headers=organizer)
    assert done.get_json() == {"invalidated": 30}
    assert counts([a.id])[a.id] == live - 30 and recount(campaign) == []


def test_raw_user_agents_are_emptied_after_the_retention_and_the_counts_stay_verifiable(app, make):
    from campaigns.models import VOTE_CLOSED
    from pingxuan.clock import today
    from voting.window import purge_user_agents

    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    case = make.case("public_vote")
    voter = Votes(campaign).voter()
    commit()
    ballot_id = cast_vote(voter.id, case.id, "10.1.2.3", "Mozilla/5.0 HeadlessChrome/120 Safari/537.36").ballot_id
    commit()
    assert purge_user_agents() == 0  # the vote is open
    campaign.vote_status, campaign.vote_closes = VOTE_CLOSED, today() - timedelta(days=10)
    commit()
    assert purge_user_agents() == 0  # closed 10 days ago: within the 30 days kept
    app.config["VOTE_UA_RETENTION_DAYS"] = 7
    assert purge_user_agents() == 1
    commit()
    ballot = db.session.get(Ballot, ballot_id)
    db.session.refresh(ballot)
    assert ballot.user_agent == "" and (ballot.ua_family, ballot.automated) == ("headless", True)
    assert recount(campaign) == [] and counts([case.id])[case.id] == 1


def test_api_changes_rule_parameters(setup, client, make, bearer):  # noqa: F811
    campaign = setup[0]
    url = f"/api/v1/campaigns/{campaign.id}/vote/integrity/rules"
    assert client.put(url, json={"settings": {}}, headers=bearer(make.applicant())).status_code == 403
    organizer = bearer(make.organizer())
    done = client.put(url, json={"settings": {"burst": {"mads": 6}}}, headers=organizer).get_json()
    burst = next(r for r in done["rules"] if r["name"] == "burst")
    assert burst["parameters"]["mads"] == 6 and burst["parameters"]["window_minutes"] == 60
    refused = client.put(url, json={"settings": {"burst": {"mads": "many"}}}, headers=organizer)
    assert refused.status_code == 422 and "burst.mads" in refused.get_json()["errors"]
    assert integrity.parameters(campaign, "burst")["mads"] == 6

"""Demo data: the 2017 campaign with people in every role and ~40 cases spread over the workflow.

Everything is built through the operations the pages use (``register_unit``, ``create_user``, ``create_case``,
``attach_file``, ``fire``), one commit per action, so numbers, workflow events and notifications are real.
Which states the cases reach is derived from ``workflow.definition``: every state reachable without the
public vote having been closed (the vote and the awards are what a demo visitor should try out).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from typing import Any

from flask import current_app
from PIL import Image
from sqlalchemy import func, select
from stdnum.cn import uscc

from accounts.models import Unit, User
from accounts.operations import create_user, register_unit
from awards.decisions import confirm_awards
from awards.models import Notice
from awards.notice import publish_notice
from awards.objections import Upload, answer_objection, decide_objection, forward_objection, lodge_objection
from campaigns.models import Campaign
from campaigns.operations import load_campaign, organizations
from campaigns.settings import update_campaign
from campaigns.transfer import clone_campaign
from cases.dossier import CATEGORY, DOMAIN, LONG_TEXT, MONEY, ORGANIZATION, TEXT, TITLE, URL, form_of
from cases.models import Case
from cases.operations import attach_file, create_case, remove_attachment, update_case
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.assignment import assign, respond
from reviewers.models import ACCEPTED, PENDING, SUBMITTED, Assignment
from reviewers.pool import update_profile
from reviewers.scoring import ensure_default_rubric, rubric, save_review
from voting.voters import request_code, verify_code
from voting.window import close_vote, open_vote
from workflow.definition import (
    ADMIN,
    APPLICANT,
    DUE_DATE,
    EXPERT,
    ORGANIZER,
    OWNER,
    STATE_NAMES,
    TRANSITIONS,
    path_to,
)
from workflow.engine import fire

DEMO_PASSWORD = "pingxuan-demo"
DEMO_DOMAIN = "demo.pingxuan.cn"
# A guard that only the end of the public vote satisfies: states behind it are left for the visitor to reach.
_VOTE_GUARD = "vote_closed"
_REVIEW_GUARD = "reviews_complete"

COMMENTS = {
    "return_for_revision": "请补充项目投资明细和应用成效的量化数据后重新提交。",
    "reject": "项目投入运营时间晚于2017-03-31，不符合本次评选的申报条件。",
    "reinstate": "申报单位补充了运营证明材料，恢复资格审查。",
}


# The first case the office returns comes back revised as asked (the return comment): dossier versions 1 and 2.
REVISED_EFFECTS = "上线以来服务人次逐年增长，2016年服务市民120万人次，办理时间平均缩短一半以上，群众满意度达到92%。"


class DemoDataExists(RuntimeError):
    """The database has data already; the demo never mixes itself into real data."""


@dataclass
class Account:
    role: str
    email: str
    name: str
    unit: str = ""


@dataclass
class DemoResult:
    password: str
    accounts: list[Account] = field(default_factory=list)
    cases_by_state: dict[str, int] = field(default_factory=dict)


# People ---------------------------------------------------------------------------------------------------

ORGANIZERS = [("organizer1", "王晓梅"), ("organizer2", "李建国")]
EXPERTS = [
    ("expert1", "张立新"), ("expert2", "陈静"), ("expert3", "刘洋"),
    ("expert4", "赵海涛"), ("expert5", "孙丽华"), ("expert6", "周明"),
]  # fmt: skip

EXPERT_ORGANIZATIONS = ["青岛大学", "中国海洋大学", "青岛科技大学", "山东省信息技术研究院"]

# (name, kind, district, parent, contact, phone, recommending organization, members)
UNITS = [
    ("青岛市数字化城市管理监督指挥中心", "government", "市南区", "青岛市城市管理局", "高伟", "0532-85911001",
     "市城市管理局", [("shuzichengguan", "高伟"), ("shuzichengguan2", "马琳")]),
    ("青岛市第九人民医院", "institution", "市北区", "青岛市卫生和计划生育委员会", "黄蕾", "0532-83822002",
     "市卫生和计划生育委员会", [("hospital", "黄蕾")]),
    ("青岛云帆信息技术有限公司", "enterprise", "崂山区", "", "吴斌", "13805320003",
     "崂山区", [("yunfan", "吴斌"), ("yunfan2", "郑婷")]),
    ("青岛海川智能制造有限公司", "enterprise", "黄岛区", "", "冯刚", "13905320004",
     "黄岛区", [("haichuan", "冯刚")]),
    ("青岛城联支付科技有限公司", "enterprise", "市南区", "", "何静", "15805320005",
     "市经济和信息化委员会", [("chenglian", "何静"), ("chenglian2", "罗勇")]),
    ("青岛市交通运输信息中心", "government", "市北区", "青岛市交通运输委员会", "林峰", "0532-85916006",
     "市交通运输委员会", [("jiaotong", "林峰")]),
    ("青岛市李沧区浮山路街道办事处", "government", "李沧区", "李沧区人民政府", "徐敏", "0532-87627007",
     "李沧区", [("fushanlu", "徐敏"), ("fushanlu2", "谢磊")]),
    ("青岛市电子政务和信息资源管理办公室", "government", "市南区", "青岛市人民政府办公厅", "韩冰", "0532-85918008",
     "市经济和信息化委员会", [("dianzizhengwu", "韩冰")]),
]  # fmt: skip

# (category code, domain index, unit index, title, app name or "", summary)
CASES = [
    ("city-operation", 8, 0, "青岛市数字城管系统", "", "网格化管理城市部件和事件，问题发现到处置全程闭环。"),
    ("city-operation", 6, 5, "城市交通运行监测与信号控制平台", "", "实时采集路网流量，自适应调整路口信号配时。"),
    ("city-operation", 2, 7, "城市应急指挥综合平台", "", "整合应急资源，一张图调度突发事件处置。"),
    ("city-operation", 5, 0, "环境质量在线监测与预警系统", "", "空气、水质监测站联网，超标自动预警。"),
    ("city-operation", 10, 0, "地下综合管线地理信息系统", "", "全市地下管线三维建库，施工前在线查询。"),
    ("city-operation", 9, 6, "社区网格化社会治理平台", "", "网格员移动采集，矛盾纠纷就地化解。"),
    ("industry-management", 0, 7, "食品安全追溯监管平台", "", "从农田到餐桌的食品来源可查、去向可追。"),
    ("industry-management", 1, 7, "安全生产监管信息平台", "", "重点企业隐患排查与执法检查全程留痕。"),
    ("industry-management", 2, 2, "智慧海洋渔业船舶管理系统", "", "渔船北斗定位与出海报备，海上遇险快速救援。"),
    ("industry-management", 3, 3, "农业物联网大棚管理平台", "", "温湿度传感与远程控制，节水节肥。"),
    ("industry-management", 4, 7, "网上办税服务厅", "", "申报、缴税、发票业务全程网上办理。"),
    ("public-service", 0, 1, "互联网医院", "健康青岛", "在线问诊、复诊续方和药品配送，患者少跑腿。"),
    ("public-service", 0, 1, "区域医疗影像云平台", "", "检查影像跨医院共享互认，减少重复检查。"),
    ("public-service", 1, 2, "智慧教育云平台", "", "优质课程资源全市共享，师生在线互动。"),
    ("public-service", 2, 7, "社会保障自助服务平台", "", "社保查询、参保登记和待遇认证自助办理。"),
    ("public-service", 3, 7, "网上政务服务大厅", "", "行政审批事项网上申报、进度实时查询。"),
    ("public-service", 4, 2, "智慧旅游公共服务平台", "", "景区客流、停车和导览信息一站获取。"),
    ("citizen-service", 0, 4, "市民移动支付公共服务平台", "城联付", "公交、水电燃气缴费一部手机全搞定。"),
    ("citizen-service", 1, 5, "交通出行信息查询服务", "掌上公交", "公交到站实时查询与出行路线规划。"),
    ("citizen-service", 2, 6, "智慧社区综合服务平台", "", "物业、社区服务和邻里互助线上办理。"),
    ("citizen-service", 3, 6, "智慧养老服务平台", "", "居家老人紧急呼叫、助餐助医上门服务。"),
    ("citizen-service", 0, 4, "城市一卡通移动支付应用", "", "手机NFC刷卡乘车，线上充值。"),
    ("citizen-service", 1, 5, "公共自行车智能租赁系统", "", "扫码借还车，站点车辆实时查询。"),
    ("enterprise-service", 0, 2, "中小企业云服务平台", "", "为中小企业提供低成本云主机和软件服务。"),
    ("enterprise-service", 1, 7, "企业网上注册登记系统", "", "企业设立登记全程电子化，三天办结。"),
    ("enterprise-service", 2, 4, "中小微企业融资信息服务平台", "", "银企对接、信用信息共享，缓解融资难。"),
    ("enterprise-service", 0, 2, "工业设计协同云服务平台", "", "设计资源在线共享与协同研发。"),
    ("enterprise-service", 1, 7, "企业信用信息公示平台", "", "企业信用信息统一归集、依法公示。"),
    ("smart-industry", 0, 3, "家电智能制造互联工厂", "", "用户直连工厂，大规模个性化定制。"),
    ("smart-industry", 0, 3, "轨道交通装备智能制造车间", "", "焊接机器人和制造执行系统提升良品率。"),
    ("smart-industry", 1, 2, "工业大数据平台", "", "设备运行数据汇聚分析，预测性维护。"),
    ("smart-industry", 2, 3, "港口物联网智能调度系统", "", "集装箱码头设备联网，装卸自动调度。"),
    ("smart-industry", 3, 2, "软件和信息服务众创平台", "", "为软件企业提供测试、孵化和人才服务。"),
    ("smart-industry", 1, 4, "商贸流通大数据分析平台", "", "消费数据分析支撑商圈规划和业态调整。"),
    ("information-infrastructure", 0, 7, "城市光网与无线城市工程", "", "光纤到户全覆盖，重点公共场所免费无线上网。"),
    ("information-infrastructure", 1, 2, "城市云计算数据中心", "", "绿色节能数据中心承载政务和企业应用。"),
    ("information-infrastructure", 2, 7, "市级电子政务云平台", "", "部门系统集约上云，资源按需分配。"),
    ("information-infrastructure", 3, 7, "政务网络信息安全监测平台", "", "政务网站安全态势实时监测与通报。"),
    ("information-infrastructure", 1, 7, "城市大数据平台", "", "人口、法人、空间地理基础数据库共享交换。"),
    ("information-infrastructure", 0, 5, "交通专网与视频监控传输网络", "", "交通视频和数据专网覆盖主要道路。"),
]  # fmt: skip


# Helpers ----------------------------------------------------------------------------------------------------


def dossier_pdf(lines: list[str]) -> bytes:
    """A small but real one-page PDF (Helvetica, ASCII text), with a correct cross-reference table."""
    text = " ".join(f"({line.replace(chr(92), '').replace('(', '[').replace(')', ']')}) Tj 0 -24 Td" for line in lines)
    content = f"BT /F1 16 Tf 72 760 Td {text} ET".encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _credit_code(kind: str, index: int) -> str:
    prefix = {"government": "11", "institution": "12"}.get(kind, "91")
    body = f"{prefix}370200MA{index:07d}"
    return body + uscc.calc_check_digit(body)


def demo_states() -> list[str]:
    """States the demo fills: every declared state reachable before the public vote closes."""
    return [s for s in STATE_NAMES if not any(_VOTE_GUARD in t.guards for t in path_to(s))]


def has_data() -> bool:
    users = db.session.scalar(select(func.count(User.id)))
    campaigns = db.session.scalar(select(func.count(Campaign.id)))
    return bool(users or campaigns)


# The builder ------------------------------------------------------------------------------------------------


def build(password: str = DEMO_PASSWORD) -> DemoResult:
    """Fill an empty database with the demo; raise DemoDataExists if anything is there already."""
    if has_data():
        raise DemoDataExists("the database already holds users or campaigns")
    result = DemoResult(password=password)
    # Hundreds of demo mails, tasks and transitions would drown the credentials printed at the end.
    quiet = [logging.getLogger(name) for name in ("pingxuan.mail", "transitions", "celery")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.WARNING)
    try:
        _build(result, password)
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    return result


def _build(result: DemoResult, password: str) -> None:
    start = today()
    campaign = load_campaign(
        overrides={
            "submission_opens": start - timedelta(days=30),
            "submission_closes": start + timedelta(days=30),
            # A demo shows every phase at once: the finalists can be voted on today.
            "review_opens": start - timedelta(days=10),
            "review_closes": start + timedelta(days=20),
            "vote_opens": start - timedelta(days=1),
            "vote_closes": start + timedelta(days=30),
        }
    )
    commit()

    def account(role: str, local: str, name: str, unit: Unit | None = None) -> User:
        user = create_user(f"{local}@{DEMO_DOMAIN}", name, password, role, unit)
        commit()
        result.accounts.append(Account(role, user.email, user.name, unit.name if unit else ""))
        return user

    account(ADMIN, "admin", "系统管理员")
    organizers = [account(ORGANIZER, local, name) for local, name in ORGANIZERS]
    experts = [account(EXPERT, local, name) for local, name in EXPERTS]
    ensure_default_rubric(campaign)
    for index, expert in enumerate(experts):  # each expert knows two categories, in the pool with a profile
        codes = [campaign.categories[index % 7].code, campaign.categories[(index + 3) % 7].code]
        update_profile(organizers[0], expert, {"organization": EXPERT_ORGANIZATIONS[index % len(EXPERT_ORGANIZATIONS)],
                                               "max_load": 30, "categories": codes}, campaign)  # fmt: skip
    commit()

    orgs = {org.name_zh: org for org in organizations()}
    units: list[tuple[Unit, list[User], int]] = []
    for index, (name, kind, district, parent, contact, phone, org, members) in enumerate(UNITS, 1):
        (first_local, first_name), *others = members
        first = register_unit(
            {"name": name, "kind": kind, "district": district, "parent_org": parent, "contact_name": contact,
             "contact_phone": phone, "credit_code": _credit_code(kind, index)},
            f"{first_local}@{DEMO_DOMAIN}", first_name, password,
        )  # fmt: skip
        commit()
        unit = first.unit
        result.accounts.append(Account(APPLICANT, first.email, first.name, unit.name))
        people = [first] + [account(APPLICANT, local, person, unit) for local, person in others]
        units.append((unit, people, orgs[org].id))

    categories = {c.code: c for c in campaign.categories}
    states = demo_states()
    revised = False
    for index, (code, domain_index, unit_index, title, named_app, summary) in enumerate(CASES):
        state = states[index % len(states)]
        unit, people, org_id = units[unit_index]
        owner = people[index % len(people)]
        category = categories[code]
        domain = category.domains[domain_index % len(category.domains)]
        path = path_to(state)
        # A case the office rejects really went live after the cut-off; the others before it.
        rejected = bool(path) and path[-1].comment_required and path[-1].style == "danger"
        since = date(2017, 5, 15) if rejected else date(2013 + index % 4, 1 + index % 12, 1 + index % 28)
        complete = bool(path) or index % 2 == 0  # some drafts are still half written
        data = _dossier(
            campaign, title=title, category=category, domain=domain, unit=unit, org_id=org_id, since=since,
            amount=f"{(index * 7919) % 4800 + 120}0000.00", summary=summary, texts=DEMO_TEXTS,
            url="" if named_app else f"https://www.qingdao.gov.cn/demo/{index + 1}", name=named_app, complete=complete,
        )  # fmt: skip
        case = create_case(owner, data, campaign)
        if complete:
            pdf = dossier_pdf(
                [f"pingxuan demo dossier {index + 1}", f"category: {category.name_en}", f"domain: {domain.name_en}"]
            )
            attach_file(case, owner, "document", f"{title}申报书.pdf", pdf)
        commit()
        organizer = organizers[index % len(organizers)]
        for transition in path:
            if _REVIEW_GUARD in transition.guards:
                _assign(case, experts, organizer, index, SUBMITTED)
            actor = owner if OWNER in transition.roles else organizer
            comment = COMMENTS.get(transition.name, "演示数据") if transition.comment_required else None
            due = {DUE_DATE: today() + timedelta(days=14)} if DUE_DATE in transition.required_fields else None
            fire(case, transition.name, actor, comment=comment, fields=due)
            commit()
        if _needs_reviewers(case.state):
            _assign(case, experts, organizer, index, None)
        if path and path[-1].name == "return_for_revision" and not revised:
            revised = _revise(case, owner, index)
        result.cases_by_state[case.state] = result.cases_by_state.get(case.state, 0) + 1
    open_vote(campaign, organizers[0])  # the finalists are on the showcase, open for votes
    commit()
    _notice_edition(campaign, organizers[0], experts, units)


# The previous edition in its public notice (公示) ----------------------------------------------------------------

NOTICE_YEAR = 2016
NOTICE_CONTACT = "青岛市智慧城市建设办公室 0532-85911234"
# (category code, domain index, unit index, title, summary): the finalists of two categories
NOTICE_CASES = [
    ("city-operation", 8, 0, "城市部件智能巡查系统", "视频识别城市部件损坏，自动派单处置。"),
    ("city-operation", 6, 5, "公交优先信号控制系统", "公交车辆接近路口时自动延长绿灯。"),
    ("city-operation", 9, 6, "街道网格员移动巡查应用", "网格员手机上报，事件处置结果实时反馈。"),
    ("public-service", 0, 1, "预约挂号统一服务平台", "全市医院号源统一预约，分时段就诊。"),
    ("public-service", 3, 7, "不动产登记网上预审系统", "材料网上预审，窗口一次办结。"),
]  # fmt: skip
# (phone, category code, ground, text) against the category's first proposed award: the first objection is decided
# (forwarded, answered by the unit, dismissed), the second stays open
NOTICE_OBJECTIONS = [
    ("13800000001", "public-service", "cutoff", "据了解该平台2016年5月才在全市医院上线，晚于截止日期，附现场照片。"),
    ("13800000002", "city-operation", "copied", "申报材料中的应用成效数据与另一城区的同类项目完全一致，疑似抄袭。"),
]  # fmt: skip
NOTICE_ANSWER = "平台于2015年6月在市立医院试运行，2015年10月全市上线，附运行报告。"
NOTICE_REASON = "经核查运行日志和医院验收报告，平台2015年10月已在全市上线，早于截止日期，异议不成立。"


def _notice_edition(current: Campaign, organizer: User, experts: list[User], units: list) -> None:
    """The previous edition, its vote closed and its proposed awards in public notice today, with one objection
    decided (forwarded, answered by the unit, dismissed with a reason, the objector told by SMS) and one open;
    all through the operations, like the office and the public would. Its windows were open while its cases went
    through them, then move into the past as they were."""
    start = today()
    around_today = {"submission_opens": start - timedelta(days=1), "submission_closes": start,
                    "review_opens": start - timedelta(days=1), "review_closes": start,
                    "vote_opens": start - timedelta(days=1), "vote_closes": start}  # fmt: skip
    campaign = clone_campaign(current, organizer, year=NOTICE_YEAR, dates=around_today)
    campaign.notice_contact = NOTICE_CONTACT  # no setting page for it yet
    commit()
    categories = {c.code: c for c in campaign.categories}
    owners = {}
    for index, (code, domain_index, unit_index, title, summary) in enumerate(NOTICE_CASES):
        unit, people, org_id = units[unit_index]
        category = categories[code]
        domain = category.domains[domain_index % len(category.domains)]
        data = _dossier(
            campaign, title=title, category=category, domain=domain, unit=unit, org_id=org_id,
            since=date(2014 + index % 2, 3 + index, 1), amount=f"{(index + 3) * 850000}.00", summary=summary,
            texts=NOTICE_TEXTS, url=f"https://www.qingdao.gov.cn/demo/2016/{index + 1}", name="", complete=True,
        )  # fmt: skip
        case = create_case(people[0], data, campaign)
        attach_file(case, people[0], "document", f"{title}申报书.pdf", dossier_pdf([f"pingxuan demo 2016 {index + 1}"]))
        commit()
        for transition in path_to("public_vote"):
            if _REVIEW_GUARD in transition.guards:
                _assign(case, experts, organizer, index, SUBMITTED)
            fire(case, transition.name, people[0] if OWNER in transition.roles else organizer)
            commit()
        owners[case.id] = people[0]
    open_vote(campaign, organizer)
    close_vote(campaign, organizer)
    for code, size in (("city-operation", 2), ("public-service", 1)):
        confirm_awards(campaign, categories[code], organizer, size=size)
    commit()
    published = publish_notice(campaign, organizer)
    if published.starts_on > start:  # loaded on a weekend: the demo's notice runs from today all the same
        published.starts_on = start
    past = {"submission_opens": start - timedelta(days=120), "submission_closes": start - timedelta(days=90),
            "review_opens": start - timedelta(days=85), "review_closes": start - timedelta(days=40),
            "vote_opens": start - timedelta(days=30), "vote_closes": start - timedelta(days=10)}  # fmt: skip
    update_campaign(campaign, past, organizer)
    commit()
    with _demo_phones():
        _objections(published, organizer, owners, start)


class DemoPhone:
    """The demo objectors' handset: their texts (the one-time code, the outcome) stay in the demo whatever SMS
    backend is configured; the outbox keeps them as for any number (the code redacted)."""

    name = "demo-phone"
    texts: list[tuple[str, str]] = []

    def send(self, phone: str, body: str) -> None:
        DemoPhone.texts.append((phone, body))


@contextmanager
def _demo_phones() -> Iterator[None]:
    config = current_app.config
    before = config.get("SMS_BACKEND")
    config["SMS_BACKEND"] = f"{__name__}:DemoPhone"
    try:
        yield
    finally:
        if before is None:
            config.pop("SMS_BACKEND", None)
        else:
            config["SMS_BACKEND"] = before


def _objections(published: Notice, organizer: User, owners: dict[int, User], start: date) -> None:
    """Two members of the public verify their numbers and object; the office handles the first to the end."""
    lodged = []
    for phone, code, ground, text in NOTICE_OBJECTIONS:
        request_code(phone, "127.0.0.1")
        commit()
        texted = next(body for number, body in reversed(DemoPhone.texts) if number == phone)
        voter = verify_code(phone, re.search(r"\d{6}", texted)[0]).voter
        case = next(e.case for e in published.entries if e.case.category.code == code)
        first = not lodged
        photos = [Upload("现场照片.jpg", _photo())] if first else []
        lodged.append(lodge_objection(case, voter.id, phone, ground, text, anonymous=first, uploads=photos))
        commit()
    decided = lodged[0]
    forward_objection(decided, organizer, "请说明项目上线运行的时间，并提供证明材料。", start + timedelta(days=3))
    commit()
    report = [Upload("运行报告.pdf", dossier_pdf(["operation report 2015"]))]
    answer_objection(decided, owners[decided.case_id], NOTICE_ANSWER, report)
    commit()
    decide_objection(decided, organizer, upheld=False, reason=NOTICE_REASON)
    commit()


# Sample texts for the long texts of the form after its teaser (the 2017 form: description, innovation, effects,
# beneficiaries), in order; the first is formatted with the title, the unit, the domain and the summary.
DEMO_TEXTS = (
    "{title}是{unit}建设运营的{domain}领域信息化项目。{summary}",
    "采用云计算、大数据和移动互联网技术，业务流程全程在线、数据实时共享。",
    "上线以来服务人次逐年增长，办理时间平均缩短一半以上，群众满意度明显提升。",
    "全市市民、企业和相关政府部门",
)
NOTICE_TEXTS = (
    DEMO_TEXTS[0],
    "移动互联网与大数据技术结合，业务全程在线办理。",
    "上线以来服务人次稳步增长，办理时间明显缩短。",
    "全市市民和企业",
)


def _dossier(
    campaign: Campaign,
    *,
    title: str,
    category: Any,
    domain: Any,
    unit: Unit,
    org_id: int,
    since: date,
    amount: str,
    summary: str,
    texts: tuple[str, ...],
    url: str,
    name: str,
    complete: bool,
) -> dict[str, Any]:
    """A demo dossier for the campaign's declared form, field by field by type: the units it names are the
    applicant, the teaser is the summary, the other long texts come from ``texts`` in order, a web address or
    else an app name. A draft still half written (not ``complete``) has the title, category, domain, summary and
    the first unit named only."""
    form = form_of(campaign)
    data: dict[str, Any] = {}
    long_texts = iter(texts)
    named = 0
    for item in form.value_fields:
        found: Any = None
        if item.type == CATEGORY:
            found = category.id
        elif item.type == DOMAIN:
            found = domain.id
        elif item.type == ORGANIZATION:
            found = org_id if complete else None
        elif item.key == TITLE:
            found = title
        elif item.eligibility_date:
            found = since if complete else None
        elif item is form.teaser:
            found = summary
        elif item.names_applicant:
            named += 1
            found = unit.name if complete or named == 1 else None
        elif not complete:
            continue
        elif item.type == LONG_TEXT:
            text = next(long_texts, "")
            found = text.format(title=title, unit=unit.name, domain=domain.name_zh, summary=summary)
        elif item.type == MONEY:
            found = amount
        elif item.type == URL:
            found = url
        elif item.type == TEXT:
            found = name
        if found is not None:
            data[item.key] = found
    return data


def _photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (640, 480), (70, 130, 180)).save(out, "JPEG")
    return out.getvalue()


def _revise(case: Case, owner: User, index: int) -> bool:
    """The unit adds the figures the office asked for, replaces its PDF and resubmits."""
    form = form_of(case.campaign)
    third = [item for item in form.value_fields if item.type == LONG_TEXT and item is not form.teaser][2]
    update_case(case, owner, {third.key: REVISED_EFFECTS})  # the 2017 form's effects
    first = case.attachments[0]
    remove_attachment(case, owner, first.id)
    pdf = dossier_pdf([f"pingxuan demo dossier {index + 1}", "revised: investment details, 2016 figures"])
    attach_file(case, owner, "document", first.filename, pdf)
    commit()
    fire(case, "resubmit", owner)
    commit()
    return True


def _needs_reviewers(state: str) -> bool:
    """A case waiting for shortlisting has experts assigned, some still at work."""
    return any(state in t.sources and _REVIEW_GUARD in t.guards for t in TRANSITIONS)


def _assign(case: Case, experts: list[User], organizer: User, index: int, status: str | None) -> None:
    """Three experts per case through the assignment operations; "submitted" means really scored."""
    if db.session.scalar(select(func.count(Assignment.id)).where(Assignment.case_id == case.id)):
        return
    criteria = rubric(case.campaign)
    for offset in range(3):
        expert = experts[(index + offset) % len(experts)]
        assignment = assign(case, expert, organizer)
        wanted = status or (PENDING, ACCEPTED, SUBMITTED)[offset]
        if wanted == ACCEPTED:
            respond(assignment, expert, accept=True)
        elif wanted == SUBMITTED:  # an expert scores what they have accepted
            respond(assignment, expert, accept=True)
            scores = {c.id: c.max_score * (60 + (index * 7 + offset * 11) % 40) // 100 for c in criteria}
            save_review(assignment, expert, scores, comment="演示评审意见", submit=True)
        commit()

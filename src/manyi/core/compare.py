"""Significance of differences between groups (segments or periods).

Welch's t test and the Mann–Whitney U test for the index and each dimension, the
two-proportion z test (pooled) for satisfaction rates, one-way ANOVA and Kruskal–Wallis across
all groups, with Holm (1979) or Benjamini–Hochberg (1995) adjustment across the pairwise
tests of each table.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, adjust
from manyi.core.messages import Message
from manyi.core.stats import nps_difference, nps_estimate
from manyi.core.tdist import chi2_sf, f_sf, norm_sf
from manyi.core.wstats import Moments, welch_from_stats


def two_proportion_z(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Pooled two-proportion z test: z = (p₁ − p₂)/√(p̂(1 − p̂)(1/n₁ + 1/n₂)); two-sided p."""
    if min(n1, n2) == 0:
        return float("nan"), float("nan")
    p = (x1 + x2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan"), float("nan")
    z = (x1 / n1 - x2 / n2) / se
    return float(z), float(2 * norm_sf(abs(z)))


@dataclass
class ValueCounts:
    """The distinct values of a sample (ascending) with their counts: all the rank tests need,
    and mergeable (the counts of two parts add up)."""

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> ValueCounts:
        x = np.asarray(x, dtype=float)
        return cls._counted(x[~np.isnan(x)], None)

    def merge(self, other: ValueCounts) -> ValueCounts:
        """Both parts' values are distinct and ascending: merged in order (a stable sort of
        two runs), equal neighbours' counts added."""
        v = np.concatenate([self.values, other.values])
        c = np.concatenate([self.counts, other.counts])
        order = np.argsort(v, kind="stable")
        v, c = v[order], c[order]
        first = np.flatnonzero(np.concatenate([[True], v[1:] != v[:-1]])) if len(v) else order
        return ValueCounts(v[first], np.add.reduceat(c, first) if len(v) else c)

    @classmethod
    def _counted(cls, x: np.ndarray, counts: np.ndarray | None) -> ValueCounts:
        """The distinct values of ``x`` (ascending) with their counts (``counts``: each value's
        count, 1 when None): a hash table finds them, and only the distinct values are sorted
        (np.unique would sort every value)."""
        codes, uniq = pd.factorize(x, sort=False)
        c = np.bincount(codes, weights=counts, minlength=len(uniq))
        order = np.argsort(uniq, kind="stable")
        return cls(np.asarray(uniq, dtype=float)[order], c[order].astype(np.int64))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def sample(self) -> np.ndarray:
        return np.repeat(self.values, self.counts)


def mann_whitney(y_sorted: np.ndarray, x_sorted: np.ndarray) -> tuple[float, float]:
    """Mann–Whitney U test of y against x, two-sided: (U of y, p), the numbers of
    ``scipy.stats.mannwhitneyu(y, x)``: U₁ = Σ over y of (#x below + ½ #x equal); the normal
    approximation with the tie correction and the continuity correction (Mann & Whitney 1947;
    tie term Σ(t³ − t) of the pooled sample), or the exact null distribution when a sample has
    eight values or fewer and nothing is tied, as scipy's ``method="auto"`` does."""
    return mann_whitney_counts(ValueCounts.of(y_sorted), ValueCounts.of(x_sorted))


def mann_whitney_counts(y: ValueCounts, x: ValueCounts) -> tuple[float, float]:
    """:func:`mann_whitney` from the samples' value counts."""
    n1, n2 = y.n, x.n
    below_x = np.concatenate([[0], np.cumsum(x.counts)])
    below = below_x[np.searchsorted(x.values, y.values, side="left")]
    upto = below_x[np.searchsorted(x.values, y.values, side="right")]
    u1 = float(np.sum(y.counts * below) + 0.5 * np.sum(y.counts * (upto - below)))
    t = y.merge(x).counts.astype(float)
    if (n1 <= 8 or n2 <= 8) and not (t > 1).any():
        from scipy.stats import mannwhitneyu  # the exact distribution, for tiny samples only

        r = mannwhitneyu(y.sample(), x.sample(), alternative="two-sided")
        return float(r.statistic), float(r.pvalue)
    n = n1 + n2
    u = max(u1, n1 * n2 - u1)
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - float(np.sum(t**3 - t)) / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n1 * n2 / 2 - 0.5) / s
    return u1, float(np.clip(2 * norm_sf(z), 0.0, 1.0))


def kruskal(samples: list[np.ndarray]) -> tuple[float, float]:
    """Kruskal–Wallis H with the tie correction and its χ²(k − 1) p-value (Kruskal & Wallis
    1952; the numbers of ``scipy.stats.kruskal``)."""
    return kruskal_counts([ValueCounts.of(v) for v in samples])


def kruskal_counts(samples: list[ValueCounts]) -> tuple[float, float]:
    """:func:`kruskal` from the samples' value counts: each distinct value's average rank
    (1-based) times its count in a sample gives the sample's rank sum."""
    pooled = samples[0]
    for v in samples[1:]:
        pooled = pooled.merge(v)
    n_tot = pooled.n
    c = pooled.counts.astype(float)
    ranks = np.cumsum(c) - c + (c + 1) / 2.0
    sizes = np.array([v.n for v in samples], dtype=float)
    sums = np.array(
        [float(np.sum(v.counts * ranks[np.searchsorted(pooled.values, v.values)])) for v in samples]
    )
    ssbn = float(np.sum(sums**2 / sizes))
    h = 12.0 / (n_tot * (n_tot + 1)) * ssbn - 3 * (n_tot + 1)
    h /= 1 - float(np.sum(c**3 - c)) / (n_tot**3 - n_tot)
    return float(h), chi2_sf(h, len(samples) - 1)


def anova_oneway(samples: list[np.ndarray]) -> tuple[float, float]:
    """One-way ANOVA F = (SS between / (k − 1)) / (SS within / (N − k)) and its p-value
    (the numbers of ``scipy.stats.f_oneway``; F infinite when every group is constant but
    the means differ)."""
    return anova_counts([ValueCounts.of(v) for v in samples])


def anova_counts(samples: list[ValueCounts]) -> tuple[float, float]:
    """:func:`anova_oneway` from the samples' value counts."""
    k = len(samples)
    n = np.array([v.n for v in samples], dtype=float)
    means = np.array([float(v.counts @ v.values) / v.n for v in samples])
    grand = float(np.sum(means * n) / n.sum())
    ssb = float(np.sum(n * (means - grand) ** 2))
    ssw = float(
        sum(float(v.counts @ (v.values - m) ** 2) for v, m in zip(samples, means, strict=True))
    )
    dfb, dfw = k - 1, n.sum() - k
    if ssw == 0:
        return (np.inf, 0.0) if ssb > 0 else (np.nan, np.nan)
    f = (ssb / dfb) / (ssw / dfw)
    return float(f), f_sf(f, dfb, float(dfw))


@dataclass
class GroupSums:
    """One group of a comparison as mergeable sums: per measure its moments (weighted when
    weights are given) and value counts (the rank tests and ANOVA, unweighted), the
    satisfaction rate's moments and, with NPS answers, the moments of the promoter and
    detractor indicators."""

    measures: dict[str, tuple[Moments, ValueCounts]]
    satisfied: Moments
    nps: Moments | None = None

    @classmethod
    def of(
        cls,
        measures: dict[str, np.ndarray],
        satisfied: np.ndarray,
        w: np.ndarray | None = None,
        nps: np.ndarray | None = None,
    ) -> GroupSums:
        got = {
            name: (Moments.of(v, w), ValueCounts.of(v)) for name, v in measures.items()
        }
        npm = None
        if nps is not None:
            x = np.asarray(nps, dtype=float)
            with np.errstate(invalid="ignore"):
                ind = np.column_stack([np.where(np.isnan(x), np.nan, x >= 9),
                                       np.where(np.isnan(x), np.nan, x <= 6)])
            npm = Moments.of(ind, w)
        return cls(got, Moments.of(satisfied, w), npm)

    def merge(self, other: GroupSums) -> GroupSums:
        return GroupSums(
            {k: (m.merge(other.measures[k][0]), c.merge(other.measures[k][1]))
             for k, (m, c) in self.measures.items()},
            self.satisfied.merge(other.satisfied),
            None if self.nps is None or other.nps is None else self.nps.merge(other.nps),
        )


def compare(
    groups: list[str],
    measures: dict[str, list[np.ndarray]],
    satisfied: list[np.ndarray],
    pairs: str = "all",
    method: str = "holm",
    alpha: float = 0.05,
    weights: list[np.ndarray] | None = None,
    nps: list[np.ndarray] | None = None,
) -> AnalysisResult:
    """Compare ``groups`` on each measure (values per group) and on the satisfaction rate.

    ``nps`` (per group, the 0-10 answers, NaN where unanswered) adds a table ``nps`` with the
    difference of the NPS values and its z test (Var = SE_a² + SE_b², each SE from the ±1
    coding on Kish's effective n).

    ``pairs``: ``all`` (every pair) or ``previous`` (each group against the one before it,
    for periods). ``weights`` (per group, aligned with the values): weighted means, Welch's
    test and the rate test on Kish's effective sizes; Mann–Whitney, ANOVA and Kruskal–Wallis
    stay unweighted (said in a warning).
    """
    sums = [
        GroupSums.of(
            {name: raw[g] for name, raw in measures.items()},
            satisfied[g],
            None if weights is None else weights[g],
            None if nps is None else nps[g],
        )
        for g in range(len(groups))
    ]
    return compare_from(groups, sums, pairs, method, alpha, weights is not None)


def compare_from(
    groups: list[str],
    sums: list[GroupSums],
    pairs: str = "all",
    method: str = "holm",
    alpha: float = 0.05,
    weighted: bool = False,
) -> AnalysisResult:
    """:func:`compare` from each group's :class:`GroupSums`."""
    warnings: list[Message] = []
    if weighted:
        warnings.append(Message("an.unweighted_tests"))
    idx = (
        list(combinations(range(len(groups)), 2))
        if pairs == "all"
        else [(i - 1, i) for i in range(1, len(groups))]
    )
    names = list(sums[0].measures) if sums else []
    rows = []
    for name in names:
        got = [g.measures[name] for g in sums]
        for a, b in idx:
            (ma, ca), (mb, cb) = got[a], got[b]
            row = {
                "measure": name,
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": int(ma.n[0]),
                "n_b": int(mb.n[0]),
                "mean_a": float(ma.mean[0]) if ma.n[0] else np.nan,
                "mean_b": float(mb.mean[0]) if mb.n[0] else np.nan,
            }
            row["diff"] = row["mean_b"] - row["mean_a"]
            if ca.n >= 2 and cb.n >= 2 and (len(ca.values) > 1 or len(cb.values) > 1):
                ta, tb = ma.test(0), mb.test(0)
                tt, tdf, tp = welch_from_stats(
                    ta["mean"], ta["sd"], ta["n_eff"], tb["mean"], tb["sd"], tb["n_eff"]
                )
                mw_u, mw_p = mann_whitney_counts(cb, ca)
                row.update(welch_t=tt, welch_df=tdf, welch_p=tp, mw_u=mw_u, mw_p=mw_p)
            else:
                row.update(
                    welch_t=np.nan, welch_df=np.nan, welch_p=np.nan, mw_u=np.nan, mw_p=np.nan
                )
            rows.append(row)
    cols = [
        "measure",
        "group_a",
        "group_b",
        "n_a",
        "n_b",
        "mean_a",
        "mean_b",
        "diff",
        "welch_t",
        "welch_df",
        "welch_p",
        "mw_u",
        "mw_p",
    ]
    means = pd.DataFrame(rows, columns=cols)
    means["p_adj"] = adjust(means["welch_p"].to_numpy(), method)
    means["significant"] = means["p_adj"] < alpha

    rate_rows = []
    for a, b in idx:
        sa, sb = sums[a].satisfied, sums[b].satisfied
        ra = float(sa.mean[0]) if sa.n[0] else np.nan
        rb = float(sb.mean[0]) if sb.n[0] else np.nan
        na, nb = (sa.n_eff(), sb.n_eff()) if sa.n[0] and sb.n[0] else (0.0, 0.0)
        z, p = two_proportion_z(rb * nb, nb, ra * na, na)
        rate_rows.append(
            {
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": int(sa.n[0]),
                "n_b": int(sb.n[0]),
                "rate_a": ra,
                "rate_b": rb,
                "z": z,
                "p": p,
            }
        )
    rates = pd.DataFrame(
        rate_rows, columns=["group_a", "group_b", "n_a", "n_b", "rate_a", "rate_b", "z", "p"]
    )
    rates["diff"] = rates["rate_b"] - rates["rate_a"]
    rates["p_adj"] = adjust(rates["p"].to_numpy(), method)
    rates["significant"] = rates["p_adj"] < alpha

    tables = {"means": means, "rates": rates}
    if sums and all(g.nps is not None for g in sums):
        tables["nps"] = _nps_table(groups, idx, [g.nps for g in sums], method, alpha)

    omni = []
    if len(groups) > 2:
        for name in names:
            vals = [g.measures[name][1] for g in sums]
            vals = [v for v in vals if v.n >= 2]
            if len(vals) < 3:
                continue
            f, fp = anova_counts(vals)
            h, hp = kruskal_counts(vals)
            omni.append(
                {
                    "measure": name,
                    "groups": len(vals),
                    "anova_f": f,
                    "anova_p": fp,
                    "kruskal_h": h,
                    "kruskal_p": hp,
                }
            )
    if omni:
        tables["omnibus"] = pd.DataFrame(omni)
    n = int(sum(int(g.satisfied.n[0]) for g in sums))
    return AnalysisResult("compare", n, tables, warnings)


def _nps_table(groups, idx, nps: list[Moments], method, alpha) -> pd.DataFrame:
    """Pairwise NPS differences with their z tests, adjusted like the other tables (``nps``:
    per group the moments of the promoter and detractor indicators)."""
    est = []
    for m in nps:
        n = int(m.n[0])
        ne = m.n_eff(0) if n else 0.0
        pp, pdt = (float(m.mean[0]), float(m.mean[1])) if m.sw[0] > 0 else (np.nan, np.nan)
        score, se, _, _ = nps_estimate(pp * ne, pdt * ne, ne)
        est.append((n, float(score), float(se)))
    rows = []
    for a, b in idx:
        d, se, z, p, lo, hi = nps_difference(est[a][1], est[a][2], est[b][1], est[b][2])
        rows.append(
            {
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": est[a][0],
                "n_b": est[b][0],
                "nps_a": est[a][1],
                "nps_b": est[b][1],
                "diff": float(d),
                "se": float(se),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "z": float(z),
                "p": float(p),
            }
        )
    cols = ["group_a", "group_b", "n_a", "n_b", "nps_a", "nps_b", "diff", "se", "ci_low", "ci_high"]
    t = pd.DataFrame(rows, columns=cols + ["z", "p"])
    t["p_adj"] = adjust(t["p"].to_numpy(), method)
    t["significant"] = t["p_adj"] < alpha
    return t

"""Sample sizes (Cochran 1977), allocation and seeded draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.core.sampling import allocate, draw, size_for_mean, size_for_rate
from manyi.i18n import ManyiError


def test_cochran_sizes():
    assert size_for_rate(0.05) == 385  # 1.96²·0.25/0.0025 = 384.15
    assert size_for_rate(0.05, population=1000) == 278  # 384.15/(1 + 383.15/1000) = 277.7
    assert size_for_rate(0.03, rate=0.8) == 683  # 1.96²·0.16/0.0009 = 682.9
    assert size_for_mean(2, sd=15) == 217  # (1.96·15/2)² = 216.1
    with pytest.raises(ManyiError):
        size_for_rate(0)


def test_allocations():
    assert list(allocate([500, 300, 200], 100)) == [50, 30, 20]
    assert list(allocate([500, 300, 200], 101)) == [51, 30, 20]
    assert list(allocate([500, 300, 200], 90, "equal")) == [30, 30, 30]
    assert list(allocate([100, 200], 60, "neyman", np.array([10.0, 5.0]))) == [30, 30]
    assert list(allocate([10, 300], 100, "equal")) == [10, 90]  # capped at the stratum size
    assert allocate([5, 5], 50).sum() == 10


def test_draws_are_seeded_and_weighted():
    frame = pd.DataFrame({"id": range(1000), "region": ["n"] * 600 + ["s"] * 300 + ["w"] * 100,
                          "spend": np.r_[np.full(600, 1.0), np.arange(300.0), np.arange(100.0) * 3]})
    a = draw(frame, 100, seed=3)
    assert len(a) == 100 and a["id"].is_unique and (a["design_weight"] == 10).all()
    assert a["id"].tolist() == draw(frame, 100, seed=3)["id"].tolist()
    assert a["id"].tolist() != draw(frame, 100, seed=4)["id"].tolist()
    s = draw(frame, 100, method="systematic", seed=1)
    assert len(s) == 100 and set(np.diff(s["id"])) == {10}
    st = draw(frame, 100, method="stratified", strata="region", seed=1)
    assert st.groupby("stratum").size().to_dict() == {"n": 60, "s": 30, "w": 10}
    assert st.groupby("stratum")["design_weight"].first().to_dict() == {"n": 10, "s": 10, "w": 10}
    ny = draw(frame, 100, method="stratified", strata="region", allocation="neyman", sd_column="spend", seed=1)
    assert ny.groupby("stratum").size().get("n", 0) == 0  # no variance in n: nothing to learn there


def test_sample_cli(tmp_path):
    frame = pd.DataFrame({"customer_id": range(500), "tier": ["vip"] * 100 + ["regular"] * 400})
    f = tmp_path / "c.csv"
    frame.to_csv(f, index=False)
    out = tmp_path / "s.csv"
    res = CliRunner().invoke(app, ["sample", str(f), "--moe", "0.05", "--method", "stratified", "--strata", "tier",
                                   "--output", str(out), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out, encoding="utf-8-sig")
    assert len(s) == 218  # 384.15/(1 + 383.15/500) = 217.5
    assert "各层分配" in res.stdout and "（分层抽样，种子 1）" in res.stdout  # the method named in Chinese
    res = CliRunner().invoke(app, ["sample", str(f)])
    assert res.exit_code == 2


@pytest.mark.parametrize("allocation", ["proportional", "neyman", "equal"])
def test_stratified_size_reaches_the_margin_of_error_from_the_stratified_variance(allocation):
    """Cochran (1977) eq. 5.6: V(ȳ_st) = Σ W_h² S_h²/n_h − Σ W_h S_h²/N with n_h = n·w_h. The size
    from eq. 5.25 is the smallest n whose half-width z·√V is within the margin of error."""
    from scipy import stats

    from manyi.core.sampling import size_stratified

    N_h = np.array([5000.0, 3000.0, 2000.0])
    S_h = np.array([10.0, 20.0, 40.0])
    W = N_h / N_h.sum()
    share = {"proportional": W, "neyman": W * S_h / (W * S_h).sum(), "equal": np.full(3, 1 / 3)}[allocation]
    z = stats.norm.ppf(0.975)

    def half(n):
        return z * np.sqrt((W**2 * S_h**2 / (n * share)).sum() - (W * S_h**2).sum() / N_h.sum())

    n = size_stratified(1.5, N_h, S_h, allocation)
    assert half(n) <= 1.5 < half(n - 1)
    n0 = ((W**2 * S_h**2 / share).sum()) / ((1.5 / z) ** 2 + (W * S_h**2).sum() / N_h.sum())
    assert size_stratified(1.5, N_h, S_h, allocation, deff=1.5) == int(np.ceil(1.5 * n0))
    # Neyman needs fewer than proportional, which needs no more than simple random sampling
    if allocation == "neyman":
        assert n < size_stratified(1.5, N_h, S_h, "proportional")
    srs_sd = np.sqrt((W * S_h**2).sum())  # equal stratum means: the population SD
    assert size_stratified(1.5, N_h, S_h, "proportional") <= size_for_mean(1.5, srs_sd, population=10000)


def test_design_effect_multiplies_the_size():
    assert size_for_rate(0.05, deff=2.0) == 769  # 2 × 384.15 = 768.3
    assert size_for_mean(2, sd=15, deff=1.5) == 325  # 1.5 × 216.09 = 324.1
    with pytest.raises(ManyiError, match="design effect is 1 or more"):
        size_for_rate(0.05, deff=0.5)


def test_sample_cli_bad_input_gets_a_message(tmp_path):
    frame = pd.DataFrame({"customer_id": range(300), "tier": ["vip"] * 100 + ["regular"] * 200,
                          "spend": ["high"] * 300})
    f = tmp_path / "c.csv"
    frame.to_csv(f, index=False)
    run = CliRunner().invoke
    res = run(app, ["sample", str(f), "--n", "-5"])
    assert res.exit_code == 2 and "positive whole number" in res.stderr
    res = run(app, ["sample", str(f), "--n", "50", "--method", "stratified", "--strata", "tier",
                    "--allocation", "neyman", "--sd-column", "spend"])
    assert res.exit_code == 2 and "must hold numbers; 300 value(s) do not" in res.stderr
    empty = tmp_path / "e.csv"
    empty.write_text("customer_id,tier\n", encoding="utf-8")
    res = run(app, ["sample", str(empty), "--n", "5"])
    assert res.exit_code == 2 and "e.csv lists no customers" in res.stderr
    res = run(app, ["sample", str(f), "--moe", "5"])
    assert res.exit_code == 2 and "between 0 and 1" in res.stderr
    res = run(app, ["sample", str(f), "--moe", "0.05", "--deff", "2", "-o", str(tmp_path / "s.csv")])
    assert res.exit_code == 0 and "sample 216" in res.stdout  # 768.3/(1 + 767.3/300) = 215.9

"""Calibration by ABC-SMC: it recovers known parameters, covers at about the nominal rate,
repeats for a seed, and never reads data after its cutoff.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.scenario.evidence import evidence_ranges
from sim.validation.calibration import calibration, predictive, problem
from sim.validation.calibration.record import weighted_quantiles

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
NAMES = ["dynamics.action"]
SMALL = calibration.Settings(population=150, generations=3)


@pytest.fixture(scope="module")
def ranges():
    return evidence_ranges(BASELINE)


def build(baseline, ranges, names=NAMES, until=2019, seed=3, **kw):
    return problem.build(baseline, str(BASELINE), names, ranges, until, seed, **kw)


def synthetic(pb, truth: np.ndarray, world: int):
    """The problem with its observations replaced by one simulated world at ``truth``."""
    d = pb.distances(truth[None, :], np.array([2**50 + world]))[0]
    return replace(pb, observed=replace(pb.observed, distance=d))


def run(pb, tmp_path, settings=SMALL, name="h.db"):
    return calibration.calibrate(pb, settings, tmp_path / name)


def inside_90(cal, truth):
    post = cal.posterior
    w = post.weight.to_numpy()
    out = []
    for k, n in enumerate(cal.problem.names):
        lo, _, hi = weighted_quantiles(post[n].to_numpy(), w, (0.05, 0.5, 0.95))
        out.append(lo <= truth[k] <= hi)
    return out


def test_parameter_recovery_on_synthetic_data(baseline, ranges, tmp_path):
    pb = build(baseline, ranges)
    truth = np.array([0.4, 1.5, 0.1, 0.15])  # dynamics.action, scale, offset, noise
    cal = run(synthetic(pb, truth, 0), tmp_path)
    assert len(cal.posterior) == SMALL.population
    assert cal.posterior.weight.sum() == pytest.approx(1.0)
    assert all(inside_90(cal, truth)), cal.posterior.describe()


def test_coverage_of_90pct_credible_intervals_across_truths(baseline, ranges, tmp_path):
    pb = build(baseline, ranges)
    rng = np.random.default_rng(11)
    hits = []
    for k in range(5):
        truth = pb.low + rng.uniform(0.15, 0.85, len(pb.names)) * (pb.high - pb.low)
        cal = run(synthetic(pb, truth, k), tmp_path, name=f"h{k}.db")
        hits += inside_90(cal, truth)
    # 20 intervals at a nominal 90%: fewer than 14 hits would be a miscalibrated posterior.
    assert np.mean(hits) >= 0.7, hits


def test_same_seed_same_posterior_other_seed_another(baseline, ranges, tmp_path):
    settings = calibration.Settings(population=60, generations=2)
    a = run(build(baseline, ranges, seed=5), tmp_path, settings, "a.db")
    b = run(build(baseline, ranges, seed=5), tmp_path, settings, "b.db")
    c = run(build(baseline, ranges, seed=6), tmp_path, settings, "c.db")
    assert a.posterior.equals(b.posterior)
    assert a.diagnostics.drop(columns=[]).equals(b.diagnostics)
    assert not a.posterior.equals(c.posterior)
    # The global numpy generator pyabc uses is restored afterwards.
    np.random.seed(1)
    first = np.random.random()
    np.random.seed(1)
    run(build(baseline, ranges, seed=5), tmp_path, settings, "d.db")
    assert np.random.random() == first


def test_calibration_never_reads_data_after_its_cutoff(baseline, ranges, tmp_path):
    shipped = (ROOT / "data" / "unga" / "ideal_points_2000_2019.csv").read_text().splitlines()
    # The same file with every session after 2017 made absurd (and a 2020 one added).
    rows = [shipped[0]]
    for line in shipped[1:]:
        cells = line.split(",")
        if int(cells[3]) > 2017:
            cells[5] = "99.0"
        rows.append(",".join(cells))
    rows.append("IRN,Iran,75,2020,1,-50,-51,-50,-49,,,,")
    poisoned = tmp_path / "poisoned.csv"
    poisoned.write_text("\n".join(rows) + "\n")
    clean = build(baseline, ranges, until=2017)
    dirty = build(baseline, ranges, until=2017, data_path=str(poisoned))
    assert clean.observed.years == (2016, 2017)
    assert clean.observed_statistics() == dirty.observed_statistics()
    np.testing.assert_array_equal(clean.low, dirty.low)
    np.testing.assert_array_equal(clean.high, dirty.high)
    assert clean.observed.history.equals(dirty.observed.history)
    settings = calibration.Settings(population=40, generations=1)
    a = run(clean, tmp_path, settings, "clean.db")
    b = run(dirty, tmp_path, settings, "dirty.db")
    assert a.posterior.equals(b.posterior)


def test_batches_do_not_change_a_world(baseline, ranges):
    pb = build(baseline, ranges)
    theta = (pb.low + pb.high) / 2 + np.zeros((6, len(pb.names)))
    theta[:, 0] = np.linspace(0.1, 0.5, 6)
    ids = np.arange(10, 16)
    together = pb.simulate(theta, ids)
    alone = np.vstack([pb.simulate(theta[k : k + 1], ids[k : k + 1]) for k in range(6)])
    np.testing.assert_allclose(together, alone)


def test_dask_sampler_runs_on_a_local_cluster(baseline, ranges, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as lc:
        settings = calibration.Settings(
            population=20, generations=1, scheduler=lc.scheduler_address
        )
        cal = run(build(baseline, ranges), tmp_path, settings)
    assert len(cal.posterior) == 20


def test_predictive_bands_hold_the_quantiles(baseline, ranges, tmp_path):
    pb = build(baseline, ranges)
    cal = run(pb, tmp_path, calibration.Settings(population=40, generations=1))
    bands = predictive.bands(pb, predictive.simulate(pb, cal.posterior, 200, 0))
    assert len(bands) == 6 * 4
    assert (bands.q05 <= bands.q25).all() and (bands.q75 <= bands.q95).all()
    assert set(predictive.coverage(bands)) == {"50%", "90%"}

"""Save times and initial states per member (issue 21: each virtual patient on their own clock).

``simulate`` takes ``(B, T)`` save times, member ``i`` solved from ``times[i, 0]``; ``sweep``
takes ``(N, T)`` times and ``y0=`` per member, sliced per chunk and padded like the parameter
values. Every path equals separate solves of each member; the restart pattern (solve to each
member's start day keeping every state, then on from there) equals one continuous solve.
"""

from __future__ import annotations

import numpy as np
import pytest

from seedsoil.models.drugs import XGEVA_Q4W, denosumab
from seedsoil.solvers import bolus, from_schedule, programs, simulate, sweep, trace_count
from seedsoil.solvers._sweep import load_sweep

DMAB = denosumab()
N = 5
STARTS = np.array([0.0, 4.0, 9.5, 13.0, 20.0])  # each member's own day 0
GRID = np.linspace(0.0, 90.0, 10)  # the common trial grid, days since the start
TIMES = STARTS[:, None] + GRID * np.linspace(1.0, 1.2, N)[:, None]  # own start and own spacing
KA = float(DMAB.params.values[DMAB.param_index("ka")[0]]) * np.linspace(0.8, 1.2, N)
AMOUNTS = np.array([120.0, 60.0, 120.0, 240.0, 90.0])
CENTRAL0 = np.array([0.0, 5.0, 0.0, 20.0, 1.0])  # an initial amount in the central compartment
KEEP = ("C_free", "RANKL_occupancy")
REG = from_schedule(XGEVA_Q4W, count=3, start=STARTS[:, None] + 1.0, amount=AMOUNTS[:, None])


def _own_regimen(i):
    return from_schedule(XGEVA_Q4W, count=3, start=STARTS[i] + 1.0, amount=AMOUNTS[i])


def _close(got, want, rtol=1e-10, keys=KEEP):
    for k in keys:
        g, w = np.asarray(got[k]), np.asarray(want[k])
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.max(np.abs(w)), err_msg=k)


@pytest.fixture(scope="module")
def reference():
    """Every member solved alone: its own times, parameters, initial state and regimen."""
    y0 = np.asarray(DMAB.y0)
    sols = []
    for i in range(N):
        y = y0.copy()
        y[DMAB.state_names.index("central")] = CENTRAL0[i]
        sols.append(simulate(DMAB, TIMES[i], params={"ka": KA[i]}, y0=y, regimen=_own_regimen(i)))
    return {k: np.stack([np.asarray(s[k]) for s in sols]) for k in KEEP}


def _y0_matrix():
    y = np.repeat(np.asarray(DMAB.y0)[None], N, axis=0)
    y[:, DMAB.state_names.index("central")] = CENTRAL0
    return y


def test_simulate_with_times_per_member_equals_separate_solves(reference):
    sol = simulate(DMAB, TIMES, params={"ka": KA}, y0=_y0_matrix(), regimen=REG)
    assert sol.ts.shape == (N, len(GRID)) and sol["C_free"].shape == (N, len(GRID))
    np.testing.assert_array_equal(np.asarray(sol.ts), TIMES)
    _close(sol, reference)
    grouped = simulate(DMAB, TIMES, params={"ka": KA}, y0=_y0_matrix(), regimen=REG, vmap_size=2)
    _close(grouped, reference)
    # times alone batched: the other arguments are shared
    alone = simulate(DMAB, TIMES[:2])
    for i in range(2):
        np.testing.assert_allclose(np.asarray(alone.ys[i]), np.asarray(simulate(DMAB, TIMES[i]).ys), rtol=1e-10,
                                   atol=1e-14)


def test_times_per_member_get_their_own_kept_program(tmp_path, monkeypatch):
    """The program kept on disk for (B, T) times is not the one for shared (T,) times."""
    monkeypatch.setattr(programs, "program_dir", lambda: tmp_path)
    monkeypatch.setattr(programs, "_PROGRAMS", {})
    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    t1 = TIMES[0]
    shared = simulate(DMAB, t1, params={"ka": KA[:2]})  # batch of 2 over the parameters, shared times
    assert len(list(tmp_path.glob("*.jaxexport"))) == 1
    own = simulate(DMAB, np.stack([t1, t1]), params={"ka": KA[:2]})  # same batch, times per member
    assert len(list(tmp_path.glob("*.jaxexport"))) == 2
    np.testing.assert_allclose(np.asarray(own.ys), np.asarray(shared.ys), rtol=1e-10, atol=1e-14)
    monkeypatch.setattr(programs, "_PROGRAMS", {})  # a new session: both read back from disk
    again = simulate(DMAB, np.stack([t1, t1 + 3.0]), params={"ka": KA[:2]})
    np.testing.assert_allclose(np.asarray(again.ys[0]), np.asarray(own.ys[0]), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(np.asarray(simulate(DMAB, t1, params={"ka": KA[:2]}).ys), np.asarray(shared.ys))
    assert len(list(tmp_path.glob("*.jaxexport"))) == 2


@pytest.fixture(scope="module")
def swept():
    """5 members in chunks of 2 (the last padded): times, y0, regimen and parameters per member."""
    before = trace_count()
    seen = []
    res = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": CENTRAL0}, keep=KEEP, chunk_size=2,
                on_chunk=lambda start, part: seen.append((start, part.times.shape)))
    return res, trace_count() - before, seen


def test_sweep_with_times_y0_and_regimen_per_member_equals_separate_solves(swept, reference):
    res, traces, seen = swept
    assert traces <= 1  # three chunks, one compiled function (0 when the program cache held it)
    assert seen == [(0, (2, 10)), (2, (2, 10)), (4, (1, 10))] and res.ok.all()
    np.testing.assert_array_equal(res.times, TIMES)
    _close(res.outputs, reference)
    # the same members as a y0 matrix: the same numbers
    before = trace_count()
    res2 = sweep(DMAB, TIMES, {"ka": KA}, REG, y0=_y0_matrix(), keep=KEEP, chunk_size=2)
    assert trace_count() == before  # other numbers, same shapes: nothing new to compile
    for k in KEEP:
        np.testing.assert_array_equal(res2[k], res[k])


def test_labelled_form_and_streamed_parts_round_trip(swept, tmp_path):
    res, _, _ = swept
    ds = res.to_xarray()
    assert ds["C_free"].dims == ("member", "time_index")
    assert ds["time"].dims == ("member", "time_index") and ds["time"].attrs["units"] == "day"
    np.testing.assert_array_equal(ds["time"].values, TIMES)
    np.testing.assert_array_equal(ds["C_free"].values, res["C_free"])
    out = tmp_path / "parts"
    streamed = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": CENTRAL0}, keep=KEEP, chunk_size=2, out=out,
                     keep_in_memory=False)
    assert not streamed.outputs and streamed.times.shape == (N, len(GRID))
    back = load_sweep(out)
    np.testing.assert_array_equal(back["time"].values, TIMES)
    for k in KEEP:
        np.testing.assert_array_equal(back[k].values, res[k])
    assert back["C_free"].dims == ("member", "time_index")
    np.testing.assert_array_equal(streamed.to_xarray()["C_free"].values, res["C_free"])
    # resume: the same sweep solves nothing; other save times of one member are refused
    before = trace_count()
    resumed = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": CENTRAL0}, keep=KEEP, chunk_size=2, out=out,
                    resume=True, on_chunk=lambda *a: pytest.fail("nothing to solve"))
    assert trace_count() == before
    np.testing.assert_array_equal(resumed["C_free"], res["C_free"])
    other = TIMES.copy()
    other[3, -1] += 1.0
    with pytest.raises(ValueError, match=r"part-000000000002\.nc.*save times"):
        sweep(DMAB, other, {"ka": KA}, REG, keep=KEEP, chunk_size=2, out=out, resume=True)
    with pytest.raises(ValueError, match="save times"):  # shared times into parts of times per member
        sweep(DMAB, TIMES[0], {"ka": KA}, keep=KEEP, chunk_size=2, out=out, resume=True)


def test_sharded_path_equals_separate_solves(reference):
    res = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": CENTRAL0}, keep=KEEP, chunk_size=2, shard=True)
    assert res.ok.all()
    _close(res.outputs, reference)
    shared_y0 = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": 3.0}, keep=KEEP, chunk_size=2, shard=True)
    plain = sweep(DMAB, TIMES, {"ka": KA}, REG, y0={"central": 3.0}, keep=KEEP, chunk_size=2)
    _close(shared_y0.outputs, plain.outputs)


def test_restart_at_each_members_day_equals_one_continuous_solve():
    """Pass 1b: solve 0 -> s_i keeping every state; pass 2: from that state at s_i, with the
    doses after s_i. Each member's doses fall before and after its own s_i (none on it)."""
    s = np.array([10.0, 25.0, 40.0])
    n = len(s)
    dose_t = np.stack([s - 7.0, s + 5.0, s + 33.0], axis=1)  # one before the restart, two after
    amounts = np.array([[120.0, 60.0, 90.0], [60.0, 120.0, 30.0], [240.0, 120.0, 120.0]])
    ka = {"ka": KA[:n]}
    before = np.stack([np.linspace(0.0, si, 4) for si in s])
    first = sweep(DMAB, before, ka, bolus("depot", dose_t[:, :1], amounts[:, :1]), keep=DMAB.state_names)
    y_s = np.concatenate([first[k].reshape(n, before.shape[1], -1)[:, -1] for k in DMAB.state_names], axis=1)
    trial = s[:, None] + GRID
    second = sweep(DMAB, trial, ka, bolus("depot", dose_t[:, 1:], amounts[:, 1:]), y0=y_s, keep=KEEP)
    for i in range(n):
        whole = simulate(DMAB, np.concatenate([[0.0], trial[i]]), params={"ka": KA[i]},
                         regimen=bolus("depot", dose_t[i], amounts[i]))
        _close({k: second[k][i] for k in KEEP}, {k: np.asarray(whole[k])[1:] for k in KEEP}, rtol=1e-8)
    assert np.all(second["C_free"][:, -1] > 0)


@pytest.mark.parametrize("times, match", [
    (np.stack([TIMES[0], TIMES[1][::-1]]), r"member 1 has times\[1, 1\]"),
    (np.stack([TIMES[0], np.where(np.arange(10) == 4, np.nan, TIMES[1])]), r"member 1 has times\[1, 4\] = nan"),
    (np.stack([TIMES[0], TIMES[0] + np.inf]), "member 1 has times"),
])
def test_bad_times_per_member_name_the_member(times, match):
    with pytest.raises(ValueError, match=match):
        simulate(DMAB, times)
    with pytest.raises(ValueError, match=match):
        sweep(DMAB, times, {"ka": KA[:2]})


def test_bad_inputs_per_member_name_the_member(tmp_path):
    reg = bolus("depot", STARTS[:, None] + np.array([[1.0]] * 4 + [[-1.0]]), 1.0)  # member 4 doses early
    with pytest.raises(ValueError, match=r"dose time 19\.0 for 'depot' of member 4 is before the start of its "
                                         r"simulation \(times\[4, 0\] = 20\.0\)"):
        simulate(DMAB, TIMES, regimen=reg)
    with pytest.raises(ValueError, match=r"the regimen of member 4: dose time 19\.0 for 'depot' is before"):
        sweep(DMAB, TIMES, {"ka": KA}, reg, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()  # checked before anything is touched
    with pytest.raises(ValueError, match=r"dose time 5\.0 for 'depot' of member 2 is before"):
        sweep(DMAB, TIMES, {"ka": KA}, bolus("depot", [5.0], [1.0]))  # one regimen for all
    with pytest.raises(ValueError, match="batch sizes disagree"):
        simulate(DMAB, TIMES, params={"ka": KA[:3]})
    with pytest.raises(ValueError, match="batch sizes disagree"):
        simulate(DMAB, TIMES[:2], regimen=REG)
    with pytest.raises(ValueError, match=r"times holds 4 rows of save times but samples holds 5 members"):
        sweep(DMAB, TIMES[:4], {"ka": KA})
    with pytest.raises(ValueError, match=r"y0 holds 4 initial states .* but samples holds 5 members"):
        sweep(DMAB, TIMES, {"ka": KA}, y0=np.zeros((4, DMAB.n_states)))
    bad = np.repeat(np.asarray(DMAB.y0)[None], N, axis=0)
    bad[3, 1] = -1.0
    with pytest.raises(ValueError, match=r"initial state 'central' = -1\.0 \(batch member 3\) is negative"):
        sweep(DMAB, TIMES, {"ka": KA}, y0=bad)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"initial state 'central' is not finite: nan \(batch member 3\)"):
        sweep(DMAB, TIMES, {"ka": KA}, y0=bad)
    with pytest.raises(ValueError, match=r"\(batch member 2\) is negative"):
        sweep(DMAB, TIMES, {"ka": KA}, y0={"central": np.array([0.0, 1.0, -2.0, 0.0, 0.0])})
    with pytest.raises(ValueError, match=r"y0\['central'\] must be one value of shape \(\) .* got shape \(3,\)"):
        sweep(DMAB, TIMES, {"ka": KA}, y0={"central": np.zeros(3)})

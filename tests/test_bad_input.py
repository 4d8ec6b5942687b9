"""Bad inputs named before solving, and failures reported for what they are (issue 18,
rows 4-8 and 13): a duplicated data row, a parameter value of a shape no solve accepts, a
negative initial amount, an unknown free parameter given with bounds, regimens combined
out of time order, and a trajectory that blows up."""

import numpy as np
import pytest

from seedsoil.models import State, komarova2003
from seedsoil.solvers import SolveError, bolus, scale, simulate
from seedsoil.solvers._fit import FitProblem, identity
from seedsoil.solvers._simulate import _resolve_y0
from seedsoil.solvers.data import Dataset, load_dataset

K = komarova2003()
T = np.linspace(0, 50, 6)

HEADER = "observable,time,time_units,average,stderr,amount_units,expt_id,alt_expt_id\n"
ROWS = [
    "z,10,day,90.5,2.0,%,A,control\n",
    "z,20,day,80.1,2.5,%,A,control\n",
    "z,30,day,75.0,3.0,%,A,control\n",
]


# row 4 ---------------------------------------------------------------------------------
def test_a_duplicated_data_row_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(HEADER + ROWS[0] + ROWS[1] + ROWS[2] + ROWS[1])  # line 5 repeats line 3
    with pytest.raises(ValueError, match=r"dup\.csv: 1 bad row.*\n  line 5: repeats line 3 exactly \('z' in "
                                         r"group 'A' at 20 days.*replicates=True"):
        load_dataset(path)
    kept = load_dataset(path, replicates=True)  # explicit: replicates counted as measurements
    assert len(kept) == 4 and kept.lines.tolist() == [2, 3, 4, 5]
    records = [dict(observable="z", time=10.0, average=1.0, stderr=0.1, expt_id="A")] * 2
    with pytest.raises(ValueError, match=r"row 2: repeats row 1 exactly"):
        Dataset.from_records(records)
    assert len(Dataset.from_records(records, replicates=True)) == 2
    # the same time with a different value is a second measurement, not a copy
    other = [records[0], dict(records[0], average=1.2)]
    assert len(Dataset.from_records(other)) == 2


# row 5 ---------------------------------------------------------------------------------
def test_a_parameter_value_of_a_wrong_shape_names_the_parameter_and_the_allowed_shapes():
    with pytest.raises(ValueError, match=r"parameter 'alpha1' has shape \(\); got a value of shape \(2, 3\); "
                                         r"allowed shapes: \(\) \(a scalar\) or \(B,\) \(a batch of B values\)"):
        simulate(K, T, params={"alpha1": np.full((2, 3), 3.0)})
    with pytest.raises(ValueError, match=r"parameter 'alpha1' .*got a value of shape \(2, 3\)"):
        K.params.replace(alpha1=np.full((2, 3), 3.0))
    assert K.params.replace(alpha1=np.full(3, 3.0)).batch_shape == (3,)  # a batch is still fine


# row 6 ---------------------------------------------------------------------------------
def test_a_negative_initial_amount_is_refused_naming_the_state_and_value():
    with pytest.raises(ValueError, match=r"initial state 'x1' = -11\.0 is negative, but 'x1' \(osteoclasts\) "
                                         r"is an amount that cannot be below 0 \[cells\]"):
        simulate(K, T, y0=[-11.0, 231, 100])
    with pytest.raises(ValueError, match=r"initial state 'z' = -1\.0 \(batch member 1\) is negative"):
        simulate(K, T, y0=[[11.0, 212, 100], [11.0, 212, -1.0]])
    with pytest.raises(ValueError, match=r"initial state 'x2' = -5\.0 is negative"):
        simulate(K, T, y0={"x2": -5.0})
    # solver noise below the absolute tolerance (a state carried over from a solve) is fine
    assert np.asarray(_resolve_y0(K, [-1e-12, 212.0, 100.0], tol=1e-9))[0] == -1e-12
    # a state declared as possibly negative is not checked
    assert State("x", "1").nonnegative and not State("dz", "%", nonnegative=False).nonnegative
    signed = K.__class__(name="signed", states=(K.states[0], K.states[1], State("z", "%", nonnegative=False)),
                         params=K.params, y0=K.y0)
    assert np.asarray(_resolve_y0(signed, [11.0, 212.0, -40.0]))[2] == -40.0


# row 7 ---------------------------------------------------------------------------------
def test_an_unknown_free_parameter_is_named_before_its_bounds():
    data = Dataset.from_records([dict(observable="z", time=t, average=90.0, stderr=1.0, expt_id="A")
                                 for t in (10.0, 20.0, 30.0)])
    with pytest.raises(ValueError, match=r"unknown parameter 'alpha11'.*did you mean 'alpha1'"):
        FitProblem(K, data, [identity("z")], ["A"], free=["alpha11", "beta1"],
                   bounds={"alpha1": (1.0, 5.0), "beta1": (0.1, 1.0)})


# row 8 ---------------------------------------------------------------------------------
def test_combined_regimens_have_their_events_sorted_per_target():
    r = bolus("x1", [30.0], 2.0) + bolus("x1", [10.0], 1.0)
    np.testing.assert_array_equal(r.event_time, [10.0, 30.0])
    np.testing.assert_array_equal(r.event_amount, [1.0, 2.0])
    r.check()
    # stable: a dose and a scaling at one time keep the order in which they were added;
    # other targets keep their columns
    r = bolus("x1", [10.0], 1.0) + scale("x1", [10.0], 0.5) + bolus("x2", [1.0], 4.0) + bolus("x1", [5.0], 3.0)
    assert r.event_target == ("x1", "x1", "x2", "x1")
    np.testing.assert_array_equal(r.event_time, [5.0, 10.0, 1.0, 10.0])
    np.testing.assert_array_equal(r.event_amount, [3.0, 1.0, 4.0, 0.0])
    np.testing.assert_array_equal(r.event_factor, [1.0, 1.0, 1.0, 0.5])
    # a batch of regimens: each member sorted on its own
    r = bolus("x1", np.array([[30.0], [5.0]]), 2.0) + bolus("x1", [10.0], 1.0)
    np.testing.assert_array_equal(r.event_time, [[10.0, 30.0], [5.0, 10.0]])
    np.testing.assert_array_equal(r.event_amount, [[1.0, 2.0], [2.0, 1.0]])
    sol = simulate(K, T, regimen=bolus("x1", [30.0], 2.0) + bolus("x1", [10.0], 2.0))
    assert sol.ok


# row 13 --------------------------------------------------------------------------------
def test_a_blow_up_is_reported_as_nonfinite_state_not_max_steps():
    with pytest.warns(RuntimeWarning, match=r"#1 nonfinite_state"):
        sol = simulate(K, T, params={"g11": np.array([0.5, 3.0])}, throw=False)
    assert sol.status.tolist() == ["success", "nonfinite_state"]
    assert np.all(np.isfinite(np.asarray(sol.ys[0]))) and np.all(np.isnan(np.asarray(sol.ys[1])))
    with pytest.raises(SolveError, match=r"1 of 2 trajectories failed: #1 nonfinite_state"):
        simulate(K, T, params={"g11": np.array([0.5, 3.0])})

"""A trial arm's schedule doses the part of its drug when several parts share the dosed
state: an oral anticancer drug and denosumab both have a ``depot`` (and a ``central``)."""

import numpy as np
import pytest

from seedsoil.models import compose, denosumab, systemic_drug
from seedsoil.models.drugs import CAPECITABINE_BID, DOCETAXEL_Q3W, XGEVA_Q4W
from seedsoil.models.drugs.schedules import Schedule
from seedsoil.solvers import virtual_trial


@pytest.fixture(scope="module")
def trial():
    model = compose({"chemo": systemic_drug("docetaxel"), "oral": systemic_drug("capecitabine"),
                     "dmab": denosumab()}, [])
    arms = {"docetaxel": DOCETAXEL_Q3W, "capecitabine": CAPECITABINE_BID, "denosumab": XGEVA_Q4W,
            "docetaxel + denosumab": [DOCETAXEL_Q3W, XGEVA_Q4W]}
    return virtual_trial(model, None, 1, arms, horizon=2.0, dt=1.0, keep=["chemo.in_body", "oral.in_body",
                                                                        "dmab.C_total"])


def test_each_schedule_doses_its_own_drug(trial):
    body = {k: trial.outputs[k][:, 0, -1] for k in ("chemo.in_body", "oral.in_body", "dmab.C_total")}
    dosed = {arm: {k: bool(v[a] > 0) for k, v in body.items()} for a, arm in enumerate(trial.arms)}
    assert dosed["docetaxel"] == {"chemo.in_body": True, "oral.in_body": False, "dmab.C_total": False}
    assert dosed["capecitabine"] == {"chemo.in_body": False, "oral.in_body": True, "dmab.C_total": False}
    assert dosed["denosumab"] == {"chemo.in_body": False, "oral.in_body": False, "dmab.C_total": True}
    assert dosed["docetaxel + denosumab"] == {"chemo.in_body": True, "oral.in_body": False, "dmab.C_total": True}
    # the first capecitabine dose (2250 mg, oral, into its depot) is in the body on day 0
    assert np.isclose(trial.outputs["oral.in_body"][1, 0, 0], 2250.0)


def test_a_schedule_naming_no_part_is_refused():
    model = compose({"a": systemic_drug("capecitabine"), "b": systemic_drug("capecitabine")}, [])
    other = Schedule("aspirin 100 mg daily", "depot", 100.0, 1.0)
    with pytest.raises(ValueError, match="several parts"):
        virtual_trial(model, None, 1, {"x": other}, horizon=2.0, dt=1.0, keep=[])

"""Parameter recovery for the joint fit of two mouse studies (issue: fits that predict).

Synthetic data from the composed model (vicious cycle + mouse zoledronic acid + OPG-Fc) at
known parameters, at the sampling times and with the read-outs of Johnson 2011 (bone volume,
tumour burden, zoledronic acid weekly from day 6) and Canon 2008 (bioluminescence, OPG-Fc
from day 7), each study with its own read-out scale. The joint fit must recover the shared
tumour and bone parameters within its 95 % intervals.
"""

import numpy as np
import pytest

from seedsoil.models import Link, Param, compose, opg_fc, vicious_cycle, zoledronic_acid
from seedsoil.models.drugs import OPG_FC_TIW, ZOLEDRONIC_ACID_MOUSE_JOHNSON2011
from seedsoil.solvers import Condition, Dataset, FitProblem, fit, from_schedule, identity, log10, simulate

TRUTH = {"bone.r_T": 0.025, "bone.rho_P": 300.0, "bone.k_z": 1.5, "tumour_scale": 2e-8, "bli_scale": 0.5}
SHARED = ("bone.r_T", "bone.rho_P", "bone.k_z")


def study():
    return compose({"za": zoledronic_acid("mouse"), "opg": opg_fc(), "bone": vicious_cycle()},
                   [Link("za", "osteoclast_kill", "bone", "za_effect"),
                    Link("opg", "RANKL_inhibition", "bone", "rankl_inhibition")], stiff=False)


ZA = from_schedule(ZOLEDRONIC_ACID_MOUSE_JOHNSON2011, part="za", start=6.0, count=4)
OPG = from_schedule(OPG_FC_TIW, part="opg", amount=3.0, start=7.0, count=10)
CONDITIONS = [Condition("J_pbs"), Condition("J_za", regimen=ZA), Condition("C_pbs"), Condition("C_opg", regimen=OPG)]
J_TIMES, C_TIMES = np.array([7.0, 14.0, 21.0, 28.0]), np.array([1.0, 5.0, 8.0, 12.0, 15.0, 19.0, 22.0, 25.0])
SE = {"Bone_tot": 2.0, "Tumor_tot": None, "Tumor_BLI": 0.1}  # tumour burden: 10 % of the value


def synthetic(seed=3):
    model = study().with_params(**{k: v for k, v in TRUTH.items() if "." in k})
    rng = np.random.default_rng(seed)
    records = []
    for c in CONDITIONS:
        johnson = c.group.startswith("J")
        times = J_TIMES if johnson else C_TIMES
        sol = simulate(model, np.concatenate([[0.0], times]), regimen=c.regimen, rtol=1e-10, atol=1e-10)
        T = np.asarray(sol["bone.T"])[1:]
        if johnson:
            reads = {"Bone_tot": np.asarray(sol["bone.bone_volume"])[1:], "Tumor_tot": TRUTH["tumour_scale"] * T}
        else:
            reads = {"Tumor_BLI": np.log10(TRUTH["bli_scale"] * T)}
        for name, y in reads.items():
            se = SE[name] if SE[name] is not None else 0.1 * y
            noisy = y + se * rng.standard_normal(len(y))
            records += [dict(observable=name, time=t, average=v, stderr=s, expt_id=c.group)
                        for t, v, s in zip(times, noisy, np.broadcast_to(se, y.shape))]
    return Dataset.from_records(records, source="synthetic joint study")


@pytest.mark.slow
def test_joint_fit_recovers_the_shared_parameters_within_their_intervals():
    extra = (Param("tumour_scale", 1e-7, "fM/cell", "test", bounds=(1e-12, 1.0)),
             Param("bli_scale", 1.0, "photons/s/cell", "test", bounds=(1e-6, 1e6)))
    J, C = ("J_pbs", "J_za"), ("C_pbs", "C_opg")
    problem = FitProblem(
        study(), synthetic(),
        [identity("Bone_tot", "bone.bone_volume", groups=J), identity("Tumor_tot", "bone.T", scale="tumour_scale",
                                                                       groups=J),
         log10("Tumor_BLI", "bone.T", scale="bli_scale", groups=C)],
        CONDITIONS, list(TRUTH), extra=extra,
        bounds={"bone.r_T": (1e-3, 0.2), "bone.rho_P": (1.0, 1e4), "bone.k_z": (0.05, 50.0)})
    start = {k: v * (1.6 if i % 2 else 0.6) for i, (k, v) in enumerate(TRUTH.items())}  # 40-60 % off
    res = fit(problem, start=start)
    assert res.converged, res.status
    for name in SHARED:
        i = res.names.index(name)
        assert res.ci_low[i] < TRUTH[name] < res.ci_high[i], (name, res.ci_low[i], TRUTH[name], res.ci_high[i])
        assert res.estimate[i] == pytest.approx(TRUTH[name], rel=0.3)

"""Patient-level outcome declarations (models.base.Outcome): checked on construction,
gathered by compose, and declared by the cascade and the SRE part."""

import pytest

from seedsoil.models import Link, Outcome, UnknownNameError, cascade, compose, denosumab, skeletal_events
from seedsoil.models.metastasis.model import LETHAL_BURDEN


def test_outcome_checks_its_fields():
    with pytest.raises(ValueError, match="unknown kind 'hazard'"):
        Outcome("sre", "hazard", "H")
    with pytest.raises(ValueError, match="needs a finite level"):
        Outcome("death", "threshold", "total_burden")
    with pytest.raises(ValueError, match="level is for kind 'threshold' only"):
        Outcome("sre", "cumulative_hazard", "H", level=1.0)
    with pytest.raises(ValueError, match="without '.'"):
        Outcome("a.b", "expected_count", "N")


def test_model_checks_outcome_outputs_and_names():
    sre = skeletal_events()
    with pytest.raises(UnknownNameError, match="no output 'H2'|'H2'"):
        sre.with_outcomes(Outcome("other", "cumulative_hazard", "H2"))
    with pytest.raises(ValueError, match=r"outcome names \['sre'\]"):
        sre.with_outcomes(Outcome("sre", "cumulative_hazard", "H"))
    with pytest.raises(UnknownNameError, match="did you mean 'sre'"):
        sre.outcome("sree")
    assert sre.outcome("sre").output == "sre_cumulative_hazard"


def test_cascade_declares_per_organ_counts_ctc_and_death():
    m = cascade("breast", n_bins=8)
    names = [o.name for o in m.outcomes]
    assert names == [f"{o}_metastasis" for o in m.organs] + ["ctc_per_7_5ml", "death"]
    assert m.outcome("bone_metastasis").output == "n_detectable[bone]"
    assert m.outcome("bone_metastasis").kind == "expected_count"
    assert m.outcome("death").level == LETHAL_BURDEN == 1e12
    for o in m.outcomes:  # every output resolves and has a source
        m.resolve_output(o.output)
        assert o.source


def test_compose_prefixes_part_outcomes_and_refuses_duplicates():
    m = compose({"sre": skeletal_events(), "dmab": denosumab()})
    assert [(o.name, o.output) for o in m.outcomes] == [("sre", "sre.sre_cumulative_hazard")]
    m.resolve_output(m.outcome("sre").output)
    with pytest.raises(ValueError, match=r"declare outcomes \['sre'\] more than once"):
        compose({"a": skeletal_events(), "b": skeletal_events()})
    both = compose({"a": skeletal_events(), "b": skeletal_events()},
                   outcomes=[Outcome("sre_a", "cumulative_hazard", "a.H")])
    assert [o.name for o in both.outcomes] == ["sre_a"]
    with pytest.raises(UnknownNameError):
        compose({"a": skeletal_events()}, outcomes=[Outcome("x", "cumulative_hazard", "b.H")])
    # links do not change outcomes; parameters changes keep them
    linked = compose({"dmab": denosumab(), "sre": skeletal_events()},
                     [Link("dmab", "RANKL_occupancy", "sre", "uNTx")])
    assert linked.with_params(**{"sre.h_0": 0.01}).outcomes == linked.outcomes

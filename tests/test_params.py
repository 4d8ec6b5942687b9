"""Parameter sets: named access, batching, metadata, and model copies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import (
    ayati2010,
    cascade,
    denosumab,
    human_bone,
    iwata2000,
    komarova2003,
    lemaire2004,
    vicious_cycle,
    zoledronic_acid,
)
from seedsoil.models.bone import bone_metastasis


@pytest.mark.parametrize("factory", [komarova2003, lemaire2004, ayati2010, iwata2000, cascade, vicious_cycle,
                                     denosumab, zoledronic_acid, bone_metastasis, human_bone])
def test_every_parameter_documents_unit_and_source(factory):
    model = factory()
    for spec in model.params.specs:
        assert spec.unit and spec.source and spec.description, spec.name
        # names its paper (a year or ICRP), or says plainly that the value is an assumption
        assert any(k in spec.source for k in ("19", "20", "ICRP", "assumption")), spec.name
    for s in model.states:
        assert s.unit and s.description
    assert model.reference


def test_named_access_replace_and_batch():
    p = komarova2003().params
    assert float(p["alpha1"]) == 3.0 and float(p["g21"]) == -0.5
    q = p.replace(k1=0.3)
    assert float(q["k1"]) == 0.3 and float(p["k1"]) == 0.24  # frozen: p unchanged
    b = p.replace(alpha1=jnp.array([1.0, 2.0, 3.0]))
    assert b.values.shape == (3, 10) and b.batch_shape == (3,)
    np.testing.assert_array_equal(b["alpha1"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(b["beta1"], [0.2, 0.2, 0.2])
    with pytest.raises(AttributeError):
        p.values = jnp.zeros(10)


def test_params_are_pytrees_that_vmap_and_grad():
    p = komarova2003().params
    batch = p.replace(alpha1=jnp.linspace(1.0, 2.0, 4))
    out = jax.vmap(lambda q: q["alpha1"] * q["beta1"])(batch)
    np.testing.assert_allclose(out, np.linspace(1.0, 2.0, 4) * 0.2)
    g = jax.grad(lambda v: p.with_values(v)["alpha1"] ** 2)(p.values)
    assert g[p.names.index("alpha1")] == 6.0 and g.sum() == 6.0


def test_table_lists_units_and_sources():
    text = lemaire2004().params.table()
    assert "K_LP" in text and "pM/pM" in text and "Lemaire et al. 2004" in text
    assert "BIOMD0000000402" in ayati2010().describe()


def test_with_calibration_sets_values_and_says_where_they_come_from():
    from seedsoil.models import cascade

    base = cascade("breast", n_bins=8)
    m = base.with_calibration({"r_P": 5e-4, "kappa[bone]": 3e-8}, "fitted to target_x (notebook y)")
    assert float(m.params["r_P"]) == 5e-4 and m.params.spec("r_P").value == 5e-4
    assert m.params.spec("r_P").source.startswith("fitted to target_x (notebook y); before: ")
    assert base.params.spec("r_P").source in m.params.spec("r_P").source
    kappa = np.asarray(m.params["kappa"])
    assert kappa[0] == 3e-8 and np.all(kappa[1:] == np.asarray(base.params["kappa"])[1:])
    assert m.params.spec("kappa").source.endswith("; kappa[bone]: fitted to target_x (notebook y)")
    assert base.params.spec("r_P").source == cascade("breast", n_bins=8).params.spec("r_P").source  # a copy
    with pytest.raises(ValueError, match="r_Q"):
        base.with_calibration({"r_Q": 1.0}, "x")
    with pytest.raises(ValueError, match="outside its bounds"):
        base.with_calibration({"r_P": -1.0}, "x")

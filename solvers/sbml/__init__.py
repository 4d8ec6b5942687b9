"""Export any seedsoil model, with its parameters, initial state and doses, to SBML.

:func:`export` writes an SBML Level 3 Version 2 document (python-libsbml) that
libroadrunner, COPASI or any other SBML tool simulates like :func:`seedsoil.solvers.simulate`;
:func:`roadrunner_simulate` runs such a document with libroadrunner (CVODE).

Method: the exporter knows nothing of a model's biology. It traces the model's flat
functions with :func:`jax.make_jaxpr` -- ``vector_field(t, y, p, forcing)``,
``observe(t, y, p, u)``, ``input_vector(t, p)`` (scheduled inputs) and
``breakpoints(p)`` -- and interprets the resulting jaxprs symbolically: every array is a
NumPy object array whose elements are numbers or small expression nodes, and every JAX
primitive (arithmetic, ``exp``/``log``/``pow``, ``max``/``min``, comparisons and
``select_n`` -> ``piecewise``, slicing, reshaping, concatenation, reductions,
``dot_general``, ``cumsum``, ``pad``, gathers with constant indices, nested ``jit`` /
``custom_jvp`` calls, ``cond``...) maps to its elementwise SBML math. Operations on
numbers only are folded to numbers (so masks built from ``iota`` vanish), and nodes are
hash-consed, so an intermediate computed once in JAX is one node, shared by every
expression that uses it. Single-use nodes are inlined. A (non-boolean) node used more
than once is written once, in one of two ways:

* as an SBML assignment rule (a parameter ``tmp<k>``), when every expression (rate rule,
  input, observable, event trigger) that uses it stays small written out in full
  (at most ``_HEAVY`` = 1000 nodes);
* inside a *let-chain* otherwise. libroadrunner (2.10) compiles every reference to an
  assignment rule by expanding the rule in place, so a shared intermediate used twice by
  another, itself used twice, ... is compiled an exponential number of times (written
  with assignment rules only, the metastatic cascade with 4 size bins took 2 minutes to
  load: its quasi-steady CTC pool, which sums re-seeding over every bin, enters every
  organ).
  A heavy expression is therefore written as nested calls of function definitions
  ``<root>_let1(globals)``, whose body calls ``<root>_let2(...)`` with the values of the
  first level of its shared nodes added as arguments, and so on; the last function's
  body is the expression itself. Every SBML tool evaluates a call's arguments once, so
  each shared node is evaluated once per expression. A heavy node that several
  expressions use (the CTC pool) is itself one such chain, ``shared<k>_let1(inputs)``,
  written once and called from the chain of each expression that needs it; its inputs
  are symbols, light rules and the values of other shared heavy nodes, which the caller
  computes first (so the re-seeding sum is evaluated once, not once per CTC pool).

The SBML size is therefore proportional to the jaxpr size, with no exponential blow-up.
Load times in libroadrunner (the full bone-metastasis model: 64 bins, bone and both
drugs) are measured by bench/bench_full.py.

What the document contains:

* one constant parameter per flat model parameter (id sanitised from the flat label,
  e.g. ``w[bone]`` -> ``w_bone``; the label is the ``name``), with its value, unit,
  source, bounds and description in notes and a ``seedsoil`` annotation; simple units
  (``1``, ``day``, ``1/day``, ``cells``, ``pM``, ``L`` ...) also as SBML unit definitions.
  Model time units are days.
* one non-constant parameter with a rate rule per state element (initial value from
  ``y0``); array states are flattened and named as everywhere else (``D[bone]``, ``D[lung]``, ... -> ids
  ``D_bone``, ``D_lung``; ``R[0]`` -> ``R_0`` for an entry without a declared label).
* one parameter per input element: constant 0 when nothing sets it, otherwise an
  assignment rule summing its active infusions and the model's scheduled value.
* one assignment rule per observable element (``observables=True``).
* doses as events: boluses and scalings at one time form one event (trigger
  ``time >= t``, ``initialValue=false`` so that a dose at the start time fires,
  persistent, values from trigger time) assigning ``x = x*factor + amount`` composed in
  the order :func:`seedsoil.solvers.simulate` applies them; each infusion gets a constant rate
  parameter and an on/off flag switched by a start and a stop event (zero-order rate
  into a state's rate rule, or into an input's value).
* model breakpoints (``breakpoints(p)``, e.g. a drug switched on at ``p.t_drug``) as
  events whose trigger is the traced expression of the breakpoint in the parameters.
  Scheduled inputs are evaluated, like the solver does, at the time of the latest event
  (``t_segment``, a parameter set by every event), so they are exactly piecewise constant
  and switch where the event fires.

Semantics follow :func:`seedsoil.solvers.simulate`: events before the start fire at the start,
doses at one time compose in regimen order, infusions are active on ``[start, stop)``,
and the state reported at a dose time is the post-dose value (libroadrunner's too).

Limits: loops (``while``, ``scan``), sorting, ``erf`` and other functions without an SBML
counterpart raise :class:`NotImplementedError` naming the primitive; gathers, scatters
and dynamic slices need constant indices (their 0/1 Jacobian, from ``jax.jacfwd``, says
which element goes where); ``cond`` with a symbolic predicate becomes ``piecewise``;
integer arithmetic on symbolic values is refused. ``log1p``/``expm1`` are written ``ln(1 + x)`` /
``exp(x) - 1`` (less accurate for tiny ``x``). ``0 * x`` folds to ``0`` even if ``x``
could be infinite. A batched parameter set or regimen is refused (export one member).
Regimen event times and amounts are written as numbers, parameters stay editable in the
SBML tool (rules and events refer to them by id).

:func:`roadrunner_load` compiles a document with libroadrunner's default MCJIT backend,
or with ``backend="lljit"``: several times faster to load for large documents, with the
same simulation speed (bench/bench_full.py uses it in a fresh process).
"""

from __future__ import annotations

from ._document import _roles as _roles  # used by the tests
from ._document import export, sbml_errors
from ._jaxpr import trace_symbolic as trace_symbolic
from ._roadrunner import roadrunner_load, roadrunner_simulate

__all__ = ["export", "roadrunner_load", "roadrunner_simulate", "sbml_errors"]

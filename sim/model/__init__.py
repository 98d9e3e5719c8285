"""The model: its rules and the two runners of them.

`params` compiles a scenario into arrays, `rules` holds the pure monthly rules (numpy, the
reference), `kernel` the same rules compiled (what runs), `rng` the counter-based random
streams, `engine` runs many replicates at once, `outcomes` declares and computes what a run
produced (`landscape` gives the bloc outcome), and `mesa_model` runs one replicate as a Mesa
model. `AllianceModel` is importable from here; it is loaded on first use
so that the array engine never imports Mesa (whose import changes multiprocessing's start
method).
"""

from sim._lazy import reexport

__all__ = ["AllianceModel", "ActorAgent", "DEFAULT_SCENARIO"]
__getattr__ = reexport(__name__, "mesa_model", tuple(__all__))

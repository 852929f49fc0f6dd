"""metacot_lab: reproduce Meta Chain-of-Thought on a laptop CPU.

The pipeline runs in one direction: ``envs`` (problems and verifiers) -> ``search``
(whole recorded search trees) -> ``traces`` (text) -> ``data`` -> models, training and
evaluation, all checked by the same environment verifiers.
"""

__version__ = "0.1.0"

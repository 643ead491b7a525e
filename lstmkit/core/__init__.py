"""lstmkit.core: what every job shares, and nothing job-specific.

- :mod:`~lstmkit.core.errors`: the one-line user error (``Component: expected X, got Y``).
- :mod:`~lstmkit.core.validate`: the validation helpers every edge uses.
- :mod:`~lstmkit.core.config`: hyperparameters declared once, as commented dataclass fields.
- :mod:`~lstmkit.core.estimator`: the estimator contract (params, seeds, fitted check, save/load).
- :mod:`~lstmkit.core.persistence`: run directories (safetensors + JSON, atomic, never pickle).
- :mod:`~lstmkit.core.training`: what every training loop does around its batches (EpochLog).
- :mod:`~lstmkit.core.parallel`: seeds trained side by side in worker processes.
- :mod:`~lstmkit.core.aggregate`, :mod:`~lstmkit.core.table`: seed aggregation, text tables.
- :mod:`~lstmkit.core.classifier`, :mod:`~lstmkit.core.classifier_training`: the machinery the
  sequence classifier (:mod:`lstmkit.classify`) and the text classifier (:mod:`lstmkit.text`)
  share, so that neither job imports the other.

Importing this package imports nothing: ``lstmkit.ref`` uses :mod:`lstmkit.core.errors` and
stays NumPy-only. ``core`` never imports ``ref``, ``nn`` or a job (``lint-imports``).
"""

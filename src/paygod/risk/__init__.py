"""Risk: features from the ledger, rules and machine-learned scores, the model registry.

Owns the `WindowBook` (features.py), the synthetic training set (dataset.py), training and
evaluation (training.py), compiled forests (compiled.py), scoring (scoring.py), the model
registry (service.py) and its port `ModelStore` (ports.py, stores/). Imported by
`decisions` (through the `RiskScorer` the composition root hands it) and by the edges.
"""

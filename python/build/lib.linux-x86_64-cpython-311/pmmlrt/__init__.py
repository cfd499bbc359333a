"""pmmlrt: score PMML models from Python through the pmmlrt C library.

    import pmmlrt
    model = pmmlrt.load("iris_forest.pmml")
    model.predict(X)          # labels (classification) or numbers (regression)
    model.predict_proba(X)    # rows x classes
    model.score(X)            # every result as a pandas DataFrame
"""
from ._model import (
    EvaluationError,
    Field,
    InputError,
    IoError,
    LimitError,
    Model,
    ModelError,
    Output,
    ParseError,
    PmmlrtError,
    UnsupportedError,
    UsageError,
    abi_version,
    load,
    loads,
    version,
)

__version__ = version()

__all__ = [
    "load", "loads", "Model", "Field", "Output", "version", "abi_version", "PmmlrtError", "ParseError",
    "UnsupportedError", "ModelError", "InputError", "EvaluationError", "LimitError", "IoError", "UsageError",
]

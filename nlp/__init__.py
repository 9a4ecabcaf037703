"""Thai NLP for Ruamkid: sort residents' LINE messages into the plan's strategies, sub-areas, kinds.

Public API (nothing is loaded at import; the model loads once, on the first classification)::

    import nlp
    nlp.configure(model_dir="instance/models")
    p = nlp.classify("ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า")
    p.strategy, p.subarea, p.kind, p.confidence, p.unsure   # 'LPN-S7', 'LPN-S7.3', 'complaint', ...

Attributes are resolved lazily (PEP 562) so ``import nlp`` costs no numpy, scikit-learn or
PyThaiNLP import; the first use of a name imports the submodule that defines it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Example",
    "Kind",
    "ModelError",
    "ModelInfo",
    "Plan",
    "Prediction",
    "Report",
    "ScoredLabel",
    "Strategy",
    "Subarea",
    "Taxonomy",
    "TaxonomyError",
    "TrainResult",
    "activate",
    "active_version",
    "classify",
    "classify_many",
    "configure",
    "evaluate",
    "heldout_examples",
    "is_heldout",
    "list_models",
    "load_taxonomy",
    "normalize",
    "read_examples",
    "taxonomy",
    "tokenize",
    "train",
]

_WHERE = {
    "Example": "nlp.corpus",
    "is_heldout": "nlp.corpus",
    "Kind": "nlp.taxonomies",
    "Plan": "nlp.taxonomies",
    "Strategy": "nlp.taxonomies",
    "Subarea": "nlp.taxonomies",
    "Taxonomy": "nlp.taxonomies",
    "TaxonomyError": "nlp.taxonomies",
    "load_taxonomy": "nlp.taxonomies",
    "ModelError": "nlp.registry",
    "ModelInfo": "nlp.registry",
    "Report": "nlp.evaluation",
    "normalize": "nlp.text",
    "Prediction": "nlp.results",
    "ScoredLabel": "nlp.results",
    "TrainResult": "nlp.results",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from nlp.api import (
        activate,
        active_version,
        classify,
        classify_many,
        configure,
        evaluate,
        heldout_examples,
        list_models,
        read_examples,
        taxonomy,
        tokenize,
        train,
    )
    from nlp.corpus import Example, is_heldout
    from nlp.evaluation import Report
    from nlp.registry import ModelError, ModelInfo
    from nlp.results import Prediction, ScoredLabel, TrainResult
    from nlp.taxonomies import (
        Kind,
        Plan,
        Strategy,
        Subarea,
        Taxonomy,
        TaxonomyError,
        load_taxonomy,
    )
    from nlp.text import normalize


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'nlp' has no attribute {name!r}")
    module = importlib.import_module(_WHERE.get(name, "nlp.api"))
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

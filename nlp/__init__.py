"""Thai NLP for Ruamkid: sort residents' LINE messages into the plan's strategies, sub-areas, kinds.

Public API (nothing is loaded at import; a classifier loads its model once, when first needed)::

    import nlp
    classifier = nlp.Classifier(model_dir="instance/models")   # the app factory builds one
    p = classifier.classify("ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า")
    p.strategy, p.subarea, p.kind, p.confidence, p.unsure   # 'LPN-S7', 'LPN-S7.3', 'complaint', ...

Attributes are resolved lazily (PEP 562) so ``import nlp`` costs no numpy, scikit-learn or
PyThaiNLP import; the first use of a name imports the submodule that defines it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Classifier",
    "Example",
    "Kind",
    "ModelError",
    "ModelInfo",
    "Plan",
    "Prediction",
    "Report",
    "ScoredLabel",
    "Settings",
    "Strategy",
    "Subarea",
    "Taxonomy",
    "TaxonomyError",
    "TrainResult",
    "is_heldout",
    "load_taxonomy",
    "normalize",
]

_WHERE = {
    "Classifier": "nlp.classifier",
    "Settings": "nlp.config",
    "Example": "nlp.corpus",
    "is_heldout": "nlp.corpus",
    "Report": "nlp.evaluation",
    "ModelError": "nlp.registry",
    "ModelInfo": "nlp.registry",
    "Prediction": "nlp.results",
    "ScoredLabel": "nlp.results",
    "TrainResult": "nlp.results",
    "Kind": "nlp.taxonomies",
    "Plan": "nlp.taxonomies",
    "Strategy": "nlp.taxonomies",
    "Subarea": "nlp.taxonomies",
    "Taxonomy": "nlp.taxonomies",
    "TaxonomyError": "nlp.taxonomies",
    "load_taxonomy": "nlp.taxonomies",
    "normalize": "nlp.text",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from nlp.classifier import Classifier
    from nlp.config import Settings
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
    if name not in _WHERE:
        raise AttributeError(f"module 'nlp' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Every docstring example in nlp/ runs here.

The examples see one extra name, ``classifier``: a :class:`nlp.Classifier` trained once on the
100-message mini corpus with lexical features (about a second), so classification examples stay
real and fast.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nlp

MODULES = ["nlp"] + sorted(m.name for m in pkgutil.iter_modules(nlp.__path__, "nlp."))
# Modules whose examples document their main functions; an empty one here is a mistake.
WITH_EXAMPLES = {
    "nlp.classifier",
    "nlp.config",
    "nlp.corpus",
    "nlp.embeddings",
    "nlp.evaluation",
    "nlp.model",
    "nlp.predict",
    "nlp.registry",
    "nlp.results",
    "nlp.taxonomies",
    "nlp.text",
    "nlp.training",
}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, mini_trained: nlp.Classifier) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in finder.find(module, name, extraglobs={"classifier": mini_trained}):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    if name in WITH_EXAMPLES:
        assert runner.tries > 0, f"{name} lost its docstring examples"

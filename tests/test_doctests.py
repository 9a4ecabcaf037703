"""Every docstring example in bot/ and storage/ runs here (nlp/ has its own, with a model)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import bot
import storage


def _modules(package) -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if ".migrations" not in m.name
    )


MODULES = _modules(bot) + _modules(storage)
# Modules whose examples document their main functions; an empty one here is a mistake.
WITH_EXAMPLES = {"bot.thai", "bot.residents.keywords"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    if name in WITH_EXAMPLES:
        assert runner.tries > 0, f"{name} lost its docstring examples"

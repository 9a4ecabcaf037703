"""The taxonomy file: the shipped default loads, and broken files fail with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

import nlp
from nlp.taxonomies import DEFAULT_TAXONOMY_PATH

KINDS = "\n".join(
    f'[[kinds]]\ncode = "{code}"\nname = "{code} name"'
    for code in ("complaint", "need", "question", "suggestion", "other")
)
PLAN = """
[plan]
name = "แผนพัฒนาท้องถิ่น"
organisation = "เทศบาลทดสอบ"
years = [2566, 2567]
top_label = "{top_label}"
"""


def strategy(code: str, name: str = "ด้านทดสอบ", sub: str | None = None) -> str:
    sub = sub or f"{code}.1"
    return (
        f'[[strategies]]\ncode = "{code}"\nname = "{name}"\n'
        f'  [[strategies.subareas]]\n  code = "{sub}"\n  name = "แนวทางทดสอบ"\n'
    )


def write(
    tmp_path: Path, *strategies: str, top_label: str = "ยุทธศาสตร์", kinds: str = KINDS
) -> Path:
    path = tmp_path / "taxonomy.toml"
    path.write_text(
        PLAN.format(top_label=top_label) + kinds + "\n" + "\n".join(strategies), encoding="utf-8"
    )
    return path


def test_default_taxonomy_loads() -> None:
    tax = nlp.load_taxonomy(DEFAULT_TAXONOMY_PATH)
    assert tax.strategy_codes == tuple(f"LPN-S{i}" for i in range(1, 9))
    assert tax.plan.top_label == "ยุทธศาสตร์"
    assert tax.kind_codes == ("complaint", "need", "question", "suggestion", "other")
    for strat in tax.strategies:
        assert 3 <= len(strat.subareas) <= 8
        assert strat.name and strat.gloss and strat.division
    assert tax.strategy_of_subarea("LPN-S7.2").code == "LPN-S7"
    assert tax.subarea_name("LPN-S7.2") == "ระบายน้ำ ลำเหมือง และป้องกันน้ำท่วม"
    assert "ลำเหมือง" in tax.dictionary_words()
    assert "สันป่ายางหน่อม" in tax.dictionary_words()


def test_valid_minimal_file(tmp_path: Path) -> None:
    tax = nlp.load_taxonomy(
        write(tmp_path, strategy("A1"), strategy("A2"), top_label="ประเด็นการพัฒนา")
    )
    assert tax.strategy_codes == ("A1", "A2")
    assert tax.plan.top_label == "ประเด็นการพัฒนา"


@pytest.mark.parametrize(
    ("strategies", "kwargs", "message"),
    [
        ((strategy("A1"), strategy("A1", sub="A1.2")), {}, "duplicate code 'A1'"),
        ((strategy("A1"), strategy("A2", sub="A1.1")), {}, "must start with 'A2.'"),
        ((strategy("A1"), strategy("A2", sub="B9.1")), {}, "must start with 'A2.'"),
        ((strategy("A1"), strategy("A2", name="")), {}, "'name' is empty"),
        ((strategy("A1"),), {}, "at least two"),
        ((strategy("A1"), strategy("A 2")), {}, "may only hold"),
        ((strategy("A1"), strategy("A2")), {"top_label": "หมวด"}, "top_label 'หมวด'"),
        (
            (strategy("A1"), strategy("A2")),
            {"kinds": KINDS.replace('"other"', '"spam"')},
            "unknown kind 'spam'",
        ),
        (
            (strategy("A1"), strategy("A2")),
            {"kinds": KINDS.replace('"other"', '"need"')},
            "duplicate kind code 'need'",
        ),
    ],
)
def test_invalid_files(
    tmp_path: Path, strategies: tuple[str, ...], kwargs: dict, message: str
) -> None:
    with pytest.raises(nlp.TaxonomyError, match=message):
        nlp.load_taxonomy(write(tmp_path, *strategies, **kwargs))


def test_missing_strategy_name(tmp_path: Path) -> None:
    text = strategy("A1") + strategy("A2").replace('name = "ด้านทดสอบ"\n', "", 1)
    with pytest.raises(nlp.TaxonomyError, match="strategy A2: missing 'name'"):
        nlp.load_taxonomy(write(tmp_path, text))


def test_taxonomy_error_is_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        nlp.load_taxonomy(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[plan\n", encoding="utf-8")
    with pytest.raises(nlp.TaxonomyError, match="not valid TOML"):
        nlp.load_taxonomy(bad)


def test_classifier_taxonomy(tmp_path: Path) -> None:
    path = write(tmp_path, strategy("A1"), strategy("A2"))
    classifier = nlp.Classifier(tmp_path / "models", taxonomy_path=path)
    assert classifier.taxonomy.strategy_codes == ("A1", "A2")
    assert classifier.taxonomy is classifier.taxonomy  # loaded once

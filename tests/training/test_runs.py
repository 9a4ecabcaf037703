"""Training is a staff action: queued from the model page or the CLI, run by a worker in the
background, recorded with its result; versions can be activated and rolled back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.needs.classification import classifier
from bot.setup import ensure_model
from bot.training import runs
from storage import training
from storage.base import utcnow
from storage.models import TrainingLabel, TrainingRun
from tests.staff.conftest import csrf_token

# A word the small corpus never saw: the model can only learn it from the imported labels.
NEW_WORD = "ขบวนกาซะลองแห่"


def _runs(session) -> list[TrainingRun]:
    session.expire_all()
    return list(session.scalars(select(TrainingRun).order_by(TrainingRun.id)))


def _import(session, n: int = 24) -> None:
    for i in range(n):
        session.add(
            TrainingLabel(
                text=f"{NEW_WORD} ซอย {i} หน้าบ้านเลขที่ {i * 7}",
                strategy="LPN-S5",
                subarea="LPN-S5.2",
                kind="complaint",
                source="import",
                text_key=f"k{i}",
                created_by="user:1",
            )
        )
    session.commit()


@pytest.mark.parametrize("csrf_enabled", [True])
def test_train_now_queues_one_run_that_a_worker_trains_in_the_background(
    app, client, session, worker, make_user, login
) -> None:
    ensure_model(app)
    before = classifier(app).active_version()
    _import(session)
    login(client, make_user("admin"))
    token = csrf_token(client, "/dashboard/admin/model")
    assert (
        client.post("/dashboard/admin/model/train", data={"csrf_token": token}).status_code == 302
    )
    client.post("/dashboard/admin/model/train", data={"csrf_token": token})
    queued = [run for run in _runs(session) if run.requested_by != "release"]
    assert [run.status for run in queued] == ["queued"]  # pressed twice, queued once
    page = client.get("/dashboard/admin/model").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and 'data-testid="run-progress"' in page

    worker.run_jobs()  # the training job claims the run and trains in a thread of its own
    thread = runs.training_thread(app)
    assert thread is not None
    thread.join(timeout=120)
    (run,) = [run for run in _runs(session) if run.requested_by != "release"]
    assert run.status == "done" and run.labels_used == 24 and run.progress == 1.0
    assert run.activated and run.version != before
    assert classifier(app).active_version() == run.version
    assert classifier(app).classify(f"{NEW_WORD}ทั้งคืน").strategy == "LPN-S5"
    page = client.get("/dashboard/admin/model").get_data(as_text=True)
    assert run.version in page and "ใช้งานรุ่นใหม่แล้ว" in page


def test_cli_train_uses_imported_labels_and_activates_without_force(app, runner, session) -> None:
    ensure_model(app)
    assert classifier(app).classify(f"{NEW_WORD}ทั้งคืน").strategy != "LPN-S5"
    _import(session)
    result = runner.invoke(main, ["nlp", "train"])
    assert result.exit_code == 0, result.output
    assert "real labels: 24 used" in result.stdout and "activated" in result.stdout
    assert classifier(app).classify(f"{NEW_WORD}ทั้งคืน").strategy == "LPN-S5"
    (run,) = [run for run in _runs(session) if run.requested_by == "cli"]
    assert run.status == "done" and run.version == classifier(app).active_version()


def test_a_failed_run_is_recorded_and_the_active_model_stays(app, session, runner) -> None:
    ensure_model(app)
    active = classifier(app).active_version()
    for path in Path(app.config["CORPUS_DIR"]).glob("*.csv"):
        path.write_text("text,strategy\n", encoding="utf-8")  # nothing left to train on
    result = runner.invoke(main, ["nlp", "train"])
    assert result.exit_code != 0 and "active model is unchanged" in result.output
    assert _runs(session)[-1].status == "failed"
    assert classifier(app).active_version() == active


def test_a_run_cut_off_by_a_dead_worker_is_failed_so_a_new_one_can_start(app, session) -> None:
    run, _ = runs.request_run(app, "user:1")
    stale = session.get(TrainingRun, run.id)
    stale.status, stale.started_at = "running", utcnow() - timedelta(hours=3)
    session.commit()
    assert training.claim_run(session, "w") is None
    session.commit()
    assert _runs(session)[-1].status == "failed" and _runs(session)[-1].error == "interrupted"
    fresh, created = runs.request_run(app, "user:1")
    assert created and fresh.id != run.id


@pytest.mark.parametrize("csrf_enabled", [True])
def test_admin_rolls_back_to_a_kept_version(app, client, session, make_user, login, runner):
    ensure_model(app)
    first = classifier(app).active_version()
    runner.invoke(main, ["nlp", "train", "--force"])
    second = classifier(app).active_version()
    assert second != first
    login(client, make_user("admin"))
    token = csrf_token(client, "/dashboard/admin/model")
    done = client.post(
        "/dashboard/admin/model/activate", data={"csrf_token": token, "version": first}
    )
    assert done.status_code == 302 and classifier(app).active_version() == first
    bad = client.post(
        "/dashboard/admin/model/activate", data={"csrf_token": token, "version": "../../x"}
    )
    assert bad.status_code == 400 and classifier(app).active_version() == first


def test_only_admins_see_the_model_page(app, client, make_user, login) -> None:
    login(client, make_user("staff"))
    assert client.get("/dashboard/admin/model").status_code == 403
    assert client.post("/dashboard/admin/model/train").status_code in (400, 403)

"""The open-data dump: anonymised needs and projects as CSV and JSON with a data dictionary and
a licence, served at /opendata/, written daily by the worker, and rewritten after an erasure."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from bot.cli import main
from bot.db import session_factory
from bot.needs import actions, erasure
from bot.opendata import dump as opendata
from storage.models import Resident
from storage.plan import Project, ProjectBudget
from storage.public import snap

SECRET = "บ้านนางสมหญิงเลขที่ 99/9"


def fetch(client, url: str):
    """GET a served file and close it (files are streamed)."""
    with client.get(url) as answer:
        return answer.status_code, answer.content_type, answer.get_data()


def _world(app, make_submission) -> dict[str, str]:
    with session_factory(app)() as session:
        resident = Resident(line_user_id="U" + "a" * 32, display_name="สมหญิง", consent="given")
        session.add(resident)
        session.flush()
        public = make_submission(
            session, text="ท่อระบายน้ำอุดตันหน้าตลาด", publishable=True, subarea="LPN-S7.2"
        )
        private = make_submission(
            session, resident=resident, text=SECRET, latitude=18.578391, longitude=99.008123
        )
        project = Project(strategy="LPN-S7", programme="อุตสาหกรรมและการโยธา", name="ลอกท่อ")
        project.budgets.append(ProjectBudget(year=2569, amount=Decimal("150000.00")))
        session.add(project)
        session.flush()
        actions.link_need(session, project, private, actor="user:1")
        session.commit()
        return {"public": public.tracking_no, "private": private.tracking_no}


def test_dump_writes_anonymised_files_with_a_dictionary_and_licence(
    app, runner, make_submission, tmp_path
):
    ids = _world(app, make_submission)
    result = runner.invoke(main, args=["opendata", "dump", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(opendata.FILES)
    dictionary = json.loads((out / "datadictionary.json").read_text())
    assert dictionary["licence"] == opendata.DEFAULT_LICENCE
    needs_fields = dictionary["files"]["needs"]
    assert all(set(f) == {"name", "th", "en", "type"} for f in needs_fields)
    rows = list(csv.DictReader(io.StringIO((out / "needs.csv").read_text("utf-8-sig"))))
    assert list(rows[0]) == [f["name"] for f in needs_fields]
    by_id = {row["tracking"]: row for row in rows}
    assert by_id[ids["public"]]["text"] == "ท่อระบายน้ำอุดตันหน้าตลาด"
    assert by_id[ids["private"]]["text"] == ""  # never published
    assert float(by_id[ids["private"]]["latitude"]) == snap(18.578391)
    records = json.loads((out / "needs.json").read_text())
    assert records["licence"] == opendata.DEFAULT_LICENCE and len(records["records"]) == 2
    [project] = json.loads((out / "projects.json").read_text())["records"]
    assert (project["name"], project["budget"], project["needs"], project["communities"]) == (
        "ลอกท่อ",
        150000.0,
        1,
        1,
    )
    for name in opendata.FILES:
        data = (out / name).read_text("utf-8-sig")
        for secret in (SECRET, "สมหญิง", "U" + "a" * 32, "18.578391", "user:1"):
            assert secret not in data, (name, secret)


def test_files_are_served_after_the_first_dump(app, client, make_submission):
    assert client.get("/opendata/").status_code == 404
    _world(app, make_submission)
    opendata.dump(app)
    index = client.get("/opendata/").get_json()
    assert index["licence"] == opendata.DEFAULT_LICENCE
    assert index["files"][0] == "http://localhost/opendata/needs.csv"
    status, content_type, _data = fetch(client, "/opendata/needs.csv")
    assert (status, content_type) == (200, "text/csv; charset=utf-8")
    projects = json.loads(fetch(client, "/opendata/projects.json")[2])
    assert projects["records"][0]["name"] == "ลอกท่อ"
    assert client.get("/opendata/secret.txt").status_code == 404
    assert client.get("/opendata/..%2finstance%2fsecret_key").status_code == 404


def test_worker_dumps_daily_and_again_after_an_erasure(app, client, make_submission):
    ids = _world(app, make_submission)
    assert opendata.run_if_due(app) == 1
    assert opendata.run_if_due(app) == 0  # once a day across workers
    listed = {
        r["tracking"] for r in json.loads(fetch(client, "/opendata/needs.json")[2])["records"]
    }
    assert ids["private"] in listed
    with session_factory(app)() as session:
        resident = session.query(Resident).one()
        erasure.erase_resident(session, resident, app.config["MEDIA_DIR"])
        session.commit()
    assert opendata.run_if_due(app) == 1  # brought forward by the erasure
    records = json.loads(fetch(client, "/opendata/needs.json")[2])["records"]
    assert ids["private"] not in {r["tracking"] for r in records}
    [project] = json.loads(fetch(client, "/opendata/projects.json")[2])["records"]
    assert project["needs"] == 0


def test_every_public_need_is_read_once_across_batches(app, make_submission):
    from storage.public import all_public_needs, public_needs

    with session_factory(app)() as session:
        for n in range(7):
            make_submission(session, text=f"ไฟดับ {n}")
        session.commit()
        newest_first = [need.tracking for need in public_needs(session, limit=100)]
        # Batches of 3 cross two boundaries; 7 is not a multiple of the batch.
        read = [need.tracking for need in all_public_needs(session, batch=3)]
        assert len(newest_first) == 7 and read == newest_first
        assert [n.tracking for n in all_public_needs(session, batch=7)] == newest_first

"""``ruamkid users`` commands."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli import main
from storage.staff import User, verify_password


def test_create_list_and_set_password(runner, session):
    result = runner.invoke(
        main,
        args=["users", "create", "Admin1", "--role", "admin", "--password-stdin"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        args=[
            "users",
            "create",
            "leader1",
            "--role",
            "leader",
            "--community",
            "ชุมชนจามเทวี",
            "--name",
            "ผู้นำ",
            "--password-stdin",
        ],
        input="another-password\n",
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(main, args=["users", "list"]).output
    assert "admin1\tadmin\t-\tactive" in listing
    assert "leader1\tleader\tชุมชนจามเทวี\tactive" in listing
    result = runner.invoke(
        main,
        args=["users", "set-password", "leader1", "--password-stdin"],
        input="changed-password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "leader1"))
    assert verify_password(user, "changed-password")
    assert not verify_password(user, "another-password")


def test_prompt_asks_twice(runner, session):
    result = runner.invoke(
        main,
        args=["users", "create", "staff1", "--role", "staff"],
        input="a-long-password\na-long-passwrd\na-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    # The second question only confirms, in Thai like the rest of the CLI; a mismatch asks again.
    assert result.output.count("รหัสผ่าน (password)") == 2
    assert result.output.count("พิมพ์รหัสผ่านเดิมอีกครั้งเพื่อยืนยัน") == 2
    assert "รหัสผ่านสองครั้งไม่ตรงกัน" in result.output
    assert "Repeat" not in result.output
    assert session.scalar(select(User).where(User.username == "staff1")) is not None


def test_refusals(runner, session):
    cases = [
        (["users", "create", "s1", "--role", "staff", "--password-stdin"], "short\n"),
        (["users", "create", "l1", "--role", "leader", "--password-stdin"], "a-long-password\n"),
        (
            [
                "users",
                "create",
                "l2",
                "--role",
                "leader",
                "--community",
                "ไม่มีชุมชนนี้",
                "--password-stdin",
            ],
            "a-long-password\n",
        ),
        (["users", "create", "x", "--role", "boss", "--password-stdin"], "a-long-password\n"),
        (["users", "set-password", "ghost", "--password-stdin"], "a-long-password\n"),
    ]
    for args, stdin in cases:
        result = runner.invoke(main, args=args, input=stdin)
        assert result.exit_code != 0, args
    assert session.query(User).count() == 0

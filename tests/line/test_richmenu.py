"""The rich menu: its picture, its JSON, and `ruamkid line setup-richmenu` against the stand-in."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from bot.cli import main
from bot.line import richmenu

WORDS = ["แจ้งเรื่อง", "ติดตามเรื่อง", "แบบสำรวจ", "ข้อมูลของฉัน"]


def test_font_comes_from_the_pypi_package():
    path = richmenu.font_path()
    assert path.suffix == ".ttf" and "fontpkg_noto_sans_thai" in str(path)


@pytest.mark.parametrize("size", [(2500, 843), (1200, 405)])
def test_picture_is_a_png_of_the_menu_size_with_four_tiles(size):
    image = Image.open(io.BytesIO(richmenu.draw_image(*size)))
    image.load()
    assert image.format == "PNG" and image.size == size
    width, height = size
    # Each quarter is its button's colour, with white words drawn on it.
    for index, button in enumerate(richmenu.BUTTONS):
        x = width * index // 4 + width // 8
        assert image.getpixel((x, height // 30 + 10)) == button.colour
        words_band = image.crop(
            (x - width // 10, int(height * 0.55), x + width // 10, int(height * 0.7))
        )
        assert (255, 255, 255) in {colour for _count, colour in words_band.getcolors(1 << 16)}
    assert len(richmenu.draw_image(*size)) < 1024 * 1024  # LINE takes at most 1 MB


def test_definition_has_four_message_areas_covering_the_picture():
    menu = richmenu.menu_definition()
    assert menu["size"] == {"width": 2500, "height": 843}
    assert len(menu["chatBarText"]) <= 14
    actions = [area["action"] for area in menu["areas"]]
    assert [a["text"] for a in actions] == WORDS
    assert all(a["type"] == "message" and len(a["label"]) <= 20 for a in actions)
    assert sum(area["bounds"]["width"] for area in menu["areas"]) == 2500
    assert all(area["bounds"]["height"] == 843 for area in menu["areas"])


def test_menu_words_are_commands_the_conversation_knows():
    from bot.residents.keywords import command_of

    assert [command_of(word) for word in WORDS] == ["report", "status", "survey", "my_data"]


def test_output_option_only_draws_the_picture(runner, tmp_path, line_api):
    target = tmp_path / "menu.png"
    result = runner.invoke(main, args=["line", "setup-richmenu", "--output", str(target)])
    assert result.exit_code == 0, result.output
    with Image.open(target) as image:
        assert image.size == (2500, 843)
    assert not [r for r, _ in line_api.server.log if "richmenu" in r.path]


def test_setup_creates_the_menu_uploads_the_picture_and_makes_it_default(runner, line_api):
    server = line_api.server
    server.expect_request("/v2/bot/richmenu", method="POST").respond_with_json(
        {"richMenuId": "richmenu-0123456789abcdef"}
    )
    server.expect_request(
        "/v2/bot/richmenu/richmenu-0123456789abcdef/content", method="POST"
    ).respond_with_json({})
    server.expect_request(
        "/v2/bot/user/all/richmenu/richmenu-0123456789abcdef", method="POST"
    ).respond_with_json({})
    result = runner.invoke(main, args=["line", "setup-richmenu"])
    assert result.exit_code == 0, result.output
    assert "richmenu-0123456789abcdef" in result.output
    log = {r.path: r for r, _ in server.log}
    created = json.loads(log["/v2/bot/richmenu"].get_data())
    assert [a["action"]["text"] for a in created["areas"]] == WORDS
    upload = log["/v2/bot/richmenu/richmenu-0123456789abcdef/content"]
    assert upload.headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(upload.get_data())) as image:
        assert image.size == (2500, 843)
    assert "/v2/bot/user/all/richmenu/richmenu-0123456789abcdef" in log


def test_setup_reports_a_refusal_clearly(runner, line_api):
    line_api.server.expect_request("/v2/bot/richmenu", method="POST").respond_with_json(
        {"message": "invalid"}, status=400
    )
    result = runner.invoke(main, args=["line", "setup-richmenu"])
    assert result.exit_code != 0
    assert "400" in result.output

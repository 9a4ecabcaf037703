"""The rich menu under the chat: four large buttons, its picture drawn by the project.

The buttons are *message* actions: pressing one sends its words (แจ้งเรื่อง, ติดตามเรื่อง,
แบบสำรวจ, ข้อมูลของฉัน) as if the resident typed them, so the menu, typing and the simulator
all go through the same conversation path, and the resident sees in the chat what they asked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 2500, 843
CHAT_BAR_TEXT = "เมนู"
MENU_NAME = "ruamkid-main"
FONT_PACKAGE = "fontpkg_noto_sans_thai"


@dataclass(frozen=True)
class MenuButton:
    """One area of the menu: the words it sends, a short hint under them, its colour."""

    words: str
    hint: str
    colour: tuple[int, int, int]
    icon: str


BUTTONS = (
    MenuButton("แจ้งเรื่อง", "ปัญหาหรือความต้องการ", (22, 120, 82), "speech"),
    MenuButton("ติดตามเรื่อง", "ดูสถานะเรื่องที่แจ้ง", (29, 92, 160), "search"),
    MenuButton("แบบสำรวจ", "ตอบคำถามของชุมชน", (176, 92, 20), "check"),
    MenuButton("ข้อมูลของฉัน", "ดูหรือลบข้อมูล", (110, 64, 150), "person"),
)


def font_path() -> Path:
    """Return the Noto Sans Thai font file shipped by the ``fontpkg-noto-sans-thai`` package."""
    folder = resources.files(FONT_PACKAGE)
    fonts = sorted(Path(str(folder)).rglob("*.ttf"))
    if not fonts:
        raise FileNotFoundError(f"no .ttf file inside the {FONT_PACKAGE} package")
    return fonts[0]


@lru_cache(maxsize=16)
def _font(size: int, weight: str = "Bold") -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(font_path()), size, layout_engine=ImageFont.Layout.RAQM)
    try:
        font.set_variation_by_name(weight)
    except (OSError, ValueError):
        pass  # a static font has no named styles; its one weight will do
    return font


def _areas(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Return the four areas (x, y, width, height), side by side."""
    step = width // len(BUTTONS)
    return [
        (i * step, 0, step if i < len(BUTTONS) - 1 else width - i * step, height)
        for i in range(len(BUTTONS))
    ]


def menu_definition(width: int = WIDTH, height: int = HEIGHT) -> dict[str, Any]:
    """Return the rich menu as LINE's JSON (areas send their words as a message)."""
    return {
        "size": {"width": width, "height": height},
        "selected": True,
        "name": MENU_NAME,
        "chatBarText": CHAT_BAR_TEXT,
        "areas": [
            {
                "bounds": {"x": x, "y": y, "width": w, "height": h},
                "action": {"type": "message", "label": button.words, "text": button.words},
            }
            for button, (x, y, w, h) in zip(BUTTONS, _areas(width, height), strict=True)
        ],
    }


def draw_image(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Draw the menu picture (PNG): a coloured tile per button with an icon and large words."""
    scale = width / WIDTH
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for button, (x, y, w, h) in zip(BUTTONS, _areas(width, height), strict=True):
        margin = round(12 * scale)
        draw.rounded_rectangle(
            (x + margin, y + margin, x + w - margin, y + h - margin),
            radius=round(40 * scale),
            fill=button.colour,
        )
        centre_x = x + w // 2
        _icon(
            draw, button.icon, centre_x, y + round(250 * scale), round(120 * scale), button.colour
        )
        title = _fitting_font(draw, button.words, w - 4 * margin, round(118 * scale))
        draw.text(
            (centre_x, y + round(530 * scale)), button.words, font=title, fill="white", anchor="mm"
        )
        hint = _fitting_font(draw, button.hint, w - 4 * margin, round(56 * scale), "Regular")
        draw.text(
            (centre_x, y + round(680 * scale)),
            button.hint,
            font=hint,
            fill=(235, 240, 245),
            anchor="mm",
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _fitting_font(
    draw: ImageDraw.ImageDraw, text: str, max_width: int, size: int, weight: str = "Bold"
) -> ImageFont.FreeTypeFont:
    """Return the largest font up to ``size`` in which ``text`` fits ``max_width``."""
    while size > 10:
        font = _font(size, weight)
        left, _top, right, _bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_width:
            return font
        size -= 4
    return _font(size, weight)


def _icon(
    draw: ImageDraw.ImageDraw, kind: str, cx: int, cy: int, r: int, ink: tuple[int, int, int]
) -> None:
    """Draw a simple white pictogram centred on (cx, cy) with radius ``r``."""
    white = "white"
    line = max(4, r // 8)
    if kind == "speech":
        draw.rounded_rectangle((cx - r, cy - r * 3 // 4, cx + r, cy + r // 2), r // 3, fill=white)
        draw.polygon([(cx - r // 2, cy + r // 3), (cx - r // 2, cy + r), (cx, cy + r // 3)], white)
        for dx in (-r // 2, 0, r // 2):
            draw.ellipse(
                (cx + dx - line, cy - r // 8 - line, cx + dx + line, cy - r // 8 + line), fill=ink
            )
    elif kind == "search":
        lens = r * 2 // 3
        draw.ellipse(
            (cx - r, cy - r, cx - r + 2 * lens, cy - r + 2 * lens), outline=white, width=line * 2
        )
        start = (cx - r + lens + lens * 7 // 10, cy - r + lens + lens * 7 // 10)
        draw.line([start, (cx + r, cy + r)], fill=white, width=line * 3)
    elif kind == "check":
        draw.rounded_rectangle(
            (cx - r * 3 // 4, cy - r, cx + r * 3 // 4, cy + r), r // 6, outline=white, width=line
        )
        for row in (-r // 2, 0, r // 2):
            draw.line(
                [
                    (cx - r // 2, cy + row),
                    (cx - r // 3, cy + row + r // 6),
                    (cx, cy + row - r // 6),
                ],
                fill=white,
                width=line,
            )
            draw.line([(cx + r // 8, cy + row), (cx + r // 2, cy + row)], fill=white, width=line)
    else:  # person
        head = r * 2 // 5
        draw.ellipse((cx - head, cy - r, cx + head, cy - r + 2 * head), fill=white)
        draw.pieslice((cx - r, cy - r // 6, cx + r, cy + r * 11 // 6), 180, 360, fill=white)


def setup_rich_menu(api: Any, width: int = WIDTH, height: int = HEIGHT) -> str:
    """Create the menu through the LINE API (``bot.line.api.LineApi``), make it the default,
    and return its id."""
    return api.create_rich_menu(menu_definition(width, height), draw_image(width, height))

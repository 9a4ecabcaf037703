"""The project's own rich menu (definition and picture) against Prism serving LINE's spec."""

from __future__ import annotations

import pytest

from bot.line import richmenu
from bot.line.api import LineApi


@pytest.mark.prism
@pytest.mark.parametrize("size", [(2500, 843), (1200, 405)])
def test_the_projects_rich_menu_passes_lines_contract(prism_url, size):
    api = LineApi("contract-test-token", host=prism_url, timeout=10)
    try:
        assert richmenu.setup_rich_menu(api, *size)
    finally:
        api.close()

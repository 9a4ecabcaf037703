"""Builders of the plan's official forms (ผ.01, ผ.02) and of submission exports.

Pure functions: they take plain values (dataclasses, dicts) and return openpyxl workbooks or
bytes, so they are tested without Flask or a database.
"""

from bot.spreadsheets import csv_safe
from bot.staff.exports.forms import PlanOutline, PlanRow, build_p01, build_p02
from bot.staff.exports.submissions import (
    SUBMISSION_COLUMNS,
    iter_submissions_csv,
    submissions_csv,
    submissions_xlsx,
)

__all__ = [
    "SUBMISSION_COLUMNS",
    "PlanOutline",
    "PlanRow",
    "build_p01",
    "build_p02",
    "csv_safe",
    "iter_submissions_csv",
    "submissions_csv",
    "submissions_xlsx",
]

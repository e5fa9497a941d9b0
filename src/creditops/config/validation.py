"""Turn pydantic validation errors into one line that names the file, the key and what is wrong."""

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from creditops.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def read_config_text(path: Path, label: str = "") -> str:
    """The text of config file `path`, or a one-line ConfigError when it is not UTF-8 (as YAML and JSON are)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{label}{path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}):"
            " save it as UTF-8"
        ) from None


def validated(model: type[Model], payload: object, source: Path, label: str = "") -> Model:
    """`payload` as `model`, or a one-line ConfigError naming the file and every bad key."""
    if not isinstance(payload, dict):
        raise ConfigError(f"{label}{source} must hold an object of settings, not {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ConfigError(f"{label}{source}: {describe(error)}") from error


def describe(error: ValidationError) -> str:
    """All problems of a validation error on one line: `key.path: message; …`."""
    return "; ".join(problems(error))


def problems(error: ValidationError) -> list[str]:
    """Each problem of a validation error as `key.path: message` (the message alone for the whole file)."""
    found = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        found.append(f"{key}: {message}" if key else message)
    return found

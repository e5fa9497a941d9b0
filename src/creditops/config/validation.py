"""Turn pydantic validation errors into one line that names the file, the key and what is wrong."""

from pydantic import ValidationError


def describe(error: ValidationError) -> str:
    """All problems of a validation error on one line: `key.path: message; …`."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{key}: {message}")
    return "; ".join(problems)

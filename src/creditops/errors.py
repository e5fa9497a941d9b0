"""The errors a user can fix: each carries a one-line message that names what is wrong."""


def first_line(error: BaseException) -> str:
    """An error's message in one line, for a one-line refusal (its type's name when it has no message)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class CreditopsError(Exception):
    """A failure the user can act on; its message is shown as one line, without a traceback."""

    exit_code = 1


class TooLittleEvidenceError(CreditopsError):
    """A monitoring check has too few rows or outcomes to judge: not a finding either way."""


class ConfigError(CreditopsError):
    """A configuration file or option is missing or invalid."""

    exit_code = 2


class DataError(CreditopsError):
    """Input data cannot be read or fails its checks."""

"""The errors a user can fix: each carries a one-line message that names what is wrong."""


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

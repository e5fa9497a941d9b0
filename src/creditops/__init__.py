"""creditops: a deploy-code MLOps reference system for a credit-default model."""

__version__ = "0.1.0"

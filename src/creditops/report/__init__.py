"""The model card: a self-contained HTML report of a model."""

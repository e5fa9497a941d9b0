"""The one seam to MLflow: the store, runs, the model registry, aliases and lineage tags."""

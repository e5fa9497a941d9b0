"""Where work runs: this process, or a Dask cluster (`--cluster ADDRESS|local:N`).

`cluster` connects (or starts a local cluster); `scoring` scores partitioned Parquet on it; `training`
checks, splits and trains there for the pipeline. The only package that imports Dask, and only when a
command is given a cluster.
"""

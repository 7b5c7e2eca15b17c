"""Engines that run the library's per-record work on a cluster, with one machine's results.

[`finetune_kit.engines.dask`][] validates, counts, redacts and deduplicates JSONL files,
Parquet files and Dask collections partition by partition on a Dask cluster, and merges the
partitions' states as the one-machine byte-range pass does: same findings, line numbers,
totals and outputs. It needs the ``dask`` extra (``pip install 'finetune-kit[dask]'``); nothing
imports Dask until one of its functions is called.
"""

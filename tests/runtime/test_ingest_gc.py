"""The ingest run raises the collector's first threshold while it runs and restores it."""

from __future__ import annotations

import gc

from yuqing.gc_tuning import young_collections_for_batches


def test_threshold_raised_during_runs_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, before[1], before[2])
        with young_collections_for_batches(2000):
            assert gc.get_threshold()[0] == 100_000  # 50 tracked objects per post of a batch
            with young_collections_for_batches(10):  # a concurrent run with small batches
                assert gc.get_threshold()[0] == 100_000  # never lowered by another run
            assert gc.get_threshold()[0] == 100_000
        assert gc.get_threshold() == (700, before[1], before[2])
        with young_collections_for_batches(1):  # the threshold is never lowered
            assert gc.get_threshold()[0] == 700
        gc.set_threshold(500_000, before[1], before[2])
        with young_collections_for_batches(2000):
            assert gc.get_threshold()[0] == 500_000
        assert gc.get_threshold()[0] == 500_000
    finally:
        gc.set_threshold(*before)

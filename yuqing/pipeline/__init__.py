"""Pipeline stages: small objects with one ``process`` method over a batch."""

from yuqing.pipeline.stage import Pipeline, Stage

__all__ = ["Pipeline", "Stage"]

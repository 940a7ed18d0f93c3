"""Monitoring plans (监测方案): named sets of keyword rules, sources with their polling
schedule, regions of interest and the channels to notify, made in the UI, the API or a
YAML file, and polled politely.

- :mod:`yuqing.plans.config`: the ``[plans]`` settings;
- :mod:`yuqing.plans.errors`: PlanError, PlanSecretError, PlanExistsError;
- :mod:`yuqing.plans.plan`: the Plan, its checks and its dict form (as stored);
- :mod:`yuqing.plans.guard`: refuses payloads that carry secrets;
- :mod:`yuqing.plans.service`: save and read plans, their sources' health (API, page, CLI);
- :mod:`yuqing.plans.rules`: a plan's rules as the alert engine's rules;
- :mod:`yuqing.plans.politeness`: per-host rate limit, backoff with jitter, Retry-After;
- :mod:`yuqing.plans.fetch`: conditional GET with httpx;
- :mod:`yuqing.plans.sources`: feed and page sources over a fetched body;
- :mod:`yuqing.plans.poller`: polls due sources through the pipeline into the store;
- :mod:`yuqing.plans.runner`: the poller inside ``yuqing run`` and ``yuqing serve``.

This package's ``__init__`` imports nothing, so settings can import
:mod:`yuqing.plans.config` cheaply. docs/plans.md describes the whole.
"""

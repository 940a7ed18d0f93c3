"""Drills (實戰演練): scenarios that replay an unfolding incident in accelerated time.

- :mod:`yuqing.drill.scenario`: the YAML format, validation, the built-in scenarios;
- :mod:`yuqing.drill.generator`: realistic Chinese posts for a scenario, deterministic
  for a seed;
- :mod:`yuqing.drill.replay`: the :class:`~yuqing.drill.replay.AcceleratedClock` and
  :func:`~yuqing.drill.replay.run_drill`, which plays a scenario into its own store
  through the real pipeline.

Scoring of the trainee's actions comes later (docs/drills.md).
"""

from yuqing.drill.scenario import (
    Scenario,
    ScenarioInfo,
    list_scenarios,
    load_scenario,
    validate_command,
)

__all__ = ["Scenario", "ScenarioInfo", "list_scenarios", "load_scenario", "validate_command"]

"""Drills (實戰演練): scenarios that replay an unfolding incident in accelerated time.

- :mod:`yuqing.drill.scenario`: the YAML format, validation, the built-in scenarios;
- :mod:`yuqing.drill.generator`: realistic Chinese posts for a scenario, deterministic
  for a seed;
- :mod:`yuqing.drill.replay`: the :class:`~yuqing.drill.replay.AcceleratedClock` and
  :func:`~yuqing.drill.replay.run_drill`, which plays a scenario into its own store
  through the real pipeline.

- :mod:`yuqing.drill.scoring`: the trainee's score from the drill's store (alerts
  acknowledged, case opened, first statement against its deadline and its check, the
  briefing), as JSON and an HTML report.
"""

from yuqing.drill.scenario import (
    Scenario,
    ScenarioInfo,
    list_scenarios,
    load_scenario,
    validate_command,
)

__all__ = ["Scenario", "ScenarioInfo", "list_scenarios", "load_scenario", "validate_command"]

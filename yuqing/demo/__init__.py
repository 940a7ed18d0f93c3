"""``yuqing demo``: a drill scenario played into an SQLite store, its start at once and
the rest live while the dashboard is served.

- :mod:`yuqing.demo.story`: the scenario's posts (drill generator), thinned and cut;
- :mod:`yuqing.demo.live`: the demo clock and the feed (at once, then a replay thread);
- :mod:`yuqing.demo.monitor`: the demo's alert rules on scenario time;
- :mod:`yuqing.demo.summary`: the printed summary;
- :mod:`yuqing.demo.command`: the command itself (ingest, print, serve);
- :mod:`yuqing.demo.scenario`: the older compact generator, kept as the test fixture.
"""

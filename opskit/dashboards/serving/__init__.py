"""Serving the dashboards: the served folder, the warm-up and the Voila process.

- :mod:`~opskit.dashboards.serving.files`: ``notebooks/dashboards/``, the chart
  bundle Voila serves, notebook trust, the dashboard URLs;
- :mod:`~opskit.dashboards.serving.warm`: ``precompute``, what is stored before
  (and, for the filter grid, while) Voila serves;
- :mod:`~opskit.dashboards.serving.process`: the Voila process ``opskit dashboard``
  runs.

Nothing is imported here, so each process imports only what it runs.
"""

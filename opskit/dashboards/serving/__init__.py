"""Serving the dashboards: the served folder, the warm-up, the Voila process tree.

- :mod:`~opskit.dashboards.serving.files`: ``notebooks/dashboards/``, the chart
  bundle Voila serves, notebook trust, the dashboard URLs;
- :mod:`~opskit.dashboards.serving.warm`: ``prepare`` and ``precompute``, what is
  stored before (and, for the filter grid, while) Voila serves;
- :mod:`~opskit.dashboards.serving.process`: ``DashboardServer``, Voila and every
  process it starts as one unit (started, checked, stopped), and ``run``, the
  lifecycle of ``opskit dashboard``;
- :mod:`~opskit.dashboards.serving.app`: the Voila application of the server
  process (a kernel limit, a busy page, a status route, an index page).

Nothing is imported here, so each process imports only what it runs.
"""

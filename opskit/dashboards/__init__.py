"""The dashboards: board views stored per warehouse build, ipywidgets pages, Voila serving.

One module per concern; each imports only the ones below it::

    widgets      ipywidgets pages a viewer kernel runs (ops_overview, service_health)
    views        board_view: a stored page, else built once and stored
    builders     KPI cards and the page of each board       charts   their Altair charts
    data         frames a page is built from, precomputed tables
    store        board views and tables per warehouse build (cache keys)
    filters      the filter bar's state and date windows

    serving/     files (notebooks, chart bundle, URLs), warm (precompute), process
                 (the supervised Voila process tree), app (the Voila server itself)

Import what you use from its module (``from opskit.dashboards import widgets``):
this package imports nothing itself, so a viewer kernel never loads Altair, the
catalog or Voila's server code.
"""

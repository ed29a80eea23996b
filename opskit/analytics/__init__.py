"""Analytics: pure functions on DataFrames (never imports a connector)."""

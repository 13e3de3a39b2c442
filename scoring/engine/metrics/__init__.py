"""Metric implementations, grouped by dimension; each returns MetricValue objects named as in the catalog."""

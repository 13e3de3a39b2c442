"""Automatic scoring: the pure engine (scoring/engine) and its Django glue (models, tasks, services)."""

"""Suites, prompts, models, submissions and the public pages."""

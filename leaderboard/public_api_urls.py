"""REST API routes of the public leaderboard (anonymous, read-only): the table and the per-prompt scores."""

from django.urls import path

from leaderboard import public_api

urlpatterns = [
    path("leaderboard/", public_api.LeaderboardApi.as_view(), name="public-leaderboard"),
    path("leaderboard/prompts/", public_api.PromptScoresApi.as_view(), name="public-prompt-scores"),
]

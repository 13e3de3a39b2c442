"""Forms of the curator pages: create a campaign, invite annotators."""

from __future__ import annotations

from typing import Any

from django import forms

from annotation.models import DEFAULT_GUIDELINES, JUDGED_DIMENSIONS, Campaign
from leaderboard.models import ModelEntry, Suite


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    suite = forms.ModelChoiceField(queryset=Suite.objects.all())
    entries = forms.ModelMultipleChoiceField(
        queryset=ModelEntry.objects.all(), widget=forms.CheckboxSelectMultiple, label="Models",
        help_text="only their latest public, scored submission on the suite is shown to annotators",
    )
    overlap = forms.IntegerField(min_value=1, max_value=50, initial=3, help_text="annotators per pair")
    gold_rate = forms.FloatField(min_value=0, max_value=0.5, initial=0.1, help_text="share of tasks that are gold pairs")
    attention_rate = forms.FloatField(min_value=0, max_value=0.5, initial=0.05, help_text="share of attention checks")
    daily_limit = forms.IntegerField(min_value=1, initial=200, help_text="tasks per annotator per UTC day")
    enrollment = forms.ChoiceField(choices=Campaign.Enrollment.choices, initial=Campaign.Enrollment.INVITE)
    lock_ttl_s = forms.IntegerField(min_value=30, initial=900, label="Lock TTL (s)", help_text="how long a served task stays reserved")
    min_watch_ratio = forms.FloatField(
        min_value=0, max_value=1, initial=1.0, help_text="share of the clips' length that must pass before voting"
    )
    invite = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="usernames of annotators to invite, comma or line separated"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for dimension in JUDGED_DIMENSIONS:
            self.fields[f"ask_{dimension}"] = forms.BooleanField(
                required=False, initial=dimension in ("overall", "video", "audio", "sync"), label=f"Ask {dimension}"
            )
            self.fields[f"guideline_{dimension}"] = forms.CharField(
                required=False, max_length=300, initial=DEFAULT_GUIDELINES[dimension], label=f"{dimension} guideline"
            )

    def dimension_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"ask_{d}"], self[f"guideline_{d}"]) for d in JUDGED_DIMENSIONS]

    def dimensions(self) -> list[dict[str, str]]:
        return [
            {"dimension": d, "guideline": self.cleaned_data.get(f"guideline_{d}", "")}
            for d in JUDGED_DIMENSIONS
            if self.cleaned_data.get(f"ask_{d}")
        ]


def usernames_parse(text: str) -> list[str]:
    return [name for name in (part.strip() for part in text.replace("\n", ",").split(",")) if name]

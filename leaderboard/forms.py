"""Browser forms: register a model, upload a submission archive."""

from __future__ import annotations

from django import forms

from leaderboard.models import ModelEntry, Suite


class ModelEntryForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = ModelEntry
        fields = ["name", "organisation", "url", "license", "is_open", "paradigm", "task", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class SubmissionUploadForm(forms.Form):
    suite = forms.ModelChoiceField(queryset=Suite.objects.all(), empty_label=None)
    model = forms.ModelChoiceField(queryset=ModelEntry.objects.none(), empty_label=None)
    archive = forms.FileField(
        help_text="A .zip or .tar.gz with one clip per prompt, named after the prompt id: dialogue-001.mp4 "
        "(or .mov, .mkv, .webm), optionally with a manifest.json."
    )
    is_public = forms.BooleanField(required=False, initial=True, label="Show on the public leaderboard once scored")

    def __init__(self, *args, models, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = models

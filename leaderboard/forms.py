"""Browser forms: sign up, register and edit a model, upload a submission archive, name a token, hide a submission."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from leaderboard.models import ModelEntry, Suite
from leaderboard.roles import SIGNUP_ROLES, Role

ROLE_HELP = {
    Role.RESEARCHER: "researcher: register models and submit their clips for scoring",
    Role.ANNOTATOR: "annotator: compare clips side by side and judge which is better",
}


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True)
    role = forms.ChoiceField(
        choices=[(role.value, ROLE_HELP[role]) for role in SIGNUP_ROLES],
        widget=forms.RadioSelect,
        help_text="Curators are appointed by the platform's staff.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class ModelEntryForm(forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https", label="URL", help_text="the model's paper, code or product page")
    is_open = forms.BooleanField(required=False, label="Open weights", help_text="tick if anyone can download the weights")

    class Meta:
        model = ModelEntry
        fields = ["name", "organisation", "url", "license", "is_open", "paradigm", "task", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ModelEntryEditForm(ModelEntryForm):
    """The name stays as registered: it identifies the model in rankings and human judgments."""

    class Meta(ModelEntryForm.Meta):
        fields = ["organisation", "url", "license", "is_open", "paradigm", "task", "description"]


class SubmissionUploadForm(forms.Form):
    suite = forms.ModelChoiceField(queryset=Suite.objects.all(), empty_label=None)
    model = forms.ModelChoiceField(queryset=ModelEntry.objects.none(), empty_label=None)
    archive = forms.FileField(
        help_text="A .zip or .tar.gz with one clip per prompt, named after the prompt id: dialogue-001.mp4 "
        "(or .mov, .mkv, .webm), optionally with a manifest.json."
    )
    is_public = forms.BooleanField(
        required=False,
        initial=False,
        label="Publish on the public leaderboard once scored (otherwise it stays private until you publish it)",
    )

    def __init__(self, *args, models, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = models


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="e.g. the machine or script that uses it")


class HideForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="shown to the submission's owner")

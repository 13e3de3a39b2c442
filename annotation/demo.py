"""The demo's annotation campaign: every demo model on the demo suite, the demo annotator invited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation import services
from annotation.models import Campaign, CampaignMember
from leaderboard.models import ModelEntry, Suite

DEMO_CAMPAIGN_NAME = "Demo study"
DEMO_ANNOTATOR = "annotator"


@transaction.atomic
def demo_campaign_ensure(*, suite: Suite) -> Campaign | None:
    """Create the demo campaign once (idempotent). Its pairs appear as the demo submissions get scored
    (the annotator page re-syncs them), and its gold/attention pairs are made by a worker task then."""
    campaign = Campaign.objects.filter(name=DEMO_CAMPAIGN_NAME).first()
    entries = list(ModelEntry.objects.filter(submissions__suite=suite).distinct())
    if campaign is None:
        if len(entries) < 2:
            return None
        campaign = services.campaign_create(
            name=DEMO_CAMPAIGN_NAME,
            suite=suite,
            entries=entries,
            dimensions={"overall": "", "video": "", "audio": "", "shot": "", "sync": ""},
            overlap=3,
            gold_rate=0.1,
            attention_rate=0.05,
            daily_limit=300,
            enrollment=Campaign.Enrollment.INVITE,
        )
    else:
        campaign.entries.add(*entries)
    annotator = get_user_model().objects.filter(username=DEMO_ANNOTATOR).first()
    if annotator is not None:
        CampaignMember.objects.get_or_create(campaign=campaign, user=annotator)
    return campaign

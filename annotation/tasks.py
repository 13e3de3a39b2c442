"""Celery tasks of the annotation app: make quality-control pairs, run the anomaly test on an annotator."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from annotation.models import Campaign, CampaignMember


@shared_task(
    name="annotation.qc_pairs_generate",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=1200,
)
def qc_pairs_generate(campaign_id: int) -> None:
    from annotation.quality_services import qc_pairs_generate as generate

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return
    generate(campaign=campaign)


@shared_task(
    name="annotation.anomaly_check",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
)
def anomaly_check(member_id: int) -> None:
    from annotation.quality_services import member_anomaly_check

    member = CampaignMember.objects.select_related("campaign").filter(pk=member_id).first()
    if member is None:
        return
    member_anomaly_check(member=member)


@shared_task(
    name="annotation.campaign_pairs_sync",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
)
def campaign_pairs_sync(campaign_id: int) -> None:
    from annotation import services

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return
    services.campaign_pairs_sync(campaign=campaign)

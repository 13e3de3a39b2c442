"""python manage.py make_qc_pairs CAMPAIGN: make the campaign's gold and attention pairs now (PyAV, in this process)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Campaign, Pair
from annotation.quality_services import ATTENTION_PAIRS_TARGET, GOLD_PAIRS_TARGET, qc_pairs_generate


class Command(BaseCommand):
    help = (
        "Top a campaign up to N gold pairs (a clip beside a copy with heavy blur, grain, hiss and its sound 400 ms "
        "late) and M attention pairs (beside a black, silent copy)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign id or name")
        parser.add_argument("--gold", type=int, default=GOLD_PAIRS_TARGET)
        parser.add_argument("--attention", type=int, default=ATTENTION_PAIRS_TARGET)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: object, campaign: str, gold: int, attention: int, seed: int | None, **options: object) -> None:
        found = Campaign.objects.filter(pk=int(campaign)).first() if campaign.isdigit() else None
        found = found or Campaign.objects.filter(name=campaign).first()
        if found is None:
            raise CommandError(f"campaign {campaign!r}: no such campaign (give its id or exact name)")
        created = qc_pairs_generate(campaign=found, gold=gold, attention=attention, seed=seed)
        have = {kind: found.pairs.filter(kind=kind).count() for kind in (Pair.Kind.GOLD, Pair.Kind.ATTENTION)}
        self.stdout.write(
            f"campaign {found.name!r}: made {created['gold']} gold and {created['attention']} attention pair(s); "
            f"it now has {have['gold']} gold and {have['attention']} attention pair(s)"
        )

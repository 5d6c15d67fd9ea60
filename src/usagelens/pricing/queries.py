"""What pricing needs from storage: the narrow interface every backend implements."""

from datetime import date
from typing import Protocol

from usagelens.pricing.ratecard import RateCard


class RateCardQueries(Protocol):
    def set_rate_card(self, tenant_id: int, effective_from: date, card: RateCard) -> None:
        """Store the version of the tenant's rate card in force from ``effective_from`` (a date
        of the tenant's zone); a version already set for that date is replaced."""
        ...

    def rate_cards(self, tenant_id: int) -> list[tuple[date, RateCard]]:
        """Every version of the tenant's rate card, sorted by date; ``[]`` when none is set
        (the tenant then gets `DEFAULT_RATE_CARD`, see `rate_card_versions`)."""
        ...

"""Money: rate cards, effective-dated per tenant (BRIEF §4)."""

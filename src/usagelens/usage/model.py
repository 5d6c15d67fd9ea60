"""The vocabulary of the usage-over-time API."""

from typing import Literal

Dimension = Literal["agent", "subaccount", "type"]
DIMENSIONS: tuple[Dimension, ...] = ("agent", "subaccount", "type")

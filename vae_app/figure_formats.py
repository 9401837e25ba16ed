"""How the app writes a model's figures, one way on every page: nats to a tenth where models are
listed (the sidebar's card, Home, a run's end) or a hundredth where they are studied, and 5-NN
accuracy as a percentage to a tenth (81.4%), with a dash for what was not measured."""

from __future__ import annotations

NATS_FORMAT = "%.1f"  # for st.column_config: a tenth of a nat is below what tells two models apart
ACCURACY_FORMAT = "percent"


def nats(value: float | None, decimals: int = 2) -> str:
    """A metric in nats; a dash where the run stopped before it was measured."""
    return "—" if value is None else f"{value:.{decimals}f}"


def accuracy(value: float | None) -> str:
    """A 5-NN accuracy as a percentage; a dash where it was not measured (a conditional model's)."""
    return "—" if value is None else f"{value:.1%}"

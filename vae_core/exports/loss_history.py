"""A run's losses per epoch as CSV, for a spreadsheet or pandas: made from the history meta.json already
holds, so that every bundle, the shipped ones included, offers it as it is."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

# The VAE's terms in the order the charts show them; any other loss follows them.
TERMS = ("loss", "reconstruction_loss", "kl_loss")


def history_csv(history: Sequence[Mapping[str, float]]) -> str:
    """A header (epoch, the training losses, then their validation twins), then a row per epoch, each
    value as the history holds it; a loss an epoch lacks is left empty."""
    names = list(dict.fromkeys(name for record in history for name in record if name.endswith("loss")))
    names.sort(key=_column_order)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["epoch", *names])
    for record in history:
        writer.writerow([int(record["epoch"]), *(record.get(name, "") for name in names)])
    return stream.getvalue()


def _column_order(name: str) -> tuple[bool, int, str]:
    """Training before validation, then the VAE's terms first."""
    term = name.removeprefix("val_")
    return name.startswith("val_"), TERMS.index(term) if term in TERMS else len(TERMS), term

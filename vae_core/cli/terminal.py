"""What both command-line programs print while and after they measure a model: the evaluation's
progress and the test figures, for a terminal or a log."""

from __future__ import annotations

from vae_core.training.events import EvaluationProgress, Event


class EvaluationPrinter:
    """Listens to a run for its test-set evaluation's progress and prints it: one updating line on a
    terminal, else every 10%."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.shown = tty, -1

    def __call__(self, event: Event) -> None:
        if not isinstance(event, EvaluationProgress):
            return
        percent = int(event.fraction * 100)
        if self.tty and percent != self.shown:
            print(f"\rEvaluating on the test set: {percent}%", end="\n" if percent == 100 else "", flush=True)
        elif not self.tty and percent // 10 != self.shown // 10:
            print(f"Evaluating on the test set: {percent // 10 * 10}%", flush=True)
        self.shown = percent


def format_metrics(metrics: dict) -> str:
    """Metrics as aligned 'name  value' lines for a terminal; 'not measured' where evaluation was stopped."""
    return "\n".join(
        f"  {name:<20} {value:.4f}"
        if isinstance(value, float)
        else f"  {name:<20} {'not measured' if value is None else value}"
        for name, value in metrics.items()
    )

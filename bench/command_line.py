"""The command that repeats a benchmark's run, printed beside its results so that anyone can run it again
with the same settings, the defaults spelled out too."""

from __future__ import annotations

import argparse
import shlex
import sys


def repeat_command(module: str, args: argparse.Namespace) -> str:
    """`python -m module` with each option as the run took it, under the flag its setting is named for
    (`--run-timeout` for `run_timeout`): a switch where it is on, a list joined by commas, a float as
    `:g` writes it, and `--server-python` only where it is not this interpreter."""
    words = ["python", "-m", module]
    for setting, value in vars(args).items():
        flag = "--" + setting.replace("_", "-")
        if isinstance(value, bool):
            words += [flag] if value else []
        elif setting != "server_python" or value != sys.executable:
            spelled = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
            words += [flag, f"{spelled:g}" if isinstance(spelled, float) else str(spelled)]
    return f"command: {shlex.join(words)}"

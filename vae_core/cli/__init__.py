"""The command-line programs: `python -m vae_core.cli.train` and `python -m vae_core.cli.evaluate`."""

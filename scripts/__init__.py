"""Scripts that build what the repository ships: `python -m scripts.build_pretrained`."""

"""A trained model on disk: the bundle (model, metadata, atlas, replay, browser decoder), its checks,
archives and the registry of every bundle a folder holds."""

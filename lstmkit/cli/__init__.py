"""Command-line interface: one module per command group, wired in :mod:`lstmkit.cli.main`."""

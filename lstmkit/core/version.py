"""The lstmkit version (in core, so that core never imports the root package)."""

__version__ = "0.1.0"

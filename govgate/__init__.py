"""govgate: a deployment-governance gate for CI."""

__version__ = "0.1.0"

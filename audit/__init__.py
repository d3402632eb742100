"""tenant-audit: audit tenant data isolation and write evidence an auditor can sign."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tenant-audit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

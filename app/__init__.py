"""Huashu (话术): a scripted customer-service conversation engine."""

__version__ = "0.1.0"

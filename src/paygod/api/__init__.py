"""The HTTP edge: a thin FastAPI layer over the domain services."""

from paygod.api.app import create_app

__all__ = ["create_app"]

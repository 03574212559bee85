"""The command line edge: a thin Typer layer, one command group per module."""

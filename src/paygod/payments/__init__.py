"""Payments: payment lifecycle, rail router (fees, speed, limits, fallback), rail connectors."""

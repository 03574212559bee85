"""Mandates: what a human principal allows an agent principal to spend, signed, held
against and revocable; AP2 v0.2 credentials; RFC 9421 signed agent requests.

Public names: `MandateService` (service.py), `Mandate`, `Constraints` (model.py),
`build_mandates` (wiring.py). See README.md for the ports and who may import what.
"""

from paygod.mandates.model import Constraints, Mandate, MandateStatus
from paygod.mandates.service import MandateService

__all__ = ["Constraints", "Mandate", "MandateService", "MandateStatus"]
